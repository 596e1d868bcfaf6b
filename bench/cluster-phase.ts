// Group and failover rows, from the e2e harness (test/rig/cluster.ts): the
// tutorial's group through stock ResourceManager (takegroup + givegroup),
// and two-node failover with the stock heartbeat daemon (graceful stop of
// master1, crash of master1), for our agents and for the stock ones, each
// in its own cluster, rounds alternating between the two.
// Usage (from run.sh): bun bench/cluster-phase.ts --tmp DIR --agents DIR --out FILE [--quick] [--no-failover]
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { measureFloor, noopResourceDir } from './floor.ts';
import { stats } from './lib/measure.ts';
import { phaseArgs } from './lib/args.ts';
import { makeStockResourceDir } from './lib/stock.ts';
import type { PhaseResult, Row, Side } from './lib/types.ts';

const { ROOT, argv, opt, quick, TMP, AGENTS, OUT } = phaseArgs('cluster.json');
// Slow rows, few samples: each failover cycle is graceful failover, failback,
// crash failover (then, unless it is the last cycle, master1's return: a
// second failback sample).
const GROUP_ROUNDS = Number(opt('--group-rounds', quick ? '1' : '3'));
const FAILOVER_CYCLES = Number(opt('--failover-cycles', quick ? '1' : '2'));
const withFailover = !argv.includes('--no-failover');
const ID = opt('--id', `bn${process.pid}`)!;

const result: PhaseResult & { stock?: Record<string, string>; floor?: unknown } = { rows: [], rss: [], notes: [] };
const rows = {
  take: { id: 'group.take', section: 'group', label: 'ResourceManager takegroup (tutorial group)', unit: 'ms' } as Row,
  give: { id: 'group.give', section: 'group', label: 'ResourceManager givegroup (tutorial group)', unit: 'ms' } as Row,
  takegive: { id: 'group.takegive', section: 'group', label: 'ResourceManager takegroup + givegroup', unit: 'ms' } as Row,
  graceful: { id: 'failover.graceful', section: 'failover', label: 'two-node failover, graceful (heartbeat stop on master1) → first write via VIP on master2', unit: 's' } as Row,
  failback: { id: 'failover.failback', section: 'failover', label: 'auto_failback (heartbeat start on master1) → first write via VIP on master1', unit: 's' } as Row,
  crash: { id: 'failover.crash', section: 'failover', label: 'two-node failover, crash of master1 → first write via VIP on master2', unit: 's' } as Row,
};

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

/** The stock side's resource.d (bench/lib/stock.ts). */
function stockResourceDir(): string {
  const { dir, description } = makeStockResourceDir(TMP, ROOT);
  result.stock = { cluster: description };
  return dir;
}

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
  const dirs: Record<Side, string> = { ours: AGENTS, stock: stockResourceDir() };
  const clusters: Partial<Record<Side, Awaited<ReturnType<typeof Cluster.create>>>> = {};
  let floorCluster: Awaited<ReturnType<typeof Cluster.create>> | undefined;
  const samples = {
    take: { ours: [] as number[], stock: [] as number[] },
    give: { ours: [] as number[], stock: [] as number[] },
    takegive: { ours: [] as number[], stock: [] as number[] },
    graceful: { ours: [] as number[], stock: [] as number[] },
    failback: { ours: [] as number[], stock: [] as number[] },
    crash: { ours: [] as number[], stock: [] as number[] },
  };
  const writable: Record<Side, [number, number]> = { ours: [0, 0], stock: [0, 0] };
  const failed: Partial<Record<Side, string>> = {};
  const fail = (side: Side, what: string, error: unknown) => {
    failed[side] ??= `${what}: ${(error as Error).message.split('\n')[0]!.slice(0, 200)}`;
    result.notes.push(`${side} cluster: ${what}: ${(error as Error).message.split('\n').slice(0, 3).join(' / ').slice(0, 400)}`);
  };
  const order = (i: number): Side[] => (i % 2 ? ['stock', 'ours'] : ['ours', 'stock']);

  try {
    for (const side of ['ours', 'stock'] as Side[]) {
      process.stderr.write(`bench: setting up the ${side} cluster\n`);
      try {
        clusters[side] = await Cluster.create({ id: `${ID}-${side === 'ours' ? 'o' : 's'}`, agentsDir: dirs[side], workBase: TMP });
      } catch (error) {
        fail(side, 'cluster setup', error);
      }
    }

    // ---- takegroup + givegroup through stock ResourceManager on master1 (no daemon)
    const first = GROUP[0]!;
    for (const side of ['ours', 'stock'] as Side[]) {
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
      for (const side of order(round)) {
        const cluster = clusters[side];
        if (!cluster || failed[side]) continue;
        process.stderr.write(`bench: takegroup/givegroup ${side} ${round + 1}/${GROUP_ROUNDS}\n`);
        try {
          const sb = await cluster.bootNode('master1');
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
        } catch (error) {
          fail(side, `takegroup/givegroup round ${round + 1}`, error);
        }
      }
    }
    fill(['take', 'give', 'takegive'], samples, failed);
    for (const side of ['ours', 'stock'] as Side[]) {
      if (!writable[side][1]) continue;
      const text = `a write through the VIP right after takegroup returned succeeded ${writable[side][0]}/${writable[side][1]}`;
      rows.take[side === 'ours' ? 'oursNote' : 'stockNote'] = text;
    }
    rows.takegive.note = 'sum per round; ResourceManager run inside the node\'s private root (nsenter), stdin /dev/null';
    result.rows.push(rows.take, rows.give, rows.takegive);
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
      for (const side of ['ours', 'stock'] as Side[]) {
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
        for (const side of order(cycle)) {
          const cluster = clusters[side];
          if (!cluster || failoverFailed[side]) continue;
          process.stderr.write(`bench: failover cycle ${cycle + 1}/${FAILOVER_CYCLES} (${side})\n`);
          try {
            let t = Date.now();
            await cluster.stopHeartbeat('master1');
            let w = await cluster.waitForWriteBy('master2', t, 120_000);
            samples.graceful[side].push(w.t - t);
            await cluster.waitForHolder('master2', 60_000);

            t = Date.now();
            await cluster.startHeartbeat('master1');
            w = await cluster.waitForWriteBy('master1', t, 120_000);
            samples.failback[side].push(w.t - t);
            await cluster.waitForHolder('master1', 60_000);

            t = Date.now();
            await cluster.crashNode('master1');
            w = await cluster.waitForWriteBy('master2', t, 120_000);
            samples.crash[side].push(w.t - t);

            // master1 back (a rebooted node rejoining): auto_failback again,
            // needed only for another cycle.
            if (cycle === FAILOVER_CYCLES - 1) continue;
            t = Date.now();
            await cluster.startHeartbeat('master1');
            w = await cluster.waitForWriteBy('master1', t, 120_000);
            samples.failback[side].push(w.t - t);
            await cluster.waitForHolder('master1', 60_000);
          } catch (error) {
            ffail(side, `failover cycle ${cycle + 1}`, error);
          }
        }
        await sleep(0);
      }
      for (const side of ['ours', 'stock'] as Side[]) {
        const cluster = clusters[side];
        if (!cluster || !writerStarted[side]) continue;
        try {
          await cluster.stopWriter();
          if (cluster.committedIds.length) {
            const missing = await cluster.missingRows();
            const text = `${cluster.committedIds.length} acknowledged writes, ${missing.length} missing afterwards`;
            rows.crash[side === 'ours' ? 'oursNote' : 'stockNote'] = text;
          }
        } catch (error) {
          result.notes.push(`${side}: row check after failover: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      fill(['graceful', 'failback', 'crash'], samples, failoverFailed);
      const deadtime = mod.DEFAULT_TIMINGS.deadtime;
      rows.crash.note = `deadtime ${deadtime} s, keepalive ${mod.DEFAULT_TIMINGS.keepalive} (target: deadtime + ≤ 0.7 s = ${(deadtime + 0.7).toFixed(1)} s); the client writes every 50 ms (connect timeout 200 ms)`;
      rows.graceful.note = 'time from `heartbeat -k` on master1 to the first acknowledged write served by master2';
    }
    result.rows.push(rows.graceful, rows.failback, rows.crash);
    save();

    // ---- the floor: heartbeat and ResourceManager alone, with no-op scripts
    for (const side of ['ours', 'stock'] as Side[]) {
      await clusters[side]?.destroy().catch((error: Error) => result.notes.push(`${side} cluster teardown: ${error.message}`));
      delete clusters[side];
    }
    process.stderr.write('bench: the same rounds with no-op resource scripts (heartbeat\'s own cost)\n');
    try {
      floorCluster = await Cluster.create({ id: `${ID}-n`, agentsDir: noopResourceDir(TMP), workBase: TMP });
      const floor = await measureFloor(floorCluster, first, GROUP_ROUNDS, withFailover ? FAILOVER_CYCLES : 0);
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
    for (const side of ['ours', 'stock'] as Side[]) {
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
    for (const side of ['ours', 'stock'] as Side[]) {
      row[side] = stats(samples[key]![side]);
      if (failed[side]) row[side === 'ours' ? 'oursNote' : 'stockNote'] = failed[side];
    }
  }
}

await main().catch((error) => {
  result.notes.push(`cluster phase: ${(error as Error).stack ?? error}`);
  save();
  process.exitCode = 1;
});
