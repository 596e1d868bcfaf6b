import { readFileSync } from 'node:fs';
import { sleep } from './wait.ts';

export interface TerminateOutcome {
  /** Ended after SIGTERM. */
  terminated: number[];
  /** Needed SIGKILL. */
  killed: number[];
  /** Still there after SIGKILL and killWaitMs (D state, or a stopped tracee). */
  survivors: number[];
}

/** True while the PID exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A zombie has exited; only its parent's wait() is left.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already: that is the outcome we want.
  }
}

async function waitForExit(pids: number[], ms: number, pollMs: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(isAlive);
  while (alive.length && Date.now() < deadline) {
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    alive = alive.filter(isAlive);
  }
  return alive;
}

/**
 * TERM, wait up to termWaitMs, then KILL the rest and wait up to killWaitMs.
 * The one escalation that Filesystem's holders and mysqld's shutdown share;
 * it reports what it had to do instead of deciding whether that was fine.
 */
export async function terminate(
  pids: readonly number[],
  { termWaitMs, killWaitMs, pollMs = 10, termSignal = 'SIGTERM' }: { termWaitMs: number; killWaitMs: number; pollMs?: number; termSignal?: NodeJS.Signals },
): Promise<TerminateOutcome> {
  const targets = [...new Set(pids)].filter(isAlive);
  for (const pid of targets) signal(pid, termSignal);
  const afterTerm = await waitForExit(targets, termWaitMs, pollMs);
  for (const pid of afterTerm) signal(pid, 'SIGKILL');
  const survivors = await waitForExit(afterTerm, killWaitMs, pollMs);
  return {
    terminated: targets.filter((pid) => !afterTerm.includes(pid)),
    killed: afterTerm.filter((pid) => !survivors.includes(pid)),
    survivors,
  };
}
