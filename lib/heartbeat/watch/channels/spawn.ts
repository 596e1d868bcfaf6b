import { spawn } from 'node:child_process';

// One bounded child for a channel (a hook, sendmail): its own process group,
// so a timeout ends it and everything it started (kill -PGID), as
// Pacemaker ends an alert agent; never awaited by the sampling loop.

export interface ChannelRun {
  /** How it ended, in words, or undefined when it exited 0. */
  failure?: string;
  ms: number;
}

export interface BoundedChild {
  done: Promise<ChannelRun>;
  /** SIGKILL to its process group now (SIGTERM of the watcher). */
  kill(): void;
}

export function runBounded(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs: number }): BoundedChild {
  const started = Date.now();
  let child: ReturnType<typeof spawn>;
  let timedOut = false;
  const killGroup = () => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  };
  const done = new Promise<ChannelRun>((resolve) => {
    let stderr = '';
    try {
      child = spawn(command, [...args], { env: options.env, detached: true, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    } catch (error) {
      resolve({ failure: `cannot run: ${(error as Error).message}`, ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    child.stdin?.on('error', () => { /* it exited before reading: its exit says why */ });
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ failure: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as NodeJS.ErrnoException).code === 'EACCES' ? 'not executable (permission denied)' : error.message, ms: Date.now() - started });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      const last = stderr.trim().split('\n').pop()?.trim();
      if (timedOut) resolve({ failure: `did not finish within ${options.timeoutMs} ms; its process group was killed`, ms });
      else if (signal) resolve({ failure: `killed by ${signal}`, ms });
      else if (code !== 0) resolve({ failure: `exited ${code}${last ? `: ${last}` : ''}`, ms });
      else resolve({ ms });
    });
  });
  return { done, kill: killGroup };
}
