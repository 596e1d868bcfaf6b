import { readFileSync } from 'node:fs';
import { sleep } from './wait.ts';

export interface TerminateOutcome {
  /** Ended after SIGTERM. */
  terminated: number[];
  /** Were frozen (SIGSTOP) and got SIGCONT so they could act on the SIGTERM (resumeStopped). */
  resumed: number[];
  /** Needed SIGKILL. */
  killed: number[];
  /** Still there after SIGKILL and killWaitMs (D state, or a stopped tracee). */
  survivors: number[];
}

/** The state letter of /proc/PID/stat: R, S, D, T (stopped), t (traced), Z. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** True while the PID exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie has exited; only its parent's wait() is left.
  const state = processState(pid);
  return state !== undefined && state !== 'Z';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already: that is the outcome we want.
  }
}

async function waitForExit(pids: number[], ms: number, pollMs: number, stopWaiting: () => boolean = () => false): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(isAlive);
  while (alive.length && Date.now() < deadline && !stopWaiting()) {
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    alive = alive.filter(isAlive);
  }
  return alive;
}

export interface TerminateOptions {
  termWaitMs: number;
  killWaitMs: number;
  pollMs?: number;
  termSignal?: NodeJS.Signals;
  /**
   * SIGCONT a process frozen with SIGSTOP after sending it the TERM signal:
   * a stopped mysqld would sit on a pending SIGTERM until the bound ran out
   * and then die by SIGKILL instead of shutting down cleanly. (A traced
   * process, state t, cannot be resumed that way and goes the KILL route.)
   */
  resumeStopped?: boolean;
  /** Called with the PIDs about to get SIGKILL, so the caller can say why. */
  onKill?: (pids: number[]) => void;
  /**
   * Polled while waiting after the TERM signal: true ends the wait early
   * (the processes show they will not act on it), and the rest get SIGKILL.
   */
  abandonTermWait?: () => boolean;
}

/**
 * TERM, wait up to termWaitMs, then KILL the rest and wait up to killWaitMs.
 * The one escalation that Filesystem's holders, IPaddr's announcer and
 * mysqld's shutdown share; it reports what it had to do instead of deciding
 * whether that was fine.
 */
export async function terminate(
  pids: readonly number[],
  { termWaitMs, killWaitMs, pollMs = 10, termSignal = 'SIGTERM', resumeStopped = false, onKill, abandonTermWait }: TerminateOptions,
): Promise<TerminateOutcome> {
  const targets = [...new Set(pids)].filter(isAlive);
  const resumed: number[] = [];
  for (const pid of targets) {
    signal(pid, termSignal);
    if (resumeStopped && processState(pid) === 'T') {
      signal(pid, 'SIGCONT');
      resumed.push(pid);
    }
  }
  const afterTerm = await waitForExit(targets, termWaitMs, pollMs, abandonTermWait);
  if (afterTerm.length) onKill?.(afterTerm);
  for (const pid of afterTerm) signal(pid, 'SIGKILL');
  const survivors = await waitForExit(afterTerm, killWaitMs, pollMs);
  return {
    terminated: targets.filter((pid) => !afterTerm.includes(pid)),
    resumed,
    killed: afterTerm.filter((pid) => !survivors.includes(pid)),
    survivors,
  };
}
