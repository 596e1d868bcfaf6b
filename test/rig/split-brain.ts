import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { Cluster, NODES, VIP, sleep, type NodeName, type NodeState } from './cluster.ts';
import { hasLocalAddress, hasMountOn, isDrbdPrimary } from './node-state.ts';
import { singleHolder } from './scenarios.ts';

// The tutorial's last section as scenarios over the cluster rig: split
// brain. Both nodes stay alive and the service LAN stays up, but master2
// stops hearing master1 and runs takegroup for a group master1 still holds.
//   heartbeat-link     the dedicated heartbeat link (eth2) fails for
//                      deadtime + 40 s, then comes back;
//   processes-killed   every process of master1 dies (heartbeat, mysqld, ...),
//                      the node itself stays up: the VIP, the mount and the
//                      DRBD Primary role are kernel state and stay on master1;
//                      after the same time the operator starts heartbeat there again.
// While it lasts, a sampler records each node's VIP, DRBD role, mount and
// mysqld, and `ip monitor` records every change of the VIP on either node
// (no sampling gap). Shared by test/e2e/split-brain.test.ts (assertions) and
// bench/split-brain-phase.ts (the duplicate-VIP window, stock and ours).

export type SplitBrainKind = 'heartbeat-link' | 'processes-killed';

export const SPLIT_BRAIN_TRIGGERS: Record<SplitBrainKind, string> = {
  'heartbeat-link': 'heartbeat link (eth2) down, both nodes and the LAN up',
  'processes-killed': 'every process of master1 killed (not its PID 1), the node itself up',
};

export interface NodeSample {
  vip: boolean;
  primary: boolean;
  mounted: boolean;
  mysqld: boolean;
}

export interface Sample {
  t: number;
  nodes: Record<NodeName, NodeSample>;
}

export interface Interval {
  from: number;
  to: number;
}

export interface SplitBrainResult {
  kind: SplitBrainKind;
  trigger: string;
  triggerAt: number;
  /** Link back up / heartbeat started again on master1. */
  healAt?: number;
  endAt: number;
  /** Heartbeat on master2 declared master1 dead (ha-log seen), ms after the trigger. */
  declaredDeadAfterMs?: number;
  samples: Sample[];
  /** Gaps between consecutive samples (ms): median, 95th percentile, max. */
  sampleGapMs: { median: number; p95: number; max: number };
  /** Per node: ever seen holding each thing while the scenario ran (samples). */
  ever: Record<NodeName, NodeSample>;
  /** Moments (sampled) two nodes held the same thing, per thing. */
  bothSampled: Record<keyof NodeSample, number>;
  /** Per node, when the VIP was configured (ip monitor events: no sampling gap). */
  vipIntervals: Record<NodeName, Interval[]>;
  /** Total time the VIP was configured on both nodes at once (ip monitor), ms. */
  duplicateVipMs: number;
  /** The same from the samples (sample-to-sample), ms. */
  duplicateVipSampledMs: number;
  /** Resource script runs logged by ResourceManager on master2 since the trigger (until the heal). */
  master2Runs: { script: string; action: string }[];
  /** master2's ha-log lines since the trigger (until the heal). */
  master2LogDuringOutage: string[];
  /** ha-log lines of both nodes after the heal. */
  logAfterHeal: Record<NodeName, string[]>;
  /** Writes acknowledged by master2 while the scenario ran. */
  writesServedByMaster2: number;
  /** New reboot/pkill stub calls per node since the trigger. */
  stubCalls: Record<NodeName, string[]>;
  /** master1's eth1 MAC (who answers for the VIP). */
  master1Mac: string;
  /** PIDs killed in master1 (processes-killed). */
  killed?: number[];
  /** After the heal: the settled state. */
  holder?: NodeName;
  states: NodeState[];
  /** Heal → heartbeat logged that it saw the other node again. */
  rejoinSeenAfterMs?: number;
  /** Longest stretch without an acknowledged write through the VIP after the heal (heartbeat's own reaction). */
  writeGapAfterHealMs?: number;
  /** drbdadm calls master2 made during the fault (the double logs every call). */
  master2DrbdCalls: string[];
  committedRows: number;
  missingRows: number[];
  error?: string;
}

export interface SplitBrainOptions {
  /** How long the fault lasts; default deadtime + 40 s. */
  holdMs?: number;
  /** Sampling interval of the sampler (ms). */
  sampleMs?: number;
  /** After the heal: how long to wait for one holder and a write through the VIP. */
  settleTimeoutMs?: number;
  /** How long one node must hold the group unchanged before the end state is judged. */
  stableMs?: number;
}

// Heartbeat repeats an auto_failback standby request ~10 s after the first
// (seen after a restart): the end state is judged only once it is quiet.
const STABLE_MS = 12_000;

// ---------------------------------------------------------------- observing

/** PIDs whose PID namespace is `nsLink` (readlink of /proc/PID/ns/pid); zombies left out. */
function pidsInPidNamespace(nsLink: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== nsLink) continue;
      if (procState(Number(entry)).state === 'Z') continue;
      out.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

function procState(pid: number): { comm: string; state: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = stat.lastIndexOf(')');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), state: stat.slice(close + 2, close + 3) };
}

/** The node's processes: descendants of its init (orphans are reparented to it). */
function descendants(init: number): number[] {
  const out: number[] = [];
  const queue = [init];
  while (queue.length) {
    const pid = queue.shift()!;
    let tasks: string[] = [];
    try { tasks = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
          out.push(Number(child));
          queue.push(Number(child));
        }
      } catch { /* gone */ }
    }
  }
  return out;
}

/** A live MariaDB server among the node's processes (by executable: our agent is also called mysqld). */
function mysqldRunning(init: number): boolean {
  return descendants(init).some((pid) => {
    try {
      return /\/(mariadbd|mysqld)$/.test(readlinkSync(`/proc/${pid}/exe`)) && procState(pid).state !== 'Z';
    } catch {
      return false;
    }
  });
}

const PATH_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const NONE: NodeSample = { vip: false, primary: false, mounted: false, mysqld: false };

/** One look at both nodes: VIP configured, DRBD Primary (the double's state), /data mounted, a live mysqld. */
export async function sampleNodes(cluster: Cluster): Promise<Sample> {
  const nodes = { master1: { ...NONE }, master2: { ...NONE } } as Record<NodeName, NodeSample>;
  for (const node of NODES.filter((n) => cluster.nodes[n]?.alive)) {
    const init = cluster.nodes[node]!.initPid;
    const s = nodes[node];
    s.vip = hasLocalAddress(init, VIP);
    s.mounted = hasMountOn(init, '/data');
    s.primary = isDrbdPrimary(cluster.drbdState, node);
    s.mysqld = mysqldRunning(init);
  }
  return { t: Date.now(), nodes };
}

/** Samples both nodes every intervalMs (or as fast as a sample takes) until stopped. */
export class SafetySampler {
  readonly samples: Sample[] = [];
  private running = false;
  private loop?: Promise<void>;

  constructor(private readonly cluster: Cluster, private readonly intervalMs = 50) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const began = Date.now();
        try {
          this.samples.push(await sampleNodes(this.cluster));
        } catch { /* a node going away mid-sample: the next sample sees it */ }
        await sleep(Math.max(0, this.intervalMs - (Date.now() - began)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/**
 * `ip monitor address` in each node's network namespace: every add and
 * delete of the VIP, stamped when seen, so "the VIP was on both nodes" does
 * not depend on a sample landing in the window.
 */
export class VipWatch {
  readonly intervals: Record<NodeName, Interval[]> = { master1: [], master2: [] };
  private readonly since: Partial<Record<NodeName, number>> = {};
  private readonly children: ChildProcess[] = [];

  constructor(private readonly cluster: Cluster) {}

  async start(): Promise<void> {
    for (const node of NODES) {
      const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'ip', '-n', this.cluster.ns[node], '-o', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'], env: PATH_ENV });
      this.children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.includes(` inet ${VIP}/`)) return;
        this.set(node, !line.startsWith('Deleted'), Date.now());
      });
    }
    // Let the monitors subscribe, then read where the VIP is now.
    await sleep(300);
    const now = await sampleNodes(this.cluster);
    for (const node of NODES) if (now.nodes[node].vip && this.since[node] === undefined) this.set(node, true, now.t);
  }

  private set(node: NodeName, on: boolean, t: number): void {
    const since = this.since[node];
    if (on && since === undefined) this.since[node] = t;
    if (!on && since !== undefined) {
      this.intervals[node].push({ from: since, to: t });
      delete this.since[node];
    }
  }

  stop(): Record<NodeName, Interval[]> {
    const t = Date.now();
    for (const child of this.children) child.kill('SIGKILL');
    for (const node of NODES) {
      const since = this.since[node];
      if (since !== undefined) this.intervals[node].push({ from: since, to: t });
    }
    return this.intervals;
  }
}

/** Total overlap of two interval lists (ms). */
export function overlapMs(a: Interval[], b: Interval[]): number {
  let total = 0;
  for (const x of a) for (const y of b) total += Math.max(0, Math.min(x.to, y.to) - Math.max(x.from, y.from));
  return total;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

// ---------------------------------------------------------------- faults

/**
 * Kills (SIGKILL, by PID) every process in the node's PID namespace except
 * its PID 1, until none is left: heartbeat, mysqld, announcers. Everything
 * in that namespace was started by this rig. Kernel state stays: the
 * address on eth1, the mount, the DRBD role.
 */
export async function killNodeProcesses(cluster: Cluster, node: NodeName): Promise<number[]> {
  const sb = cluster.nodes[node];
  if (!sb?.alive) throw new Error(`${node} is not up`);
  const nsLink = readlinkSync(`/proc/${sb.initPid}/ns/pid`);
  const killed = new Set<number>();
  cluster.say(`${node}: every process killed except PID 1 (the node stays up: VIP, mount, DRBD role remain)`);
  for (let round = 0; round < 50; round++) {
    const pids = pidsInPidNamespace(nsLink).filter((p) => p !== sb.initPid);
    if (!pids.length) return [...killed];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch { /* gone */ }
    }
    await sleep(60);
  }
  throw new Error(`processes of ${node} kept appearing: ${pidsInPidNamespace(nsLink).join(' ')}`);
}

async function macOf(cluster: Cluster, node: NodeName, dev: string): Promise<string> {
  const r = await execa('ip', ['-n', cluster.ns[node], '-j', 'link', 'show', 'dev', dev], { env: PATH_ENV });
  return String((JSON.parse(r.stdout) as { address: string }[])[0]?.address ?? '').toLowerCase();
}

// ---------------------------------------------------------------- scenarios

/** Both nodes' heartbeat up, master1 holds the group, the client writes through the VIP. */
export async function startClusterWithWriter(cluster: Cluster, writeIntervalMs = 100, timeoutMs = 120_000): Promise<void> {
  const startAt = Date.now();
  await Promise.all(NODES.map((n) => cluster.bootNode(n)));
  await Promise.all(NODES.map((n) => cluster.startHeartbeat(n)));
  await cluster.waitForHolder('master1', timeoutMs);
  await cluster.waitForSql();
  await cluster.createSchema();
  cluster.startWriter(writeIntervalMs);
  await cluster.waitForWriteBy('master1', startAt, timeoutMs);
  cluster.say(`master1 holds the group and serves writes (${((Date.now() - startAt) / 1000).toFixed(1)} s after start)`);
}

/** Settled: one node holds the whole group and the other none of it. */
function soleHolder(states: NodeState[]): NodeName | undefined {
  return NODES.find((n) => singleHolder(states, n));
}

/**
 * Runs one split-brain scenario on a cluster started with
 * startClusterWithWriter: the fault for holdMs, then the heal, then waits
 * for one holder and a write through the VIP served by it.
 */
export async function runSplitBrain(cluster: Cluster, kind: SplitBrainKind, options: SplitBrainOptions = {}): Promise<SplitBrainResult> {
  const holdMs = options.holdMs ?? cluster.options.timings.deadtime * 1000 + 40_000;
  const sampler = new SafetySampler(cluster, options.sampleMs ?? 50);
  const vips = new VipWatch(cluster);
  const logOffset = { master1: cluster.haLog('master1').length, master2: cluster.haLog('master2').length };
  const runsBefore = cluster.resourceRuns('master2').length;
  const drbdLogOffset = cluster.nodeLog('master2', 'drbdadm-calls.log').length;
  const stubsBefore = { master1: cluster.stubCalls('master1').length, master2: cluster.stubCalls('master2').length };
  const master1Mac = await macOf(cluster, 'master1', 'eth1');
  await vips.start();
  sampler.start();
  const result: SplitBrainResult = {
    kind, trigger: SPLIT_BRAIN_TRIGGERS[kind], triggerAt: Date.now(), endAt: 0, samples: [], sampleGapMs: { median: 0, p95: 0, max: 0 },
    ever: { master1: { ...NONE }, master2: { ...NONE } }, bothSampled: { vip: 0, primary: 0, mounted: 0, mysqld: 0 },
    vipIntervals: { master1: [], master2: [] }, duplicateVipMs: 0, duplicateVipSampledMs: 0, master2Runs: [], master2LogDuringOutage: [],
    logAfterHeal: { master1: [], master2: [] }, master2DrbdCalls: [], writesServedByMaster2: 0, stubCalls: { master1: [], master2: [] }, master1Mac,
    states: [], committedRows: 0, missingRows: [],
  };
  const newLog = (node: NodeName, from: number) => cluster.haLog(node).slice(from).split('\n').filter(Boolean);
  try {
    cluster.say(`--- split brain (${kind}): ${result.trigger}, for ${(holdMs / 1000).toFixed(0)} s`);
    result.triggerAt = Date.now();
    if (kind === 'heartbeat-link') await cluster.setHeartbeatLink(false);
    else result.killed = await killNodeProcesses(cluster, 'master1');
    while (Date.now() < result.triggerAt + holdMs) {
      if (result.declaredDeadAfterMs === undefined && /node master1: is dead/.test(cluster.haLog('master2').slice(logOffset.master2))) {
        result.declaredDeadAfterMs = Date.now() - result.triggerAt;
        cluster.say(`master2 declared master1 dead (${(result.declaredDeadAfterMs / 1000).toFixed(1)} s after the trigger)`);
      }
      await sleep(200);
    }
    const healOffset = { master1: cluster.haLog('master1').length, master2: cluster.haLog('master2').length };
    result.master2LogDuringOutage = newLog('master2', logOffset.master2);
    result.master2Runs = cluster.resourceRuns('master2').slice(runsBefore).map(({ script, action }) => ({ script, action }));
    result.master2DrbdCalls = cluster.nodeLog('master2', 'drbdadm-calls.log').slice(drbdLogOffset).split('\n').filter(Boolean);
    result.healAt = Date.now();
    if (kind === 'heartbeat-link') await cluster.setHeartbeatLink(true);
    else await cluster.startHeartbeat('master1'); // the operator: /etc/init.d/heartbeat start on master1
    // Heartbeat reacts to the rejoin first (v1 after a partition: both nodes
    // give up everything and restart; after a restart: auto_failback), then
    // the group settles. Judge only once one node has held the whole group,
    // and served writes through the VIP, for STABLE_MS without a change.
    const settleTimeoutMs = options.settleTimeoutMs ?? 90_000;
    const deadline = Date.now() + settleTimeoutMs;
    const rejoin = kind === 'heartbeat-link' ? /returning after partition/ : /Heartbeat restart on node master1/;
    while (!NODES.some((n) => rejoin.test(cluster.haLog(n).slice(healOffset[n])))) {
      if (Date.now() > deadline) throw new Error(`heartbeat did not notice the rejoin (${rejoin.source}) within ${settleTimeoutMs} ms`);
      await sleep(100);
    }
    result.rejoinSeenAfterMs = Date.now() - result.healAt;
    let stable: { holder: NodeName; since: number } | undefined;
    for (;;) {
      const states = await cluster.states();
      const holder = soleHolder(states);
      if (!holder || holder !== stable?.holder) stable = holder ? { holder, since: Date.now() } : undefined;
      if (stable && cluster.firstWriteBy(stable.holder, stable.since) && Date.now() - stable.since >= (options.stableMs ?? STABLE_MS)) break;
      if (Date.now() > deadline) throw new Error(`no single holder serving writes for ${options.stableMs ?? STABLE_MS} ms within ${settleTimeoutMs} ms of the heal: ${JSON.stringify(states)}`);
      await sleep(250);
    }
    result.states = await cluster.states();
    result.holder = soleHolder(result.states);
    const okAfterHeal = cluster.writes.filter((w) => w.ok !== undefined && w.t >= result.healAt!).map((w) => w.t);
    result.writeGapAfterHealMs = Math.max(0, ...okAfterHeal.slice(1).map((t, i) => t - okAfterHeal[i]!), okAfterHeal.length ? okAfterHeal[0]! - result.healAt : 0);
    result.missingRows = await cluster.missingRows();
    result.committedRows = cluster.committedIds.length;
    result.logAfterHeal = { master1: newLog('master1', healOffset.master1), master2: newLog('master2', healOffset.master2) };
    cluster.say(`after the heal: ${result.holder ?? 'no single node'} holds the group; ${result.committedRows} rows committed, ${result.missingRows.length} missing`);
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    result.states = await cluster.states().catch(() => []);
    cluster.say(`FAILED: ${result.error}`);
  } finally {
    await sampler.stop();
    result.vipIntervals = vips.stop();
    result.endAt = Date.now();
  }
  result.samples = sampler.samples;
  const gaps = result.samples.slice(1).map((s, i) => s.t - result.samples[i]!.t).sort((a, b) => a - b);
  result.sampleGapMs = { median: percentile(gaps, 0.5), p95: percentile(gaps, 0.95), max: gaps.at(-1) ?? 0 };
  for (const [i, s] of result.samples.entries()) {
    for (const key of Object.keys(NONE) as (keyof NodeSample)[]) {
      for (const node of NODES) result.ever[node][key] ||= s.nodes[node][key];
      if (s.nodes.master1[key] && s.nodes.master2[key]) {
        result.bothSampled[key] += 1;
        if (key === 'vip') result.duplicateVipSampledMs += (result.samples[i + 1]?.t ?? s.t) - s.t;
      }
    }
  }
  result.duplicateVipMs = overlapMs(result.vipIntervals.master1, result.vipIntervals.master2);
  result.writesServedByMaster2 = cluster.writes.filter((w) => w.ok !== undefined && w.node === 'master2' && w.t >= result.triggerAt).length;
  result.stubCalls = { master1: cluster.stubCalls('master1').slice(stubsBefore.master1), master2: cluster.stubCalls('master2').slice(stubsBefore.master2) };
  return result;
}

/** One line per fact, for the demo and for test comments. */
export function describeSplitBrain(r: SplitBrainResult): string[] {
  const s = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
  return [
    `${r.kind}: ${r.trigger}; healed after ${s(r.healAt && r.healAt - r.triggerAt)}`,
    `master2 declared master1 dead after ${s(r.declaredDeadAfterMs)}; master2 ran: ${r.master2Runs.map((x) => `${x.script} ${x.action}`).join(', ') || 'nothing'}`,
    `VIP on both nodes: ${r.duplicateVipMs} ms (ip monitor), ${r.duplicateVipSampledMs} ms (samples); master2 ever: ${JSON.stringify(r.ever.master2)}`,
    `${r.samples.length} samples, gap median ${r.sampleGapMs.median} ms, p95 ${r.sampleGapMs.p95} ms, max ${r.sampleGapMs.max} ms`,
    `after the heal: heartbeat saw the rejoin after ${s(r.rejoinSeenAfterMs)}; holder ${r.holder ?? 'none'}; longest write gap ${s(r.writeGapAfterHealMs)}; ${r.committedRows} rows committed, ${r.missingRows.length} missing`,
  ];
}
