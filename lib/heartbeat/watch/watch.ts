import { existsSync, readFileSync, watch as watchFile, type FSWatcher } from 'node:fs';
import type { Server } from 'node:http';
import { Logger } from '../../system/log.ts';
import { writeStdout } from '../../system/stdio.ts';
import { lastValue, parseHaCf, type HaCfEntry } from '../hacf.ts';
import { parseHaresources, type Haresources } from '../haresources.ts';
import { runBounded, type BoundedChild } from './channels/spawn.ts';
import { hookEnvironment, parseHookSpec } from './channels/hooks.ts';
import { mailMessage } from './channels/mail.ts';
import { renderMetrics, writeAtomically } from './channels/metrics.ts';
import { DEFAULT_DAMPING, deriveConditions, EVENT_KINDS, EventTracker, PLUGIN, pluginStatus, type Condition, type WatchEvent } from './events.ts';
import { LogFollower, PeerLossMemo, peerOf, stopArpWatches, takeSample, targetsOf, type Sample, type WatchTarget } from './sample.ts';

// `ha-agent watch`: the loop. Every --interval it takes a sample, derives
// conditions, feeds the tracker, and hands each raise and clear to the
// channels: heartbeat's log (ha_log format), hooks, mail, metrics. The
// channels run as bounded children that the loop never waits for, so a
// hung hook or MTA never delays the next sample. SIGHUP re-reads ha.cf,
// haresources and the watch configuration; SIGTERM ends it cleanly.

export interface WatchOptions {
  haDir: string;
  node: string;
  interval: number;
  once?: boolean;
  json?: boolean;
  alertExec: string[];
  alertTimeout: number;
  mailTo: string[];
  mailFrom?: string;
  sendmail: string;
  metricsFile?: string;
  listen?: string;
  peerAddress?: string;
  raiseAfter: number;
  clearAfter: number;
  splitBrainDir: string;
  heartbeatPidfile: string;
  callTimeout: number;
  config?: string;
}

/** Options a configuration file may set, with their kinds (the long options' names). */
export const CONFIG_KEYS: Record<string, 'number' | 'string' | 'list'> = {
  interval: 'number', 'alert-exec': 'list', 'alert-timeout': 'number', 'mail-to': 'list', 'mail-from': 'string', sendmail: 'string',
  'metrics-file': 'string', listen: 'string', 'peer-address': 'string', 'raise-after': 'number', 'clear-after': 'number',
  'split-brain-dir': 'string', node: 'string',
};

const camel = (key: string) => key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * The watch configuration file: `key = value` (or `key value`) per line,
 * the long options' names without "--", `#` comments, list keys
 * (alert-exec, mail-to) repeatable. Pure: text in, values and problems out.
 */
export function parseWatchConfig(text: string): { values: Record<string, string | number | string[]>; problems: string[] } {
  const values: Record<string, string | number | string[]> = {};
  const problems: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const m = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    const key = m?.[1]?.replace(/^--/, '').toLowerCase();
    if (!m || !key) {
      problems.push(`line ${index + 1}: expected "key = value", got ${JSON.stringify(line)}`);
      return;
    }
    const kind = CONFIG_KEYS[key];
    const value = m[2]!.trim();
    if (!kind) {
      problems.push(`line ${index + 1}: unknown key ${JSON.stringify(key)} (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
      return;
    }
    if (kind === 'number') {
      const n = Number(value);
      if (!value || !Number.isFinite(n) || n < 0) {
        problems.push(`line ${index + 1}: ${key} must be a number, got ${JSON.stringify(value)}`);
        return;
      }
      values[camel(key)] = n;
    } else if (kind === 'list') {
      ((values[camel(key)] ??= []) as string[]).push(value);
    } else values[camel(key)] = value;
  });
  return { values, problems };
}

export interface WatchConfigSource {
  /** Options given on the command line (they win over the file; lists add up). */
  cli: Partial<WatchOptions>;
  /** Which options the command line set explicitly (not defaults). */
  explicit: ReadonlySet<string>;
  defaults: WatchOptions;
}

/** Command line over configuration file over defaults. */
export function mergeOptions(source: WatchConfigSource, file: Record<string, string | number | string[]>): WatchOptions {
  const merged: Record<string, unknown> = { ...source.defaults };
  for (const [k, v] of Object.entries(file)) merged[k] = v;
  for (const [k, v] of Object.entries(source.cli)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) merged[k] = [...((file[k] as string[] | undefined) ?? []), ...v];
    else if (source.explicit.has(k)) merged[k] = v;
  }
  return merged as unknown as WatchOptions;
}

export function parseListen(spec: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(spec);
  if (!m) return undefined;
  const port = Number(m[3]);
  return port > 65535 ? undefined : { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** Monitoring Plugins output for one sample: one status line with perfdata. */
export function pluginLine(sample: Sample, conditions: readonly Condition[]): { status: keyof typeof PLUGIN; line: string } {
  const status = pluginStatus(conditions);
  const held = sample.groups.reduce((n, g) => n + g.resources.filter((r) => r.state === 'held').length, 0);
  const count = (severity: string) => conditions.filter((c) => EVENT_KINDS[c.kind].severity === severity).length;
  const sorted = [...conditions].sort((a, b) => (EVENT_KINDS[a.kind].severity === EVENT_KINDS[b.kind].severity ? 0 : EVENT_KINDS[a.kind].severity === 'critical' ? -1 : 1));
  const summary = sorted.length
    ? sorted.map((c) => `${EVENT_KINDS[c.kind].code} ${c.desc}`).join('; ')
    : `${sample.node}: heartbeat running${sample.peer ? `, peer ${sample.peer.name} ${sample.peer.status ?? 'unknown'}` : ''}${sample.links ? `, ${sample.links.filter((l) => l.status === 'up').length} of ${sample.links.length} links up` : ''}, ${held} resource(s) held${sample.groups.length ? ` (${sample.groups.map((g) => `${g.key} ${g.verdict}`).join(', ')})` : ''}`;
  const perf = [
    sample.links ? `links_up=${sample.links.filter((l) => l.status === 'up').length};;;0;${sample.links.length}` : undefined,
    `resources_held=${held};;;0;`,
    `vips_held=${sample.vips.filter((v) => v.heldHere).length};;;0;${sample.vips.length}`,
    `heartbeat_running=${sample.heartbeat.running ? 1 : 0};;;0;1`,
    `events_critical=${count('critical')};;1;0;`,
    `events_warning=${count('warning')};1;;0;`,
    `sample_time=${(sample.ms / 1000).toFixed(3)}s;;;0;`,
  ].filter(Boolean);
  return { status, line: `HA WATCH ${status} - ${summary.replace(/\|/g, '/')} | ${perf.join(' ')}` };
}

interface Loaded {
  target: WatchTarget;
  /** Problems reading the files, one line each. */
  problems: string[];
}

export class Watcher {
  private tracker: EventTracker;
  private readonly log = new Logger();
  private inFlight = new Set<BoundedChild>();
  private eventCounts = new Map<string, number>();
  private samples = 0;
  private channelFailures = 0;
  private lastSample?: Sample;
  private metricsError?: string;
  private server?: Server;
  private stopping = false;
  private reloadWanted = false;
  private wake?: () => void;
  /** heartbeat's log watched (inotify) for news of a link or a node: sampled at once, not at the next interval. */
  private logWatch?: { path: string; watcher: FSWatcher };
  private newsPending = false;
  private sampleBegan = 0;
  private target!: WatchTarget;
  private resolvedAt = 0;

  constructor(
    private options: WatchOptions,
    private readonly reread: () => WatchOptions | { error: string },
    private readonly version: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly inProcess?: WatchTarget['inProcess'],
  ) {
    this.tracker = new EventTracker(options.node.toLowerCase(), { raiseAfter: options.raiseAfter, clearAfterMs: options.clearAfter * 1000 });
  }

  /** Reads ha.cf and haresources; what cannot be read is a problem line, and the rest still works. */
  load(previous?: WatchTarget): Loaded {
    const haDir = this.options.haDir.replace(/\/+$/, '') || '/';
    const problems: string[] = [];
    let haCf: HaCfEntry[] = previous?.haCf ?? [];
    let haresources: Haresources = previous?.haresources ?? { groups: [], problems: [] };
    try {
      haCf = parseHaCf(readFileSync(`${haDir}/ha.cf`, 'utf8'));
    } catch (error) {
      problems.push(`cannot read ${haDir}/ha.cf: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}${previous ? '; keeping what was read before' : ''}`);
    }
    try {
      haresources = parseHaresources(readFileSync(`${haDir}/haresources`, 'utf8'));
    } catch (error) {
      problems.push(`cannot read ${haDir}/haresources: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}${previous ? '; keeping what was read before' : ''}`);
    }
    const node = this.options.node.toLowerCase();
    const peerName = peerOf(haCf, node);
    if (!peerName && haCf.length) problems.push(`${haDir}/ha.cf names no other node than ${node} ("node" lines): the peer is not watched`);
    const { vips, drbdResources } = targetsOf(haresources);
    const env: NodeJS.ProcessEnv = { ...this.env };
    // Heartbeat's log as heartbeat's children get it.
    env.HA_LOGFILE ??= lastValue(haCf, 'logfile')?.value;
    env.HA_DEBUGLOG ??= lastValue(haCf, 'debugfile')?.value;
    // Heartbeat exports its logfacility to its children (syslog through logger(1); "none" turns it off).
    env.HA_LOGFACILITY ??= lastValue(haCf, 'logfacility')?.value;
    env.HA_DATEFMT ??= '%Y/%m/%d_%T ';
    for (const k of ['HA_LOGFILE', 'HA_DEBUGLOG', 'HA_LOGFACILITY'] as const) if (!env[k]) delete env[k];
    this.log.configure({ name: 'ha-agent-watch', env, stdinIsTty: false });
    return {
      target: {
        node,
        haDir,
        haCf,
        haresources,
        peerName,
        peerAddress: this.options.peerAddress ?? (previous?.peerName === peerName ? previous?.peerAddress : undefined),
        vips,
        drbdResources,
        splitBrainDir: this.options.splitBrainDir,
        heartbeatPidFile: this.options.heartbeatPidfile,
        env: { ...this.env, HA_LOGFILE: '', HA_DEBUGLOG: '' },
        callTimeoutMs: this.options.callTimeout * 1000,
        inProcess: this.inProcess,
        intervalMs: this.options.interval * 1000,
        clStatusMemo: { at: 0, pid: -1 },
        peerLoss: previous?.peerLoss ?? new PeerLossMemo(Math.max(3000, 3 * this.options.interval * 1000)),
        heartbeatLog: previous?.heartbeatLog && previous.heartbeatLog.path === (lastValue(haCf, 'logfile')?.value ?? lastValue(haCf, 'debugfile')?.value) && previous.heartbeatLog.peer === peerName
          ? previous.heartbeatLog
          : new LogFollower(lastValue(haCf, 'logfile')?.value ?? lastValue(haCf, 'debugfile')?.value, peerName),
      },
      problems,
    };
  }

  /** The peer's address as this node resolves its name (/etc/hosts first, as nsswitch says), retried every 30 s until it resolves. */
  private async resolvePeer(): Promise<void> {
    const t = this.target;
    if (t.peerAddress || !t.peerName || Date.now() - this.resolvedAt < 30_000) return;
    this.resolvedAt = Date.now();
    const { lookup } = await import('node:dns/promises');
    try {
      t.peerAddress = (await lookup(t.peerName, { family: 4 })).address;
    } catch (error) {
      this.log.warn(`cannot resolve the peer ${t.peerName} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): its LAN presence is not probed; add it to /etc/hosts or give --peer-address`);
    }
  }

  private count(event: WatchEvent): void {
    const key = `${event.code} ${event.state}`;
    this.eventCounts.set(key, (this.eventCounts.get(key) ?? 0) + 1);
  }

  private logEvent(event: WatchEvent): void {
    const subject = Object.entries(event.subject).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(' ');
    const text = `${event.code} ${event.state}${subject ? ` (${subject})` : ''}: ${event.desc}`;
    if (event.state === 'cleared') this.log.info(text);
    else if (event.severity === 'critical') this.log.crit(`${text} — ${event.fix}`);
    else this.log.warn(`${text} — ${event.fix}`);
  }

  private spawnChannel(what: string, command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): void {
    if (this.inFlight.size >= 64) {
      this.channelFailures++;
      this.log.error(`${what}: not run, 64 alert channels are still running (hung hooks or MTA?)`);
      return;
    }
    const child = runBounded(command, args, { env, input, timeoutMs: this.options.alertTimeout * 1000 });
    this.inFlight.add(child);
    void child.done.then((r) => {
      this.inFlight.delete(child);
      if (r.failure) {
        this.channelFailures++;
        this.log.error(`${what} ${r.failure}`);
      }
    });
  }

  private deliver(event: WatchEvent): void {
    this.count(event);
    this.logEvent(event);
    if (this.options.json) writeStdout(`${JSON.stringify(event)}\n`);
    for (const spec of this.options.alertExec) {
      const { path, recipient } = parseHookSpec(spec);
      const env = { ...this.env, ...hookEnvironment(event, recipient, this.version) };
      this.spawnChannel(`alert hook ${path} for ${event.code} ${event.state}:`, path, [], env);
    }
    if (this.options.mailTo.length) {
      this.spawnChannel(`mail to ${this.options.mailTo.join(', ')} for ${event.code} ${event.state} (${this.options.sendmail} -t):`, this.options.sendmail, ['-t', '-oi'], { ...this.env }, mailMessage(event, this.options.mailTo, this.options.mailFrom));
    }
  }

  private metricsText(): string {
    return renderMetrics({ sample: this.lastSample, active: this.tracker.active(), eventCounts: this.eventCounts, samples: this.samples, channelFailures: this.channelFailures });
  }

  private writeMetricsFile(): void {
    const path = this.options.metricsFile;
    if (!path) return;
    try {
      writeAtomically(path, this.metricsText());
      if (this.metricsError) this.log.info(`metrics file ${path} written again`);
      this.metricsError = undefined;
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      // One line when it starts failing, not one per interval.
      if (this.metricsError !== why) this.log.error(`cannot write the metrics file ${path}: ${why}; sampling goes on, retried every sample`);
      this.metricsError = why;
    }
  }

  private async startServer(): Promise<void> {
    const spec = this.options.listen;
    if (!spec) return;
    const where = parseListen(spec);
    if (!where) {
      this.log.error(`--listen ${spec}: expected ADDRESS:PORT (127.0.0.1:9664, [::1]:9664); /metrics is not served`);
      return;
    }
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(this.metricsText());
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('ha-agent watch serves /metrics\n');
      }
    });
    await new Promise<void>((resolve) => {
      server.once('error', (error) => {
        this.log.error(`cannot listen on ${spec}: ${(error as NodeJS.ErrnoException).code ?? error.message}; /metrics is not served, sampling goes on`);
        resolve();
      });
      server.listen(where.port, where.host, () => {
        this.server = server;
        this.log.info(`serving /metrics on ${spec}`);
        resolve();
      });
    });
  }

  private reload(): void {
    const next = this.reread();
    if ('error' in next) {
      this.log.error(`reload: ${next.error}; keeping the running configuration`);
    } else {
      this.options = next;
      this.tracker.setDamping({ raiseAfter: next.raiseAfter, clearAfterMs: next.clearAfter * 1000 });
    }
    const loaded = this.load(this.target);
    for (const p of loaded.problems) this.log.error(`reload: ${p}`);
    // The kept arpings end (by PID) with the old configuration (its VIPs,
    // its interval); the next sample starts those it needs.
    const arpWatches = this.target.arpWatches;
    void stopArpWatches(arpWatches);
    this.target = { ...loaded.target, arpWatches };
    this.resolvedAt = 0;
    this.log.info(`reloaded: ${this.describeTarget()}`);
  }

  private describeTarget(): string {
    const t = this.target;
    return `node ${t.node}, peer ${t.peerName ?? 'none'}${t.peerAddress ? ` (${t.peerAddress})` : ''}, ${t.haresources.groups.length} group(s), VIPs ${t.vips.map((v) => v.ip).join(' ') || 'none'}, DRBD ${t.drbdResources.join(' ') || 'none'}, every ${this.options.interval} s`;
  }

  /** --once: one sample, the Monitoring Plugins verdict. */
  async once(): Promise<number> {
    const loaded = this.load();
    this.target = loaded.target;
    if (loaded.problems.some((p) => /ha\.cf|haresources/.test(p) && /cannot read/.test(p))) {
      writeStdout(`HA WATCH UNKNOWN - ${loaded.problems.join('; ')}\n`);
      return PLUGIN.UNKNOWN;
    }
    await this.resolvePeer();
    const sample = await takeSample(this.target);
    const conditions = deriveConditions(sample);
    const { status, line } = pluginLine(sample, conditions);
    if (this.options.json) {
      writeStdout(`${JSON.stringify({ status, exitCode: PLUGIN[status], events: conditions.map((c) => ({ ...EVENT_KINDS[c.kind], kind: c.kind, desc: c.desc, subject: c.subject })), sample }, null, 2)}\n`);
    } else writeStdout(`${line}\n`);
    return PLUGIN[status];
  }

  /** The loop, until SIGTERM (or SIGINT). Returns the exit code. */
  async run(): Promise<number> {
    const loaded = this.load();
    // Only the long-running watcher keeps an arping per held VIP (--once probes once).
    this.target = { ...loaded.target, arpWatches: new Map() };
    for (const p of loaded.problems) this.log.error(p);
    const onTerm = () => this.stop();
    const onHup = () => {
      this.reloadWanted = true;
      this.wake?.();
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onTerm);
    process.on('SIGHUP', onHup);
    await this.startServer();
    this.log.info(`watching: ${this.describeTarget()}; damping: raise after ${this.options.raiseAfter} sample(s), clear after ${this.options.clearAfter} s`);
    try {
      while (!this.stopping) {
        if (this.reloadWanted) {
          this.reloadWanted = false;
          this.reload();
        }
        const began = (this.sampleBegan = Date.now());
        this.newsPending = false;
        await this.resolvePeer();
        const sample = await takeSample(this.target);
        if (this.stopping) break;
        this.samples++;
        this.lastSample = sample;
        for (const event of this.tracker.update(deriveConditions(sample), sample.at)) this.deliver(event);
        this.writeMetricsFile();
        this.watchHeartbeatLog();
        // News in heartbeat's log while sampling: sampled again at once (at most every NEWS_GAP_MS).
        const wait = this.newsPending
          ? Math.max(0, NEWS_GAP_MS - (Date.now() - began))
          : Math.max(0, this.options.interval * 1000 - (Date.now() - began));
        if (!this.stopping && !this.reloadWanted) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
        }
      }
    } finally {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onTerm);
      process.off('SIGHUP', onHup);
    }
    await this.shutdown();
    return 0;
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /**
   * Why: heartbeat declares a link or the peer dead `deadtime` after its
   * last heartbeat, and says so in its log; waiting for the next interval
   * on top of that was most of the time from a cut link to the alert
   * beyond deadtime. Each write to the log wakes this; only heartbeat's
   * news (hasHeartbeatNews: not ResourceManager's lines, not our own)
   * starts a sample, at most one per NEWS_GAP_MS. A log that is not there
   * yet, or was rotated, is watched again from the next sample on.
   */
  private watchHeartbeatLog(): void {
    const follower = this.target.heartbeatLog;
    const path = follower?.path && follower.peer ? follower.path : undefined;
    if (this.logWatch && this.logWatch.path === path) return;
    this.logWatch?.watcher.close();
    this.logWatch = undefined;
    if (!path || !follower) return;
    const drop = () => {
      if (this.logWatch?.path !== path) return;
      this.logWatch.watcher.close();
      this.logWatch = undefined;
    };
    try {
      const watcher = watchFile(path, { persistent: false }, (type) => {
        if (type === 'rename') drop();
        const before = follower.newsAt;
        follower.poll();
        if (follower.newsAt === before) return;
        this.newsPending = true;
        const wake = this.wake;
        if (wake) setTimeout(wake, Math.max(0, NEWS_GAP_MS - (Date.now() - this.sampleBegan)));
      });
      watcher.on('error', drop);
      this.logWatch = { path, watcher };
    } catch {
      // Not there (yet): tried again after the next sample.
    }
  }

  /** Waits for running hooks and mails up to their timeout (they are bounded), closes the server, writes the metrics one last time. */
  private async shutdown(): Promise<void> {
    const pending = [...this.inFlight];
    if (pending.length) {
      this.log.info(`stopping: waiting for ${pending.length} alert channel(s), at most ${this.options.alertTimeout} s`);
      await Promise.all(pending.map((c) => c.done));
    }
    this.logWatch?.watcher.close();
    this.logWatch = undefined;
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    await stopArpWatches(this.target.arpWatches);
    this.writeMetricsFile();
    this.log.info('stopped (SIGTERM)');
  }
}

/** The shortest time between two samples started by news in heartbeat's log (a flapping link logs a line per change). */
const NEWS_GAP_MS = 200;

/** Reads the configuration file (explicit --config, else HA_DIR/watch.conf when it exists). */
export function readConfigFile(path: string | undefined, haDir: string): { values: Record<string, string | number | string[]>; problems: string[]; path?: string } {
  const file = path ?? `${haDir.replace(/\/+$/, '')}/watch.conf`;
  if (!path && !existsSync(file)) return { values: {}, problems: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { values: {}, problems: [`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`], path: file };
  }
  const parsed = parseWatchConfig(text);
  return { ...parsed, problems: parsed.problems.map((p) => `${file}: ${p}`), path: file };
}

export { DEFAULT_DAMPING };
