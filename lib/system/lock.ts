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

// Where lock files may live, in order: HA_RSCTMP (what the cluster manager
// gives us), else the default, else /dev/shm.
const DEFAULT_RSCTMP = '/run/resource-agents';
const FALLBACK_RSCTMPS = [DEFAULT_RSCTMP, '/dev/shm/resource-agents'];

/** `/a//b/./c/../d/` → `/a/b/d`: the path as written, no file system access (symlinks are not followed). */
function normalise(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** True when `path` is `mountPoint` or below it, as written. */
export function isPathUnder(path: string, mountPoint: string): boolean {
  const p = normalise(path);
  const m = normalise(mountPoint);
  return m === '/' || p === m || p.startsWith(`${m}/`);
}

/**
 * The lock directory. `awayFrom` is a mount point the caller may unmount
 * (Filesystem's directory): a lock file on that filesystem would keep it
 * busy, so stop would wait out its deadline on its own lock. When HA_RSCTMP
 * is under it, the lock lives in the first place that is not. Decided from
 * the paths as written, never from what is mounted now: before a start
 * mounts, HA_RSCTMP resolves to the directory underneath, after it to the
 * mounted filesystem, so a check of the file system would hand a start and
 * a later stop two different files, and they would no longer exclude each
 * other. This way every caller, cold or not, mounted or not, takes the
 * same file, and the kernel still frees it when its holder dies.
 */
export function lockDirectory(env: NodeJS.ProcessEnv, awayFrom?: string): string {
  const candidates = [env.HA_RSCTMP || DEFAULT_RSCTMP, ...FALLBACK_RSCTMPS];
  const base = (awayFrom !== undefined && candidates.find((dir) => !isPathUnder(dir, awayFrom))) || candidates[0];
  return `${base}/ha-resource-agents`;
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

export function lockPath(env: NodeJS.ProcessEnv, agent: string, key: string, awayFrom?: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${lockDirectory(env, awayFrom)}/${agent}.${readable}.${shortHash(key)}.lock`;
}

type TryLock = (fd: number) => boolean;

let tryLockCached: TryLock | undefined;

/**
 * Made once per process: bun:ffi's dlopen compiles its call trampoline each
 * time it runs, which a cold agent pays once but `ha-agent watch` paid per
 * resource per sample (our agents' status runs in its process).
 */
async function tryLockFunction(): Promise<TryLock> {
  tryLockCached ??= await makeTryLock();
  return tryLockCached;
}

async function makeTryLock(): Promise<TryLock> {
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
function openLockFile(directory: string, path: string, readOnly: boolean): { fd: number; writable: boolean } | undefined {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o755 });
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

export async function acquireResourceLock(
  env: NodeJS.ProcessEnv,
  agent: string,
  key: string,
  deadline: number,
  { readOnly = false, awayFrom }: { readOnly?: boolean; awayFrom?: string } = {},
): Promise<ResourceLock> {
  const path = lockPath(env, agent, key, awayFrom);
  const opened = openLockFile(lockDirectory(env, awayFrom), path, readOnly);
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
