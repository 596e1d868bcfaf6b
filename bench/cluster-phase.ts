// Group and failover rows, from the e2e harness (test/rig/cluster.ts): the
// tutorial's group through stock ResourceManager (takegroup + givegroup),
// and two-node failover with the stock heartbeat daemon (graceful stop of
// master1, crash of master1), for three resource.d: ours, the tutorial's
// stock group and the tuned shell group (stock scripts + a readiness-polling
// mysqld), each in its own cluster, the order rotating every round. Every
// cluster runs with the rig's millisecond timeline (test/rig/timeline.ts):
// each resource's phase in takegroup/givegroup, and each failover split into
// heartbeat / each script / client.
// Usage (from run.sh): bun bench/cluster-phase.ts --tmp DIR --agents DIR --out FILE [--quick] [--no-failover]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { measureFloor, noopResourceDir } from './floor.ts';
import { stats } from './lib/measure.ts';
import { phaseArgs } from './lib/args.ts';
import { makeStockResourceDir } from './lib/stock.ts';
import { SIDES, noteKey, type PhaseResult, type Row, type Side } from './lib/types.ts';
import { RESOURCE_SCRIPTS, resourcePhases, splitScenario, writeTimelinePage, type ScenarioSplit } from '../test/rig/timeline.ts';

const { ROOT, argv, opt, quick, TMP, AGENTS, OUT } = phaseArgs('cluster.json');
// Slow rows, few samples: each failover cycle is graceful failover, failback,
// crash failover, then master1's return after the crash (rejoin).
const GROUP_ROUNDS = Number(opt('--group-rounds', quick ? '1' : '5'));
const FAILOVER_CYCLES = Number(opt('--failover-cycles', quick ? '1' : '5'));
const withFailover = !argv.includes('--no-failover');
/** Pause before every failover trigger (not timed), the same for every side. */
const SETTLE_MS = quick ? 1000 : 3000;
const ID = opt('--id', `bn${process.pid}`)!;
/** `ha-agent timeline --html` pages, one per failover scenario and side. */
const PAGES = opt('--pages', `${ROOT}/bench/results/pages`)!;

/** Per scenario and side: each sample's split (trigger → first write). */
type Splits = Record<string, Partial<Record<Side, Omit<ScenarioSplit, 'phases'>[]>>>;
const result: PhaseResult & { stock?: Record<string, string>; floor?: unknown; splits?: Splits } = { rows: [], rss: [], notes: [], splits: {} };
const rows = {
  take: { id: 'group.take', section: 'group', label: 'ResourceManager takegroup (tutorial group)', unit: 'ms' } as Row,
  give: { id: 'group.give', section: 'group', label: 'ResourceManager givegroup (tutorial group)', unit: 'ms' } as Row,
  takegive: { id: 'group.takegive', section: 'group', label: 'ResourceManager takegroup + givegroup', unit: 'ms' } as Row,
  graceful: { id: 'failover.graceful', section: 'failover', label: 'two-node failover, graceful (heartbeat stop on master1) → first write via VIP on master2', unit: 's' } as Row,
  failback: { id: 'failover.failback', section: 'failover', label: 'auto_failback (heartbeat start on master1) → first write via VIP on master1', unit: 's' } as Row,
  crash: { id: 'failover.crash', section: 'failover', label: 'two-node failover, crash of master1 → first write via VIP on master2', unit: 's' } as Row,
  rejoin: { id: 'failover.rejoin', section: 'failover', label: 'rejoin after the crash (master1 back, auto_failback) → first write via VIP on master1', unit: 's' } as Row,
};
/** Each resource's phase inside takegroup / givegroup (status call included, as ResourceManager runs it). */
const phaseRows: Record<string, Row> = {};
for (const action of ['start', 'stop'] as const) {
  for (const script of RESOURCE_SCRIPTS) {
    phaseRows[`${action}.${script}`] = { id: `group.${action === 'start' ? 'take' : 'give'}.${script}`, section: 'group', label: `  ${action === 'start' ? 'takegroup' : 'givegroup'}: ${script} phase (${action === 'start' ? 'status + start' : 'stop'})`, unit: 'ms' };
  }
}

function save() {
  writeFileSync(OUT, JSON.stringify(result, null, 2));
}

function pendingAll(reason: string) {
  for (const row of Object.values(rows)) {
    row.pending = true;
    row.note = reason;
  }
  result.rows.push(...Object.values(rows));
  save();
}

/** The stock or tuned side's resource.d (bench/lib/stock.ts). */
function stockResourceDir(side: 'stock' | 'tuned'): string {
  const { dir, description } = makeStockResourceDir(TMP, ROOT, side);
  result.stock = { cluster: description };
  return dir;
}

const rotation = (i: number): Side[] => [...SIDES.slice(i % SIDES.length), ...SIDES.slice(0, i % SIDES.length)];
const emptySamples = () => ({ ours: [] as number[], stock: [] as number[], tuned: [] as number[] });

async function main() {
  const harness = `${ROOT}/test/rig/cluster.ts`;
  if (!existsSync(harness)) return pendingAll('waits for the e2e harness (test/rig/cluster.ts, issue 7)');
  let mod: typeof import('../test/rig/cluster.ts');
  try {
    mod = await import(harness);
  } catch (error) {
    return pendingAll(`e2e harness did not load: ${(error as Error).message.split('\n')[0]}`);
  }
  const { Cluster, GROUP, sleep } = mod;
  type ClusterT = Awaited<ReturnType<typeof Cluster.create>>;
  type ClusterNode = import('../test/rig/cluster.ts').NodeName;
  const dirs: Record<Side, string> = { ours: AGENTS, stock: stockResourceDir('stock'), tuned: stockResourceDir('tuned') };
  const clusters: Partial<Record<Side, ClusterT>> = {};
  let floorCluster: ClusterT | undefined;
  const samples = {
    take: emptySamples(), give: emptySamples(), takegive: emptySamples(),
    graceful: emptySamples(), failback: emptySamples(), crash: emptySamples(), rejoin: emptySamples(),
  };
  const phaseSamples: Record<string, Record<Side, number[]>> = Object.fromEntries(Object.keys(phaseRows).map((k) => [k, emptySamples()]));
  const writable: Record<Side, [number, number]> = { ours: [0, 0], stock: [0, 0], tuned: [0, 0] };
  const failed: Partial<Record<Side, string>> = {};
  const fail = (side: Side, what: string, error: unknown) => {
    failed[side] ??= `${what}: ${(error as Error).message.split('\n')[0]!.slice(0, 200)}`;
    result.notes.push(`${side} cluster: ${what}: ${(error as Error).message.split('\n').slice(0, 3).join(' / ').slice(0, 400)}`);
  };
  const split = async (side: Side, scenario: string, cluster: ClusterT, trigger: number, write: Parameters<typeof splitScenario>[2]) => {
    try {
      const { phases: _phases, ...rest } = splitScenario(cluster.timelineLines(), trigger, write, cluster.connectTimes);
      ((result.splits![scenario] ??= {})[side] ??= []).push(rest);
    } catch (error) {
      result.notes.push(`${side}: timeline of ${scenario}: ${(error as Error).message}`);
    }
    // One page per scenario and side (the last cycle's), `ha-agent timeline --html` over the window,
    // in bench/results/pages/ (not committed; run.sh's TMP goes at exit).
    try {
      mkdirSync(PAGES, { recursive: true });
      await writeTimelinePage(cluster.timelineInputs(), `${PAGES}/timeline-${side}-${scenario}.html`, { from: trigger - 5000, to: write.t + 2000, title: `bench: ${scenario}, ${side} agents` });
    } catch (error) {
      result.notes.push(`${side}: timeline page of ${scenario}: ${(error as Error).message}`);
    }
  };

  try {
    for (const side of SIDES) {
      process.stderr.write(`bench: setting up the ${side} cluster\n`);
      try {
        clusters[side] = await Cluster.create({ id: `${ID}-${side[0]}`, agentsDir: dirs[side], workBase: TMP, timeline: true });
      } catch (error) {
        fail(side, 'cluster setup', error);
      }
    }

    // ---- takegroup + givegroup through stock ResourceManager on master1 (no daemon)
    const first = GROUP[0]!;
    for (const side of SIDES) {
      const cluster = clusters[side];
      if (!cluster || failed[side]) continue;
      try {
        // Untimed warm-up round: creates the schema the timed rounds write to.
        const sb = await cluster.bootNode('master1');
        await sb.resourceManager(['takegroup', first]);
        await cluster.waitForSql(60_000);
        await cluster.createSchema();
        await sb.resourceManager(['givegroup', first]);
      } catch (error) {
        fail(side, 'group warm-up', error);
      }
    }
    for (let round = 0; round < GROUP_ROUNDS; round++) {
      for (const side of rotation(round)) {
        const cluster = clusters[side];
        if (!cluster || failed[side]) continue;
        process.stderr.write(`bench: takegroup/givegroup ${side} ${round + 1}/${GROUP_ROUNDS}\n`);
        try {
          const sb = await cluster.bootNode('master1');
          const wall0 = Date.now();
          const t0 = performance.now();
          const take = await sb.resourceManager(['takegroup', first]);
          const tookMs = performance.now() - t0;
          // Target: MySQL accepts writes when takegroup returns. One write, at once.
          writable[side][1]++;
          try {
            await cluster.writeRows(1);
            writable[side][0]++;
          } catch { /* not yet accepting writes */ }
          const held = (s: Awaited<ReturnType<typeof cluster.nodeState>>) => s.vip && s.mounted && s.role === 'Primary' && s.mysqld;
          const released = (s: Awaited<ReturnType<typeof cluster.nodeState>>) => !s.vip && !s.mounted && s.role !== 'Primary' && !s.mysqld;
          const state = await settle(() => cluster.nodeState('master1'), held, side, 'takegroup');
          if (!held(state)) throw new Error(`takegroup left master1 without the whole group (exit ${take.exitCode}): ${JSON.stringify(state)}`);
          const t1 = performance.now();
          const give = await sb.resourceManager(['givegroup', first]);
          const gaveMs = performance.now() - t1;
          const after = await settle(() => cluster.nodeState('master1'), released, side, 'givegroup');
          if (!released(after)) throw new Error(`givegroup left part of the group held (exit ${give.exitCode}): ${JSON.stringify(after)}`);
          samples.take[side].push(tookMs);
          samples.give[side].push(gaveMs);
          samples.takegive[side].push(tookMs + gaveMs);
          const phases = resourcePhases(cluster.timelineLines().filter((l) => l.node === 'master1' && l.t >= wall0 - 5));
          for (const p of phases) phaseSamples[`${p.action}.${p.script}`]?.[side].push(p.to - p.from);
        } catch (error) {
          fail(side, `takegroup/givegroup round ${round + 1}`, error);
        }
      }
    }
    fill(['take', 'give', 'takegive'], samples, failed);
    for (const [key, row] of Object.entries(phaseRows)) {
      for (const side of SIDES) row[side] = stats(phaseSamples[key]![side]);
    }
    for (const side of SIDES) {
      if (!writable[side][1]) continue;
      rows.take[noteKey(side)] = `a write through the VIP right after takegroup returned succeeded ${writable[side][0]}/${writable[side][1]}`;
    }
    rows.takegive.note = 'sum per round; ResourceManager run inside the node\'s private root (nsenter), stdin /dev/null; every cluster with the rig\'s ms timeline (ResourceManager and agent debug lines on, all sides)';
    phaseRows['start.IPaddr']!.note = 'from the end of the previous step (group line or previous resource) to ResourceManager\'s "start done" line: status call, ResourceManager\'s own lines, the call';
    result.rows.push(rows.take, ...RESOURCE_SCRIPTS.map((s) => phaseRows[`start.${s}`]!), rows.give, ...[...RESOURCE_SCRIPTS].reverse().map((s) => phaseRows[`stop.${s}`]!), rows.takegive);
    save();

    // ---- two-node failover with the stock heartbeat daemon
    if (!withFailover) {
      for (const r of [rows.graceful, rows.failback, rows.crash]) { r.pending = true; r.note = 'skipped (--no-failover)'; }
    } else {
      const failoverFailed: Partial<Record<Side, string>> = { ...failed };
      const writerStarted: Partial<Record<Side, boolean>> = {};
      const ffail = (side: Side, what: string, error: unknown) => {
        failoverFailed[side] ??= `${what}: ${(error as Error).message.split('\n')[0]!.slice(0, 200)}`;
        result.notes.push(`${side} cluster: ${what}: ${(error as Error).message.split('\n').slice(0, 3).join(' / ').slice(0, 400)}`);
      };
      for (const side of SIDES) {
        const cluster = clusters[side];
        if (!cluster || failoverFailed[side]) continue;
        process.stderr.write(`bench: starting heartbeat on both nodes (${side})\n`);
        try {
          await cluster.startHeartbeat('master1');
          await cluster.startHeartbeat('master2');
          await cluster.waitForHolder('master1', 120_000);
          await cluster.waitForSql(60_000);
          cluster.startWriter(50);
          writerStarted[side] = true;
        } catch (error) {
          ffail(side, 'heartbeat start', error);
        }
      }
      for (let cycle = 0; cycle < FAILOVER_CYCLES; cycle++) {
        for (const side of rotation(cycle)) {
          const cluster = clusters[side];
          if (!cluster || failoverFailed[side]) continue;
          process.stderr.write(`bench: failover cycle ${cycle + 1}/${FAILOVER_CYCLES} (${side})\n`);
          // Each trigger on a settled cluster: heartbeat finishes its own
          // bookkeeping after a takeover (auto_failback's standby exchange)
          // for a while after the group runs; a crash inside that window
          // waits for it, which would charge heartbeat's state to whichever
          // group happened to finish sooner. The sample: from the trigger to
          // the first write through the VIP that `writer` took; then, when
          // the scenario ends with one, `holder` holding the whole group.
          const scenario = async (name: 'graceful' | 'failback' | 'crash' | 'rejoin', trigger: () => Promise<unknown>, writer: ClusterNode, holder?: ClusterNode) => {
            await sleep(SETTLE_MS);
            const t = Date.now();
            await trigger();
            const w = await cluster.waitForWriteBy(writer, t, 120_000);
            samples[name][side].push(w.t - t);
            if (holder) await cluster.waitForHolder(holder, 60_000);
            await split(side, name, cluster, t, w);
          };
          try {
            await scenario('graceful', () => cluster.stopHeartbeat('master1'), 'master2', 'master2');
            await scenario('failback', () => cluster.startHeartbeat('master1'), 'master1', 'master1');
            await scenario('crash', () => cluster.crashNode('master1'), 'master2');
            // master1 back (a rebooted node rejoining): auto_failback again.
            // The rejoin is its own row (issue 17: where we lost most).
            await scenario('rejoin', () => cluster.startHeartbeat('master1'), 'master1', 'master1');
          } catch (error) {
            ffail(side, `failover cycle ${cycle + 1}`, error);
          }
        }
        await sleep(0);
      }
      for (const side of SIDES) {
        const cluster = clusters[side];
        if (!cluster || !writerStarted[side]) continue;
        try {
          await cluster.stopWriter();
          if (cluster.committedIds.length) {
            const missing = await cluster.missingRows();
            rows.crash[noteKey(side)] = `${cluster.committedIds.length} acknowledged writes, ${missing.length} missing afterwards`;
          }
        } catch (error) {
          result.notes.push(`${side}: row check after failover: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      fill(['graceful', 'failback', 'crash', 'rejoin'], samples, failoverFailed);
      const deadtime = mod.DEFAULT_TIMINGS.deadtime;
      rows.crash.note = `deadtime ${deadtime} s, keepalive ${mod.DEFAULT_TIMINGS.keepalive}; the client writes every 50 ms (connect timeout 100 ms)`;
      rows.graceful.note = 'time from `heartbeat -k` on master1 to the first acknowledged write served by master2';
      rows.rejoin.note = 'after the crash: master1 boots, heartbeat starts, auto_failback moves the group back';
    }
    result.rows.push(rows.graceful, rows.failback, rows.crash, rows.rejoin);
    save();

    // ---- the floor: heartbeat and ResourceManager alone, with no-op scripts
    for (const side of SIDES) {
      await clusters[side]?.destroy().catch((error: Error) => result.notes.push(`${side} cluster teardown: ${error.message}`));
      delete clusters[side];
    }
    process.stderr.write('bench: the same rounds with no-op resource scripts (heartbeat\'s own cost)\n');
    try {
      floorCluster = await Cluster.create({ id: `${ID}-n`, agentsDir: noopResourceDir(TMP), workBase: TMP, timeline: true });
      const floor = await measureFloor(floorCluster, first, GROUP_ROUNDS, withFailover ? FAILOVER_CYCLES : 0, SETTLE_MS);
      const ms = (xs: number[]) => `${Math.round(stats(xs)!.median)} ms`;
      rows.takegive.note += `; with no-op scripts (ResourceManager alone) ${ms(floor.takegive)} (take ${ms(floor.take)}, give ${ms(floor.give)}), n=${floor.takegive.length}`;
      if (floor.crash.length) {
        const crash = stats(floor.crash)!;
        rows.crash.note += `; with no-op scripts, master2's last start is called ${(crash.median / 1000).toFixed(2)} s after the crash (${(crash.min / 1000).toFixed(2)}–${(crash.max / 1000).toFixed(2)} s, n=${crash.n}): heartbeat's own floor`;
      }
      result.floor = floor;
    } catch (error) {
      result.notes.push(`no-op (floor) cluster: ${(error as Error).message.split('\n').slice(0, 3).join(' / ').slice(0, 400)}`);
    }
  } finally {
    for (const side of SIDES) {
      try {
        await clusters[side]?.destroy();
      } catch (error) {
        result.notes.push(`${side} cluster teardown: ${(error as Error).message}`);
      }
    }
    await floorCluster?.destroy().catch((error: Error) => result.notes.push(`no-op cluster teardown: ${error.message}`));
    save();
  }
}

/**
 * The node's state right after ResourceManager returned; if it is not the
 * expected one yet (e.g. a mariadbd still listed for a moment), polls for up
 * to 3 s and notes how long it took to settle, so a late process is
 * reported rather than hidden or counted as a failed run.
 */
async function settle<S>(probe: () => Promise<S>, ok: (s: S) => boolean, side: Side, after: string): Promise<S> {
  const t0 = Date.now();
  let state = await probe();
  if (ok(state)) return state;
  const first = JSON.stringify(state);
  while (Date.now() - t0 < 3000) {
    await new Promise((r) => setTimeout(r, 50));
    state = await probe();
    if (ok(state)) {
      result.notes.push(`${side}: after ${after} returned, the node reached the expected state only ${Date.now() - t0} ms later (first look: ${first})`);
      return state;
    }
  }
  return state;
}

function fill(keys: (keyof typeof rows)[], samples: Record<string, Record<Side, number[]>>, failed: Partial<Record<Side, string>>) {
  for (const key of keys) {
    const row = rows[key];
    for (const side of SIDES) {
      row[side] = stats(samples[key]![side]);
      if (failed[side]) row[noteKey(side)] = failed[side];
    }
  }
}

await main().catch((error) => {
  result.notes.push(`cluster phase: ${(error as Error).stack ?? error}`);
  save();
  process.exitCode = 1;
});
