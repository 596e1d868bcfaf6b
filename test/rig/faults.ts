import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import type { Test } from 'tap';
import { pollUntil, sleep } from '../../lib/system/wait.ts';

// Fault injection for the built agents: SIGKILL at chosen points of an
// action, then heartbeat's next calls. A kill point is "once the debug log
// (HA_DEBUGLOG, HA_debug=1) has N lines" — the agent's own steps — or "after
// N ms", spread over the measured length of an undisturbed call, so every
// stretch between two steps is hit too. Where exactly the kill lands varies
// with load; what the tests assert afterwards does not depend on it.

export interface CallResult {
  exitCode: number | null;
  signal: string | null;
  stderr: string;
  /** Lines in the debug log when the call ended (or was killed). */
  lines: number;
  ms: number;
}

export type KillPoint = { afterLines: number } | { afterMs: number };

export const describePoint = (p: KillPoint) => ('afterLines' in p ? `after log line ${p.afterLines}` : `after ${p.afterMs} ms`);

function countLines(path: string): number {
  try {
    const text = readFileSync(path, 'utf8');
    return text ? text.split('\n').length - 1 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs argv with the debug log at `debugLog` (emptied first); with a kill
 * point, SIGKILLs it there (if it has not finished before).
 */
export async function runCall(argv: readonly string[], env: Record<string, string>, debugLog: string, point?: KillPoint): Promise<CallResult & { killed: boolean }> {
  rmSync(debugLog, { force: true });
  const began = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...env, HA_DEBUGLOG: debugLog, HA_debug: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ended = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let finished = false;
  void ended.then(() => {
    finished = true;
  });
  let killed = false;
  if (point) {
    while (!finished) {
      const due = 'afterLines' in point ? countLines(debugLog) >= point.afterLines : Date.now() - began >= point.afterMs;
      if (due) {
        killed = child.kill('SIGKILL');
        break;
      }
      await sleep(1);
    }
  }
  const { code, signal } = await ended;
  return { exitCode: code, signal, stderr, lines: countLines(debugLog), ms: Date.now() - began, killed: killed && signal === 'SIGKILL' };
}

/** True when nobody holds the flock on `path` (a missing file is free too); polls a little, for a child still exiting. */
export async function lockIsFree(path: string, withinMs = 3000): Promise<boolean> {
  if (!existsSync(path)) return true;
  const free = await pollUntil(async () => ((await execa('flock', ['-n', '-x', path, 'true'], { reject: false })).exitCode === 0 ? true : undefined), { intervalMs: 20, timeoutMs: withinMs });
  return free ?? false;
}

/** PIDs whose argv contains every one of `words` (to find orphans by what they were started with). */
export function pidsWithArgs(...words: string[]): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (words.every((w) => argv.includes(w))) pids.push(Number(name));
    } catch {
      // Gone.
    }
  }
  return pids;
}

export interface FaultSubject {
  /** argv of one call (`ip netns exec ...` included where needed). */
  argv(action: 'start' | 'stop' | 'status'): string[];
  env: Record<string, string>;
  lockFile: string;
  /** Everything start establishes is there (an empty array), or what is missing. */
  held(): Promise<string[]>;
  /** Nothing of the resource is left, nothing orphaned (an empty array), or what is left. */
  released(): Promise<string[]>;
}

/**
 * The kill point of attempt `n` of an action whose undisturbed run logged
 * `lines` lines and last took `ms`: each logged line first, then delays at
 * spread fractions of the latest measured duration (so a point that missed
 * because the call got faster lands on the next try).
 */
export function killPoint(n: number, lines: number, ms: number, spread: number): KillPoint {
  if (n + 1 < lines) return { afterLines: n + 1 };
  const j = (n - Math.max(lines - 1, 0)) % spread;
  return { afterMs: Math.max(1, Math.round((ms * (j + 1)) / (spread + 1))) };
}

/**
 * The matrix, for start and then for stop: kill the action at a point, then
 * heartbeat's next calls, stop (fully released, lock free) and start (fully
 * held), until `atLeast` calls were really killed mid-way (a call that ended
 * before its kill point does not count, and the next point is taken).
 */
export async function killPointMatrix(t: Test, subject: FaultSubject, debugLog: string, atLeast = 10): Promise<void> {
  const call = async (action: 'start' | 'stop', point?: KillPoint) => runCall(subject.argv(action), subject.env, debugLog, point);
  const expectHeld = async (when: string) => t.same(await subject.held(), [], `${when}: fully held`);
  const expectReleased = async (when: string) => t.same(await subject.released(), [], `${when}: fully released, nothing orphaned`);
  const measured = { start: { lines: 0, ms: 0 }, stop: { lines: 0, ms: 0 } };
  const normal = async (action: 'start' | 'stop', when: string) => {
    const r = await call(action);
    t.equal(r.exitCode, 0, `${when}: ${action} exits 0 ${r.stderr.trim()}`);
    t.ok(await lockIsFree(subject.lockFile), `${when}: ${action} left the lock free`);
    measured[action] = { lines: Math.max(measured[action].lines, r.lines), ms: r.ms };
    return r;
  };
  // Undisturbed first: how many steps, how long.
  await normal('start', 'baseline');
  await expectHeld('baseline start');
  await normal('stop', 'baseline');
  await expectReleased('baseline stop');
  t.comment(`undisturbed: start ${measured.start.lines} log lines in ${measured.start.ms} ms, stop ${measured.stop.lines} lines in ${measured.stop.ms} ms`);
  for (const action of ['start', 'stop'] as const) {
    if (action === 'stop') await normal('start', 'before the stop kills');
    let killed = 0;
    let attempt = 0;
    for (; killed < atLeast && attempt < atLeast * 3; attempt++) {
      const point = killPoint(attempt, measured[action].lines, measured[action].ms, atLeast);
      const when = `${action} killed ${describePoint(point)}`;
      const k = await call(action, point);
      if (k.killed) killed++;
      t.ok(await lockIsFree(subject.lockFile), `${when}: the lock is free again`);
      await normal('stop', `${when}, then stop`);
      await expectReleased(`${when}, then stop`);
      await normal('start', `${when}, then stop, start`);
      await expectHeld(`${when}, then stop, start`);
      if (action === 'start') {
        await normal('stop', `${when}: back to released`);
        await expectReleased(`${when}: back to released`);
      }
    }
    t.ok(killed >= atLeast, `${action}: ${killed} calls killed mid-way in ${attempt} attempts`);
  }
  await normal('stop', 'end');
  await expectReleased('end');
}
