import { closeSync, mkdirSync, openSync, readFileSync, ftruncateSync, writeSync } from 'node:fs';
import { TimeoutError } from './errors.ts';
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

export async function acquireResourceLock(env: NodeJS.ProcessEnv, agent: string, key: string, deadline: number): Promise<ResourceLock> {
  const path = lockPath(env, agent, key);
  mkdirSync(lockDirectory(env), { recursive: true, mode: 0o755 });
  const fd = openSync(path, 'a+', 0o644);
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
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  return {
    path,
    release: () => closeSync(fd),
  };
}
