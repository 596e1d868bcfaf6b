import { chownSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { GenericError } from '../contract/errors.ts';
import { startDetached, type DetachedProcess } from '../system/exec.ts';
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

/**
 * Starts the server in its own session, detached from us (it outlives the
 * agent), output appended to the error log so even a failure before the
 * server opens its log is there to quote.
 */
export async function spawnDetached(binary: string, args: readonly string[], logFile: string, uid: number, gid: number): Promise<DetachedProcess> {
  const created = !existsSync(logFile);
  const fd = openSync(logFile, 'a', 0o640);
  // A log we created as root must stay writable by the server after FLUSH LOGS reopens it.
  if (created) chownSync(logFile, uid, gid);
  try {
    return await startDetached(binary, args, { outputFd: fd, cwd: '/' });
  } catch (error) {
    throw new GenericError(`${binary} could not be run: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
