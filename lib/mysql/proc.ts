import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { isAlive } from '../system/terminate.ts';

// Which process is "the mysqld on this datadir", answered from /proc alone
// (no ps, no spawn: status runs every few seconds on both nodes). The
// server chdir()s into its datadir, so /proc/PID/cwd names the datadir it
// serves whatever its command line or config said.

const SERVER_NAMES = /^(mysqld|mariadbd)(-debug)?$/;

export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readlink(path: string): string | undefined {
  try {
    return readlinkSync(path).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

export function processExe(pid: number): string | undefined {
  return readlink(`/proc/${pid}/exe`);
}

export function processCwd(pid: number): string | undefined {
  return readlink(`/proc/${pid}/cwd`);
}

export function processCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The datadir as the kernel would name it in /proc/PID/cwd (symlinks resolved). */
export function canonicalDatadir(datadir: string): string {
  try {
    return realpathSync(datadir);
  } catch {
    return datadir;
  }
}

export function isServerExecutable(exe: string | undefined, binary?: string): boolean {
  if (!exe) return false;
  const name = basename(exe);
  return SERVER_NAMES.test(name) || (binary !== undefined && !/safe/.test(basename(binary)) && name === basename(binary));
}

let ownMountNamespace: string | undefined;
function inOurMountNamespace(pid: number): boolean {
  ownMountNamespace ??= readlink('/proc/self/ns/mnt');
  return readlink(`/proc/${pid}/ns/mnt`) === ownMountNamespace;
}

/**
 * The process's working directory is this datadir: the same path in our
 * mount namespace, or the very same directory (device and inode) seen from
 * another one (a container with the disk bind-mounted). A server in another
 * mount namespace whose cwd merely has the same name is someone else's.
 */
function servesDirectory(pid: number, canonicalDir: string): boolean {
  const cwd = processCwd(pid);
  if (cwd === undefined) return false;
  if (cwd === canonicalDir && inOurMountNamespace(pid)) return true;
  try {
    const theirs = statSync(`/proc/${pid}/cwd`);
    const ours = statSync(canonicalDir);
    return theirs.dev === ours.dev && theirs.ino === ours.ino;
  } catch {
    return false;
  }
}

/** The process's working directory is on a detached (lazily unmounted) mount: its path leads elsewhere or nowhere. */
function cwdDetached(pid: number): boolean {
  const cwd = processCwd(pid);
  if (cwd === undefined) return false;
  try {
    const real = statSync(`/proc/${pid}/cwd`);
    try {
      const named = statSync(cwd);
      return named.dev !== real.dev || named.ino !== real.ino;
    } catch {
      return true;
    }
  } catch {
    return false;
  }
}

/**
 * A server started for this datadir (`--datadir=` in its argv, as this agent
 * and mysqld_safe start it) that has not chdir()ed into it yet: the first
 * ~50 ms of its life. A stop in that window (right after a start that was
 * killed) must still find it, or it would come up after "not running".
 */
function startingFor(pid: number, canonicalDir: string): boolean {
  if (!inOurMountNamespace(pid)) return false;
  return processCmdline(pid).some((a) => a.startsWith('--datadir=') && canonicalDatadir(a.slice('--datadir='.length)) === canonicalDir);
}

/** A live mysqld/mariadbd whose working directory is this datadir. */
export function isServerFor(pid: number, canonicalDir: string, binary?: string): boolean {
  return isAlive(pid) && isServerExecutable(processExe(pid), binary) && servesDirectory(pid, canonicalDir);
}

function numericProcEntries(): number[] {
  try {
    return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

/**
 * The servers on this datadir: the pid file's process when it qualifies,
 * else (pid file missing, stale or reused) whatever /proc shows serving it.
 */
export function findServerPids(datadir: string, pidFile: string, binary?: string): { pids: number[]; fromPidFile: boolean } {
  const dir = canonicalDatadir(datadir);
  const fromFile = readPidFile(pidFile);
  if (fromFile !== undefined && isServerFor(fromFile, dir, binary)) return { pids: [fromFile], fromPidFile: true };
  // `umount -l` of the datadir under a running server leaves its working
  // directory on a detached mount that no path reaches: the directory test
  // cannot match, yet the server still runs and writes. The pid file (from
  // this datadir's configuration) still names it, in our mount namespace:
  // it is this datadir's server, and stop must end it, not report it gone.
  if (fromFile !== undefined && isAlive(fromFile) && isServerExecutable(processExe(fromFile), binary) && inOurMountNamespace(fromFile) && cwdDetached(fromFile)) {
    return { pids: [fromFile], fromPidFile: true };
  }
  const pids = numericProcEntries().filter(
    (pid) => pid !== process.pid && isServerExecutable(processExe(pid), binary) && (servesDirectory(pid, dir) || startingFor(pid, dir)) && isAlive(pid),
  );
  return { pids, fromPidFile: false };
}

/**
 * mysqld_safe processes that would respawn a server on this datadir: the
 * parent of one of `serverPids`, or one whose command line names this
 * datadir. mysqld_safe is a shell script, so we look at argv, not exe.
 */
export function findMysqldSafePids(datadir: string, serverPids: readonly number[]): number[] {
  const dir = canonicalDatadir(datadir);
  const parents = new Set(serverPids.map(parentPid).filter((p): p is number => p !== undefined && p > 1));
  return numericProcEntries().filter((pid) => {
    const argv = processCmdline(pid);
    if (!argv.slice(0, 2).some((a) => /(^|\/)(mysqld_safe|mariadbd-safe)$/.test(a))) return false;
    if (parents.has(pid)) return true;
    return inOurMountNamespace(pid) && argv.some((a) => a.startsWith('--datadir=') && canonicalDatadir(a.slice('--datadir='.length)) === dir);
  });
}

/**
 * Servers and mysqld_safe shells started with `--defaults-file=CONFIG`: how
 * status and stop still find "their" server when the config file itself
 * cannot be read (it may live on a disk that is gone).
 */
export function findPidsStartedWith(config: string): { servers: number[]; safes: number[] } {
  const flag = `--defaults-file=${config}`;
  const servers: number[] = [];
  const safes: number[] = [];
  for (const pid of numericProcEntries()) {
    if (pid === process.pid) continue;
    const argv = processCmdline(pid);
    if (!argv.includes(flag) || !inOurMountNamespace(pid)) continue;
    if (argv.slice(0, 2).some((a) => /(^|\/)(mysqld_safe|mariadbd-safe)$/.test(a))) safes.push(pid);
    else if (isServerExecutable(processExe(pid)) && isAlive(pid)) servers.push(pid);
  }
  return { servers, safes };
}

/**
 * Server processes this caller cannot inspect: argv (world-readable) names
 * mysqld/mariadbd, but /proc/PID/exe is not readable (another user's process
 * and we are not root). Which datadir they serve is then unknowable here.
 */
export function uninspectableServerPids(): number[] {
  return numericProcEntries().filter((pid) => {
    if (pid === process.pid) return false;
    const argv0 = processCmdline(pid)[0];
    if (!argv0 || !SERVER_NAMES.test(basename(argv0))) return false;
    try {
      readlinkSync(`/proc/${pid}/exe`);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EACCES' || (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  });
}
