import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import type { Test } from 'tap';
import { pollUntil, sleep } from '../../lib/wait.ts';

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

/** Kill points for an action whose undisturbed run logged `lines` lines in `ms`: every line, topped up with spread delays to `atLeast`. */
export function killPoints(lines: number, ms: number, atLeast = 10): KillPoint[] {
  const points: KillPoint[] = [];
  for (let n = 1; n < lines; n++) points.push({ afterLines: n });
  const spread = Math.max(atLeast - points.length, 3);
  for (let i = 1; i <= spread; i++) points.push({ afterMs: Math.max(1, Math.round((ms * i) / (spread + 1))) });
  return points;
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
 * The matrix: for each kill point, from released: start killed there → stop
 * (released, lock free) → start (held); then stop killed at the same index →
 * stop (released) → start (held) → stop (released).
 */
export async function killPointMatrix(t: Test, subject: FaultSubject, debugLog: string, atLeast = 10): Promise<void> {
  const call = async (action: 'start' | 'stop', point?: KillPoint) => runCall(subject.argv(action), subject.env, debugLog, point);
  const expectHeld = async (when: string) => t.same(await subject.held(), [], `${when}: fully held`);
  const expectReleased = async (when: string) => t.same(await subject.released(), [], `${when}: fully released, nothing orphaned`);
  const normal = async (action: 'start' | 'stop', when: string) => {
    const r = await call(action);
    t.equal(r.exitCode, 0, `${when}: ${action} exits 0 ${r.stderr.trim()}`);
    t.ok(await lockIsFree(subject.lockFile), `${when}: ${action} left the lock free`);
    return r;
  };
  // Undisturbed: how many steps, how long.
  const start = await normal('start', 'baseline');
  await expectHeld('baseline start');
  const stop = await normal('stop', 'baseline');
  await expectReleased('baseline stop');
  const startPoints = killPoints(start.lines, start.ms, atLeast);
  const stopPoints = killPoints(stop.lines, stop.ms, atLeast);
  t.comment(`start: ${start.lines} log lines in ${start.ms} ms, ${startPoints.length} kill points; stop: ${stop.lines} lines in ${stop.ms} ms, ${stopPoints.length} kill points`);
  let killedStarts = 0;
  let killedStops = 0;
  for (let i = 0; i < Math.max(startPoints.length, stopPoints.length); i++) {
    const sp = startPoints[i];
    if (sp) {
      const when = `start killed ${describePoint(sp)}`;
      const k = await call('start', sp);
      if (k.killed) killedStarts++;
      t.ok(await lockIsFree(subject.lockFile), `${when}: the lock is free again`);
      await normal('stop', `${when}, then stop`);
      await expectReleased(`${when}, then stop`);
      await normal('start', `${when}, then stop, start`);
      await expectHeld(`${when}, then stop, start`);
    } else {
      await normal('start', `filler start ${i}`);
    }
    const tp = stopPoints[i];
    if (tp) {
      const when = `stop killed ${describePoint(tp)}`;
      const k = await call('stop', tp);
      if (k.killed) killedStops++;
      t.ok(await lockIsFree(subject.lockFile), `${when}: the lock is free again`);
      await normal('stop', `${when}, then stop`);
      await expectReleased(`${when}, then stop`);
      await normal('start', `${when}, then stop, start`);
      await expectHeld(`${when}, then stop, start`);
    }
    await normal('stop', `round ${i} done`);
    await expectReleased(`round ${i} done`);
  }
  t.comment(`calls actually killed mid-way: ${killedStarts} starts, ${killedStops} stops`);
  t.ok(killedStarts >= Math.min(atLeast, startPoints.length) / 2, `at least half of the start kill points landed before the call ended (${killedStarts})`);
  t.ok(killedStops >= Math.min(atLeast, stopPoints.length) / 2, `at least half of the stop kill points landed before the call ended (${killedStops})`);
}
