import { Cluster, GROUP, NODES, VIP_RESOURCE, sleep, type NodeName, type NodeState } from './cluster.ts';

// The tutorial's sections 5 and 6 as runnable scenarios over the cluster
// harness: shared by test/e2e/*.test.ts (which assert on the results) and
// the demo (which prints them).

export interface ScenarioResult {
  name: string;
  /** What was done, in the tutorial's words. */
  trigger: string;
  expectedHolder: NodeName;
  triggerAt: number;
  /** Trigger → the expected node holds VIP, mount, Primary and mysqld (and the other none). */
  heldAfterMs?: number;
  /** Trigger → first row committed through the VIP and served by the new holder. */
  firstWriteAfterMs?: number;
  /** Last acknowledged write before the outage and first after (client's view). */
  outageMs?: number;
  states: NodeState[];
  /** Committed rows not found through the VIP after the scenario. */
  missingRows: number[];
  committedRows: number;
  replica?: { io: string; sql: string; missing: number[]; lastError?: string };
  error?: string;
}

export interface ScenarioOptions {
  replica?: boolean;
  /** Client write interval. */
  writeIntervalMs?: number;
  timeoutMs?: number;
  /** After the crash, power master1 on again: auto_failback brings the group home. */
  recoverAfterCrash?: boolean;
  onResult?: (result: ScenarioResult) => void;
}

/** Exactly one node holds each resource, and it is `holder`. */
export function singleHolder(states: NodeState[], holder: NodeName): boolean {
  const count = (pick: (s: NodeState) => boolean) => states.filter(pick).length;
  const h = states.find((s) => s.node === holder);
  return (
    !!h && h.vip && h.mounted && h.role === 'Primary' && h.mysqld &&
    count((s) => s.vip) === 1 && count((s) => s.mounted) === 1 && count((s) => s.role === 'Primary') === 1 && count((s) => s.mysqld) === 1
  );
}

async function scenario(
  cluster: Cluster,
  name: string,
  trigger: string,
  expectedHolder: NodeName,
  action: () => Promise<void>,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  cluster.say(`--- ${name}: ${trigger}`);
  const triggerAt = Date.now();
  const lastOkBefore = [...cluster.writes].reverse().find((w) => w.ok !== undefined)?.t;
  const result: ScenarioResult = { name, trigger, expectedHolder, triggerAt, states: [], missingRows: [], committedRows: 0 };
  try {
    await action();
    result.states = await cluster.waitForHolder(expectedHolder, timeoutMs);
    result.heldAfterMs = Date.now() - triggerAt;
    cluster.say(`${expectedHolder} holds VIP, /data, Primary and mysqld (${(result.heldAfterMs / 1000).toFixed(1)} s after the trigger)`);
    const first = await cluster.waitForWriteBy(expectedHolder, triggerAt, timeoutMs);
    result.firstWriteAfterMs = first.t - triggerAt;
    const previous = cluster.writes.filter((w) => w.ok !== undefined && w.t < first.t).map((w) => w.t);
    if (lastOkBefore !== undefined && previous.length) result.outageMs = first.t - Math.max(...previous);
    cluster.say(`first write through the VIP served by ${expectedHolder}: ${(result.firstWriteAfterMs / 1000).toFixed(2)} s after the trigger`);
    // A few more rows on the new holder before checking.
    await sleep(500);
    result.missingRows = await cluster.missingRows();
    result.committedRows = cluster.committedIds.length;
    result.states = await cluster.states();
    cluster.say(`rows: ${result.committedRows} committed, ${result.missingRows.length} missing through the VIP`);
    if (options.replica) {
      result.replica = await cluster.waitForReplicaCaughtUp(30_000);
      cluster.say(`slave1: Slave_IO_Running ${result.replica.io}, Slave_SQL_Running ${result.replica.sql}, ${result.replica.missing.length} rows missing`);
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    result.states = await cluster.states().catch(() => []);
    cluster.say(`FAILED: ${result.error}`);
  }
  options.onResult?.(result);
  return result;
}

/**
 * Both nodes start, master1 takes the group; graceful stop of heartbeat on
 * master1 → master2; master1 back → auto_failback; crash of master1 →
 * master2 after deadtime. The client writes through the VIP all along; a
 * replica in the client namespace follows the VIP.
 */
export async function runTutorialScenarios(cluster: Cluster, options: ScenarioOptions = {}): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const push = (r: ScenarioResult) => { results.push(r); return !r.error; };

  cluster.say('--- start: heartbeat on master1 and master2');
  const startAt = Date.now();
  await Promise.all(NODES.map((n) => cluster.bootNode(n)));
  cluster.startSafetyMonitor();
  await Promise.all(NODES.map((n) => cluster.startHeartbeat(n)));
  const states = await cluster.waitForHolder('master1', options.timeoutMs ?? 90_000);
  await cluster.waitForSql();
  cluster.say(`master1 holds the group (${((Date.now() - startAt) / 1000).toFixed(1)} s after start, initdead included)`);
  if (options.replica) await cluster.startReplica();
  await cluster.createSchema();
  cluster.startWriter(options.writeIntervalMs ?? 100);
  await cluster.waitForWriteBy('master1', startAt);
  results.push({ name: 'start', trigger: 'heartbeat started on both nodes', expectedHolder: 'master1', triggerAt: startAt, heldAfterMs: Date.now() - startAt, states, missingRows: [], committedRows: 0 });
  await sleep(1000);

  if (!push(await scenario(cluster, 'failover', '/etc/init.d/heartbeat stop on master1', 'master2', () => cluster.stopHeartbeat('master1'), options))) return results;
  await sleep(1000);
  if (!push(await scenario(cluster, 'failback', '/etc/init.d/heartbeat start on master1 (auto_failback on)', 'master1', () => cluster.startHeartbeat('master1'), options))) return results;
  await sleep(1000);
  const crashed = push(await scenario(cluster, 'crash', 'master1 crashes (every process killed, network gone)', 'master2', () => cluster.crashNode('master1'), options));
  if (crashed && options.recoverAfterCrash) {
    await sleep(1000);
    push(await scenario(cluster, 'recovery', 'master1 powered on again, heartbeat started (auto_failback)', 'master1', () => cluster.startHeartbeat('master1'), options));
  }
  await cluster.stopWriter();
  cluster.stopSafetyMonitor();
  return results;
}

/** ResourceManager takegroup/givegroup rounds, alternating nodes (no daemon). */
export interface GroupRound {
  round: number;
  node: NodeName;
  takeMs: number;
  giveMs?: number;
  statgroup: string;
  statgroupAfterGive?: string;
  missingRows: number[];
  states: NodeState[];
}

export async function lastStatgroup(cluster: Cluster, node: NodeName): Promise<string> {
  const sb = cluster.nodes[node]!;
  const before = sb.readLog('ha-debug').length;
  await sb.resourceManager(['statgroup', VIP_RESOURCE]);
  // StatGroup echoes its verdict into the debug log (only there); agents may log there too.
  const verdicts = sb.readLog('ha-debug').slice(before).split('\n').map((l) => l.trim()).filter((l) => /^(ALL|SOME|NONE)$/.test(l));
  return verdicts.at(-1) ?? '(no verdict in ha-debug)';
}

export async function runGroupRounds(cluster: Cluster, rounds: number, rowsPerRound = 5): Promise<GroupRound[]> {
  await Promise.all(NODES.map((n) => cluster.bootNode(n)));
  cluster.startSafetyMonitor();
  const out: GroupRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const node = NODES[round % 2]!;
    const other = NODES[(round + 1) % 2]!;
    const sb = cluster.nodes[node]!;
    let giveMs: number | undefined;
    let statgroupAfterGive: string | undefined;
    if (round > 0) {
      const t = Date.now();
      await cluster.nodes[other]!.resourceManager(['givegroup', VIP_RESOURCE]);
      giveMs = Date.now() - t;
      statgroupAfterGive = await lastStatgroup(cluster, other);
    }
    const t = Date.now();
    await sb.resourceManager(['takegroup', VIP_RESOURCE]);
    const takeMs = Date.now() - t;
    // takegroup exits 0 even when a resource failed: judge by the end state.
    const states = await cluster.states();
    const statgroup = await lastStatgroup(cluster, node);
    cluster.say(`round ${round}: ${node} takegroup ${takeMs} ms${giveMs !== undefined ? `, ${other} givegroup ${giveMs} ms` : ''}; statgroup ${statgroup}`);
    let missingRows: number[] = [];
    if (singleHolder(states, node)) {
      if (round === 0) await cluster.createSchema();
      missingRows = await cluster.missingRows();
      await cluster.writeRows(rowsPerRound);
    }
    out.push({ round, node, takeMs, giveMs, statgroup, statgroupAfterGive, missingRows, states });
    if (!singleHolder(states, node)) break;
  }
  cluster.stopSafetyMonitor();
  return out;
}

export { GROUP };
