import { spawn, type ChildProcess } from 'node:child_process';
import { ARPING_DIALECTS, knownArpingDialect, learnIputils, type ArpingDialect } from './probe.ts';

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
// iputils' arping (RHEL/CentOS) streams too, with its own flags and one
// probe a second at most (see ARPING_DIALECTS): which arping runs is what
// lib/ip/probe.ts learnt and remembered; when unknown, Habets' flags are
// tried and an iputils refusal is learnt here the same way, and the
// iputils arping started at once.

export interface ArpWatchOptions {
  intervalMs: number;
  /** arping ends by itself after this long (its -c). */
  lifetimeMs: number;
  /** The command that runs arping (default ["arping"]; tests: ["ip", "netns", "exec", NS, "arping"], which execs it: same PID). */
  command?: string[];
  /** Where the dialect memory and PATH come from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export class ArpWatch {
  private child?: ChildProcess;
  private startedAt = 0;
  private readonly lastSeen = new Map<string, number>();
  private exitNote?: string;
  private stderr = '';
  private dialect?: ArpingDialect;

  constructor(readonly nic: string, readonly ip: string, readonly options: ArpWatchOptions) {}

  /** arping's PID while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The interval between probes arping really keeps (iputils': a second). */
  get probeIntervalMs(): number {
    return ARPING_DIALECTS[this.dialect ?? knownArpingDialect(this.options.env)].streamIntervalMs(this.options.intervalMs);
  }

  /** Starts arping unless it runs. Returns why the last one ended abnormally, once (undefined: nothing to say). */
  ensure(): string | undefined {
    const note = this.exitNote;
    this.exitNote = undefined;
    if (this.child) return note;
    this.start();
    return note;
  }

  private start(): void {
    const env = this.options.env ?? process.env;
    this.dialect ??= knownArpingDialect(env);
    const dialect = ARPING_DIALECTS[this.dialect];
    const intervalMs = this.probeIntervalMs;
    const count = Math.max(1, Math.ceil(this.options.lifetimeMs / intervalMs));
    const args = dialect.streamArgv(this.nic, this.ip, count, intervalMs);
    this.stderr = '';
    this.startedAt = Date.now();
    const [command, ...before] = this.options.command ?? ['arping'];
    const child = spawn(command!, [...before, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, LC_ALL: 'C' } });
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
      for (const mac of dialect.replies(lines)) this.lastSeen.set(mac, now);
      if (dialect.finished(lines)) finished = true;
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
      // Habets' flags given to iputils' arping: learnt (and remembered for
      // the probes too), and its own flags used at once.
      if (this.dialect === 'habets' && learnIputils('', this.stderr, env)) {
        this.dialect = 'iputils';
        this.start();
        return;
      }
      const why = this.stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit ${code}`);
      this.exitNote ??= `arping ${args.join(' ')} failed: ${why}`;
    });
  }

  /**
   * Has it run long enough that its replies answer "who holds the address
   * now"? (at least two probes sent and waited for). Before that the caller
   * probes once itself.
   */
  settled(now = Date.now()): boolean {
    return this.child !== undefined && now - this.startedAt >= 2.5 * this.probeIntervalMs;
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
