import { closeSync, mkdirSync, openSync, readFileSync, ftruncateSync, writeSync } from 'node:fs';
import { PermissionError, TimeoutError } from '../contract/errors.ts';
import { log } from './log.ts';

// A kernel flock(2) on a per-resource file: it is released by the kernel
// when the holder dies, however it dies, so a lock left by a dead PID is
// simply free again. No PID files to go stale, no takeover races.

const LOCK_EX = 2;
const LOCK_NB = 4;
const POLL_MS = 10;

export interface ResourceLock {
  path: string;
  release(): void;
}

export function lockDirectory(env: NodeJS.ProcessEnv): string {
  return `${env.HA_RSCTMP || '/run/resource-agents'}/ha-resource-agents`;
}

/** FNV-1a: distinct keys that sanitise to the same file name still get distinct locks. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

export function lockPath(env: NodeJS.ProcessEnv, agent: string, key: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${lockDirectory(env)}/${agent}.${readable}.${shortHash(key)}.lock`;
}

type TryLock = (fd: number) => boolean;

async function tryLockFunction(): Promise<TryLock> {
  if (process.versions.bun) {
    const { dlopen, FFIType } = await import('bun:ffi');
    const libc = dlopen('libc.so.6', { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    return (fd) => libc.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0;
  }
  // Node has no flock(2); flock(1) locks the open file description we hand it as fd 3, which we keep.
  // Sync and loaded only here: the Bun binary never needs it; Node SEA with a code cache cannot import().
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  return (fd) => spawnSync('flock', ['-x', '-n', '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] }).status === 0;
}

const isPermissionProblem = (error: unknown) => ['EACCES', 'EPERM', 'EROFS'].includes((error as NodeJS.ErrnoException).code ?? '');

/**
 * The lock file, opened for writing (and created) when we may. A read-only
 * query (status) by someone who may not write there (an operator without
 * root) opens it read-only: flock(2) needs no write access, so it still
 * waits for a running start or stop.
 */
function openLockFile(env: NodeJS.ProcessEnv, path: string, readOnly: boolean): { fd: number; writable: boolean } | undefined {
  try {
    mkdirSync(lockDirectory(env), { recursive: true, mode: 0o755 });
    return { fd: openSync(path, 'a+', 0o644), writable: true };
  } catch (error) {
    if (!isPermissionProblem(error)) throw error;
    if (!readOnly) throw new PermissionError(`needs root: cannot create the lock ${path} (${(error as NodeJS.ErrnoException).code})`);
    try {
      return { fd: openSync(path, 'r'), writable: false };
    } catch (again) {
      const code = (again as NodeJS.ErrnoException).code;
      // No file: no call ever held it. Not even readable (a 0700 lock directory): answer unlocked rather than not at all.
      if (code === 'ENOENT' || isPermissionProblem(again)) return undefined;
      throw again;
    }
  }
}

export async function acquireResourceLock(env: NodeJS.ProcessEnv, agent: string, key: string, deadline: number, { readOnly = false } = {}): Promise<ResourceLock> {
  const path = lockPath(env, agent, key);
  const opened = openLockFile(env, path, readOnly);
  if (!opened) {
    log.debug(`cannot open or create ${path} (not root): answering without the lock`);
    return { path, release: () => {} };
  }
  const { fd } = opened;
  const tryLock = await tryLockFunction();
  let waited = false;
  while (!tryLock(fd)) {
    if (!waited) log.debug(`waiting for ${path}`);
    waited = true;
    if (Date.now() >= deadline) {
      const holder = readFileSync(path, 'utf8').trim();
      closeSync(fd);
      throw new TimeoutError(`another ${agent} call${holder ? ` (pid ${holder})` : ''} still holds the lock for ${key}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (opened.writable) {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  }
  return {
    path,
    release: () => closeSync(fd),
  };
}
