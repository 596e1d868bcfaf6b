import { existsSync } from 'node:fs';
import { pollUntil } from '../system/wait.ts';

// Talking to the server over its Unix socket with mysql2, in-process: no
// client binary, no password on any command line. mysql2 is imported only
// inside these functions, so nothing pays for it but a start or a deep
// monitor of mysqld.

export interface SocketTarget {
  socket: string;
  user: string;
  password?: string;
}

export type QueryOutcome =
  | { ok: true; rows: unknown }
  /** `answered`: the server itself replied (an error packet), so it accepts connections. */
  | { ok: false; answered: boolean; code: string; message: string };

/** Connects, runs one statement, disconnects. Never throws. */
export async function queryOverSocket(target: SocketTarget, sql: string, timeoutMs: number): Promise<QueryOutcome> {
  const mysql = await import('mysql2/promise');
  let connection: Awaited<ReturnType<typeof mysql.createConnection>> | undefined;
  try {
    connection = await mysql.createConnection({
      socketPath: target.socket,
      user: target.user,
      password: target.password,
      connectTimeout: Math.max(100, Math.min(timeoutMs, 10_000)),
    });
    const [rows] = await connection.query({ sql, timeout: Math.max(100, timeoutMs) });
    return { ok: true, rows };
  } catch (error) {
    const e = error as { code?: string; message?: string; errno?: number; sqlState?: string };
    const code = e.code ?? 'UNKNOWN';
    // Error packets from the server carry an SQL state; socket errors (ENOENT, ECONNREFUSED) do not.
    return { ok: false, answered: e.sqlState !== undefined || code.startsWith('ER_'), code, message: e.message ?? String(error) };
  } finally {
    connection?.destroy();
  }
}

export type ReadyOutcome =
  | { state: 'ready' }
  /** The server answered but refused our credentials: it accepts connections, our monitor login does not work. */
  | { state: 'login-refused'; message: string }
  | { state: 'exited' }
  | { state: 'timeout'; lastError?: string };

/**
 * Polls until `SELECT 1` succeeds over the socket, the server process is
 * gone, or the deadline passes. While the socket does not exist yet a poll
 * is one stat(2), so the interval can be fine (10 ms) without taking CPU
 * from the starting server; a connect to a socket that exists waits in the
 * server's listen queue until it accepts.
 */
export async function waitForMysqlReady(
  target: SocketTarget,
  { deadline, intervalMs = 10, serverAlive }: { deadline: number; intervalMs?: number; serverAlive: () => boolean },
): Promise<ReadyOutcome> {
  let lastError: string | undefined;
  const outcome = await pollUntil<ReadyOutcome>(
    async () => {
      if (!serverAlive()) return { state: 'exited' };
      if (!existsSync(target.socket)) {
        lastError = `no socket ${target.socket} yet`;
        return undefined;
      }
      const result = await queryOverSocket(target, 'SELECT 1', Math.max(100, deadline - Date.now()));
      if (result.ok) return { state: 'ready' };
      if (result.answered && /ACCESS_DENIED|ER_NOT_SUPPORTED_AUTH|PLUGIN/i.test(result.code)) return { state: 'login-refused', message: result.message };
      lastError = `${result.code}: ${result.message}`;
      return undefined;
    },
    { intervalMs, timeoutMs: Math.max(0, deadline - Date.now()) },
  );
  return outcome ?? { state: 'timeout', lastError };
}
