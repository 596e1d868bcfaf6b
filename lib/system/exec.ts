import { readdirSync, readFileSync } from 'node:fs';
import { CommandFailedError, NotInstalledError, TimeoutError } from '../contract/errors.ts';
import { log } from './log.ts';

export interface RunOptions {
  /** Kill the command after this long; every call has a bound. */
  timeoutMs?: number;
  /** Return the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  input?: string;
  /** Added to the agent's environment (LC_ALL=C is always set, so parsed output is untranslated). */
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunResult {
  command: string;
  args: readonly string[];
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** What a backend reports; `run` turns it into a result or a typed error. */
interface RawResult {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  notFound: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Runs one program with an argument array (never a shell string), bounded
 * in time. Failures become typed errors that carry the command line, the
 * exit code and stderr, so the agent's one-line error says what failed.
 */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const env = { ...process.env, ...options.env, LC_ALL: 'C' };
  const line = [command, ...args].join(' ');
  const began = Date.now();
  log.debug(`running ${line}`);
  const raw = process.versions.bun
    ? await runWithBun(command, args, options, env, timeoutMs)
    : await runWithExeca(command, args, options, env, timeoutMs);
  log.debug(`ran ${command} ${args[0] ?? ''}: exit ${raw.exitCode ?? raw.signal ?? '?'} in ${Date.now() - began} ms`);
  if (raw.notFound) throw new NotInstalledError(`${command} not found (needed for: ${line})`);
  if (raw.timedOut) throw new TimeoutError(`${line} did not finish within ${timeoutMs} ms`);
  const failed = raw.signal !== undefined || raw.exitCode !== 0;
  if (failed && !options.allowFailure) {
    throw new CommandFailedError(command, args, raw.exitCode, raw.signal, raw.stderr);
  }
  return { command, args, stdout: raw.stdout, stderr: raw.stderr, exitCode: raw.exitCode ?? -1 };
}

// Under Node (tests, `node bin/ha-agent.ts`) execa does the work. The
// shipped executable is compiled with Bun, where execa costs ~11 ms to load
// and ~20 ms on its first call (Bun's node:child_process shim), more than a
// whole stock `status`; Bun.spawn costs ~5 ms. Same contract, two engines.
async function runWithExeca(command: string, args: readonly string[], options: RunOptions, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RawResult> {
  const { execa } = await import('execa');
  const subprocess = execa(command, args, {
    reject: false,
    timeout: timeoutMs,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    env,
    extendEnv: false,
    cwd: options.cwd,
    stripFinalNewline: false,
    forceKillAfterDelay: false,
  });
  let treeKilled = false;
  track(subprocess.pid);
  const timer = setTimeout(() => {
    treeKilled = true;
    killTree(subprocess.pid);
  }, timeoutMs);
  const result = await subprocess;
  clearTimeout(timer);
  if (subprocess.pid) running.delete(subprocess.pid);
  return {
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    exitCode: result.exitCode,
    signal: result.signal ?? undefined,
    timedOut: result.timedOut || treeKilled,
    notFound: result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message)),
  };
}

async function runWithBun(command: string, args: readonly string[], options: RunOptions, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RawResult> {
  let child;
  try {
    child = Bun.spawn([command, ...args], {
      stdin: options.input === undefined ? 'ignore' : new TextEncoder().encode(options.input),
      stdout: 'pipe',
      stderr: 'pipe',
      env: env as Record<string, string>,
      cwd: options.cwd,
    });
  } catch (error) {
    if (/ENOENT|not found|No such file/i.test(String(error))) return { stdout: '', stderr: '', exitCode: undefined, signal: undefined, timedOut: false, notFound: true };
    throw error;
  }
  let timedOut = false;
  track(child.pid);
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child.pid);
  }, timeoutMs);
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  await child.exited;
  clearTimeout(timer);
  running.delete(child.pid);
  return {
    stdout,
    stderr,
    exitCode: child.signalCode ? undefined : (child.exitCode ?? undefined),
    signal: child.signalCode ? String(child.signalCode) : undefined,
    timedOut,
    notFound: false,
  };
}

/**
 * Commands still running. When the agent exits while some run (one of
 * several parallel calls failed first, and its error ends the action), they
 * are abandoned: end them, so nothing we started outlives us but the daemons
 * we start on purpose (startDetached). They stay in our process group, so a
 * cluster manager that kills the group on a timeout (Pacemaker does) and a
 * Ctrl-C reach them too.
 */
const running = new Set<number>();
let exitHookInstalled = false;

function track(pid: number | undefined): void {
  if (!pid) return;
  running.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of running) killTree(pid);
  });
}

/** The PIDs a process started, and theirs (/proc/PID/task/TID/children). */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const tid of tasks) {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      // Gone.
    }
    for (const child of children) found.push(child, ...descendants(child));
  }
  return found;
}

/**
 * SIGKILL to a bounded command and everything it started: a hung tool that
 * is a script (a drbdadm wrapper, a mount helper) has children, and a
 * timeout must end them all, or they keep our pipes open and the call
 * never returns.
 */
function killTree(pid: number | undefined): void {
  if (!pid) return;
  // All found before the first signal; the parent first, so it cannot start more.
  for (const target of [pid, ...descendants(pid)]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

export interface AnsweredResult {
  stdout: string;
  stderr: string;
  /** undefined when the answer came before the program exited (it finishes on its own). */
  exitCode: number | undefined;
}

/**
 * Runs a program until its stdout holds the answer (`answered(stdout)`),
 * not until it exits: some programs print their result and then spend tens
 * of milliseconds in the kernel tearing down (arping's packet socket). The
 * program is left to finish by itself; it is never waited for past its answer.
 * Without an answer, this waits for the exit like run(). Not found and
 * timeout are typed errors as in run(). `signal` ends the program early
 * (SIGKILL) when its answer is no longer wanted; the promise then settles
 * once it has exited, so the caller can be sure it does not outlive it.
 */
export async function runUntilAnswered(
  command: string,
  args: readonly string[],
  answered: (stdout: string) => boolean,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<AnsweredResult> {
  if (!process.versions.bun) {
    const r = await run(command, args, { allowFailure: true, timeoutMs: options.timeoutMs });
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  }
  const line = [command, ...args].join(' ');
  const began = Date.now();
  log.debug(`running ${line}`);
  let child;
  try {
    child = Bun.spawn([command, ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, LC_ALL: 'C' } as Record<string, string> });
  } catch (error) {
    if (/ENOENT|not found|No such file/i.test(String(error))) throw new NotInstalledError(`${command} not found (needed for: ${line})`);
    throw error;
  }
  let stdout = '';
  let early = false;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const abandon = () => child.kill('SIGKILL');
  if (options.signal?.aborted) abandon();
  else options.signal?.addEventListener('abort', abandon, { once: true });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  const stderrText = new Response(child.stderr).text();
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    stdout += decoder.decode(chunk.value, { stream: true });
    if (answered(stdout)) {
      early = true;
      break;
    }
  }
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', abandon);
  if (early) {
    reader.releaseLock();
    child.unref();
    log.debug(`ran ${command}: answered in ${Date.now() - began} ms (left to exit by itself)`);
    return { stdout, stderr: '', exitCode: undefined };
  }
  const stderr = await stderrText;
  await child.exited;
  if (timedOut) throw new TimeoutError(`${line} did not finish within ${options.timeoutMs} ms`);
  log.debug(`ran ${command}: exit ${child.exitCode ?? child.signalCode} in ${Date.now() - began} ms`);
  return { stdout, stderr, exitCode: child.signalCode ? undefined : (child.exitCode ?? undefined) };
}

export interface DetachedProcess {
  pid: number;
  /** undefined while it runs (as far as this process can see); how it ended once it has. */
  exit(): string | undefined;
}

/**
 * Starts a daemon-like program in its own session (setsid): stdin closed,
 * stdout and stderr to `outputFd` or nowhere, so it outlives the agent and
 * no caller capturing our output waits for it. Throws when it cannot be run.
 * Under Bun this is Bun.spawn: node:child_process would cost the call ~7 ms
 * and ~5 MiB (bench/STARTUP.md's method, measured on the agent binary).
 */
export async function startDetached(command: string, args: readonly string[], options: { outputFd?: number; cwd?: string } = {}): Promise<DetachedProcess> {
  const out = options.outputFd ?? 'ignore';
  let exited: string | undefined;
  const describe = (code: number | null | undefined, signal: string | number | null | undefined) =>
    signal ? `was killed by ${typeof signal === 'number' ? `signal ${signal}` : signal}` : `exited with status ${code}`;
  if (process.versions.bun) {
    const child = Bun.spawn([command, ...args], {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: options.cwd,
      onExit: (_proc, code, signal) => {
        exited = describe(code, signal);
      },
    });
    child.unref();
    return { pid: child.pid, exit: () => exited };
  }
  const { spawn } = await import('node:child_process');
  const child = spawn(command, [...args], { detached: true, stdio: ['ignore', out, out], cwd: options.cwd });
  child.on('exit', (code, signal) => {
    exited = describe(code, signal);
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  child.unref();
  return { pid: child.pid!, exit: () => exited };
}
