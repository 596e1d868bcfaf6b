import { spawn, type ChildProcess } from 'node:child_process';
import { arpingFinished, parseArpingReplies } from './probe.ts';

// A long-lived ARP probe of one address for `ha-agent watch`: one arping
// that keeps probing (every `intervalMs`) and streams each reply, instead
// of one arping per sample. Why: measured here, an arping per sample cost
// ~20 ms of CPU (most of it the kernel closing arping's packet socket),
// more than the watcher's own work; a running arping sending two probes a
// second costs almost nothing. Replies are RFC 5227 probes (sender
// 0.0.0.0) as arpProbe sends them: nobody's cache learns anything.
// Habets arping (Debian's `arping`) flushes each reply line as it prints
// it. Its lifetime is bounded by a probe count (`lifetimeMs`): should the
// watcher die by SIGKILL, no arping outlives it for long; a finished one
// is started again by the next sample.

export interface ArpWatchOptions {
  intervalMs: number;
  /** arping ends by itself after this long (its -c). */
  lifetimeMs: number;
  /** The command that runs arping (default ["arping"]; tests: ["ip", "netns", "exec", NS, "arping"], which execs it: same PID). */
  command?: string[];
}

export class ArpWatch {
  private child?: ChildProcess;
  private startedAt = 0;
  private readonly lastSeen = new Map<string, number>();
  private exitNote?: string;
  private stderr = '';

  constructor(readonly nic: string, readonly ip: string, readonly options: ArpWatchOptions) {}

  /** arping's PID while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts arping unless it runs. Returns why the last one ended abnormally, once (undefined: nothing to say). */
  ensure(): string | undefined {
    const note = this.exitNote;
    this.exitNote = undefined;
    if (this.child) return note;
    const count = Math.max(1, Math.ceil(this.options.lifetimeMs / this.options.intervalMs));
    const args = ['-0', '-i', this.nic, '-c', String(count), '-W', (this.options.intervalMs / 1000).toFixed(3), this.ip];
    this.stderr = '';
    this.startedAt = Date.now();
    const [command, ...before] = this.options.command ?? ['arping'];
    const child = spawn(command!, [...before, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    this.child = child;
    let pending = '';
    let finished = false;
    child.stdout!.setEncoding('latin1');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      const end = pending.lastIndexOf('\n');
      if (end < 0) return;
      const now = Date.now();
      const lines = pending.slice(0, end + 1);
      for (const mac of parseArpingReplies(lines)) this.lastSeen.set(mac, now);
      if (arpingFinished(lines)) finished = true;
      pending = pending.slice(end + 1);
    });
    child.stderr!.setEncoding('latin1');
    child.stderr!.on('data', (chunk: string) => { this.stderr = (this.stderr + chunk).slice(-2000); });
    child.once('error', (error) => {
      this.exitNote = `arping ${args.join(' ')} failed: ${error.message}`;
      if (this.child === child) this.child = undefined;
    });
    child.once('close', (code, signal) => {
      // Ended by stop(): nothing to report.
      if (this.child !== child) return;
      this.child = undefined;
      // Its probe count ran out (its statistics printed): normal, the next
      // sample starts another. Anything else (exit 1 without statistics is
      // how it says "no such interface") is a failure to report.
      if (finished && (code === 0 || code === 1)) return;
      const why = this.stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit ${code}`);
      this.exitNote ??= `arping ${args.join(' ')} failed: ${why}`;
    });
    return note;
  }

  /**
   * Has it run long enough that its replies answer "who holds the address
   * now"? (at least two probes sent and waited for). Before that the caller
   * probes once itself.
   */
  settled(now = Date.now()): boolean {
    return this.child !== undefined && now - this.startedAt >= 2.5 * this.options.intervalMs;
  }

  /** MACs that answered within the last `windowMs` (a holder answers every probe). */
  macsWithin(windowMs: number, now = Date.now()): string[] {
    return [...this.lastSeen].filter(([, at]) => now - at <= windowMs).map(([mac]) => mac).sort();
  }

  /** Ends arping (by its PID) and waits for it. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
