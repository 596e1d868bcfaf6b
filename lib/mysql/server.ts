import { spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive } from '../terminate.ts';
import { sleep } from '../wait.ts';
import { processState } from './proc.ts';
import type { ServerSettings } from './settings.ts';

/** The server's command line: everything we rely on is explicit, so agent and server agree. */
export function serverArguments(settings: ServerSettings, defaultsFile: string | undefined, additional: readonly string[]): string[] {
  return [
    // --defaults-file must come first (my_load_defaults only looks there).
    ...(defaultsFile ? [`--defaults-file=${defaultsFile}`] : []),
    `--datadir=${settings.datadir}`,
    `--user=${settings.user}`,
    `--pid-file=${settings.pidFile}`,
    `--socket=${settings.socket}`,
    `--log-error=${settings.logError}`,
    ...additional,
  ];
}

/** Creates a missing socket/pid directory (e.g. /run/mysqld after a reboot), owned by the server user. */
export function ensureRuntimeDirectory(path: string, uid: number, gid: number): void {
  const dir = dirname(path);
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chownSync(dir, uid, gid);
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last `lines` lines written to a log after byte `from` (what this start wrote). */
export function logTail(path: string, from: number, lines = 5): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = statSync(path).size;
    const start = Math.max(from > size ? 0 : from, size - 16384);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean).slice(-lines);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface StartedServer {
  pid: number;
  /** undefined while it runs; its exit code or signal once it has exited. */
  exit(): string | undefined;
}

/**
 * Starts the server in its own session, detached from us (it outlives the
 * agent), output appended to the error log so even a failure before the
 * server opens its log is there to quote.
 */
export function spawnDetached(binary: string, args: readonly string[], logFile: string, uid: number, gid: number): StartedServer {
  const created = !existsSync(logFile);
  const fd = openSync(logFile, 'a', 0o640);
  // A log we created as root must stay writable by the server after FLUSH LOGS reopens it.
  if (created) chownSync(logFile, uid, gid);
  let exited: string | undefined;
  try {
    const child = spawn(binary, [...args], { detached: true, stdio: ['ignore', fd, fd], cwd: '/' });
    child.on('exit', (code, signal) => {
      exited = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    });
    child.on('error', (error) => {
      exited = `could not be run: ${error.message}`;
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${binary}`);
    return { pid: child.pid, exit: () => exited };
  } finally {
    closeSync(fd);
  }
}

export interface ShutdownOutcome {
  /** SIGKILL was needed. */
  killed: boolean;
  /** It was frozen (SIGSTOP) and we let it continue so it could shut down cleanly. */
  continued: boolean;
  /** Still there after SIGKILL: the honest failure. */
  survivors: number[];
}

/**
 * SIGTERM (mysqld's clean shutdown), wait polling at `pollMs`, SIGKILL only
 * after `termWaitMs`. A frozen (SIGSTOPped) server would sit on the pending
 * SIGTERM until the bound runs out, then die without its clean shutdown;
 * resuming it lets it flush and exit as asked instead. A traced process
 * (state t) cannot be resumed that way and goes the SIGKILL route.
 */
export async function shutdownServer(
  pids: readonly number[],
  { termWaitMs, killWaitMs, pollMs = 20, onKill }: { termWaitMs: number; killWaitMs: number; pollMs?: number; onKill?: (pids: number[]) => void },
): Promise<ShutdownOutcome> {
  let continued = false;
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // Gone already.
    }
  };
  for (const pid of pids) {
    signal(pid, 'SIGTERM');
    if (processState(pid) === 'T') {
      signal(pid, 'SIGCONT');
      continued = true;
    }
  }
  const waitForExit = async (targets: number[], ms: number) => {
    const deadline = Date.now() + ms;
    let alive = targets.filter(isAlive);
    while (alive.length && Date.now() < deadline) {
      await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
      alive = alive.filter(isAlive);
    }
    return alive;
  };
  const afterTerm = await waitForExit([...pids], termWaitMs);
  if (afterTerm.length === 0) return { killed: false, continued, survivors: [] };
  onKill?.(afterTerm);
  for (const pid of afterTerm) signal(pid, 'SIGKILL');
  const survivors = await waitForExit(afterTerm, killWaitMs);
  return { killed: true, continued, survivors };
}
