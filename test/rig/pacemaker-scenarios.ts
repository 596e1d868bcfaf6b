import { execa } from 'execa';
import { sleep } from './cluster.ts';
import type { FenceRecord } from './fence/watcher.ts';
import { PacemakerCluster, VIP, type CrmStatus, type GroupNames } from './pacemaker.ts';

// Issue 16's scenarios over the Pacemaker rig, in one cluster lifetime:
// start → monitor failures (mariadbd killed, VIP removed, /data unmounted)
// → move away and back → crash of the holder (fenced, rebooted, rejoins)
// → partition of the holder (fenced by the majority, rejoins). A client
// writes through the VIP all along; the safety monitor samples who holds
// what every 150 ms. Shared by test/e2e/pacemaker-*.test.ts, the demo and
// bench/pacemaker-phase.ts.

export interface PcmkScenarioResult {
  name: string;
  trigger: string;
  holderBefore?: string;
  holderAfter?: string;
  triggerAt: number;
  /** Trigger → one node holds VIP, /data, Primary and mysqld (host-side view). */
  heldAfterMs?: number;
  /** Trigger → first row committed through the VIP and served by the holder after (monitor scenarios: the first after the failure was detected). */
  firstWriteAfterMs?: number;
  /** Monitor scenarios: trigger → Pacemaker counted the failure. */
  detectedAfterMs?: number;
  /** Monitor scenarios: the mariadbd that served before was ended and another serves now (a real restart). */
  serverReplaced?: boolean;
  /** The client's outage: last committed write before its first failed one after the trigger → first committed write after. */
  outageMs?: number;
  /** Fail counts on holderBefore after the scenario, by role (vip, drbd, fs, db). */
  failCounts?: Record<string, number>;
  /** Fencing requests for holderBefore during the scenario. */
  fenced?: FenceRecord[];
  /** Probe results per node (this boot), for start and rejoin. */
  probes?: Record<string, Record<string, string>>;
  /** Failed operations crm_mon still lists at the end. */
  failures?: CrmStatus['failures'];
  /** Where the group was at each check while a node rejoined (no flap back). */
  holdersDuringRejoin?: string[];
  /** crm_verify -L output after configuring (start only). */
  verify?: string;
  committedRows: number;
  missingRows: number[];
  error?: string;
}

export interface PcmkScenarioOptions {
  /** crm shell text: fencing + the group (one commit). */
  crm: string;
  writeIntervalMs?: number;
  timeoutMs?: number;
  /** Seconds to watch a rejoined node for a flap back. */
  rejoinWatchMs?: number;
  onResult?: (r: PcmkScenarioResult) => void;
  /** Called once the group runs after start (the bench measures monitor cost there). */
  afterStart?: (holder: string, names: GroupNames) => Promise<void>;
  /** Scenario names to run (default all). */
  only?: readonly string[];
}

export const SCENARIOS = ['start', 'monitor-mysqld', 'monitor-vip', 'monitor-fs', 'move', 'move-back', 'crash', 'rejoin-after-crash', 'partition', 'rejoin-after-partition'] as const;

const ROLES = ['vip', 'drbd', 'fs', 'db'] as const;

export async function runPacemakerScenarios(cluster: PacemakerCluster, options: PcmkScenarioOptions): Promise<PcmkScenarioResult[]> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const results: PcmkScenarioResult[] = [];
  let names: GroupNames | undefined;
  let holder: string | undefined;

  const run = async (name: string, trigger: string, body: (r: PcmkScenarioResult) => Promise<void>): Promise<boolean> => {
    cluster.say(`--- ${name}: ${trigger}`);
    const r: PcmkScenarioResult = { name, trigger, holderBefore: holder, triggerAt: Date.now(), committedRows: 0, missingRows: [] };
    try {
      await body(r);
      if (cluster.committedIds.length) {
        r.missingRows = await cluster.missingRows();
        r.committedRows = cluster.committedIds.length;
        cluster.say(`rows: ${r.committedRows} committed, ${r.missingRows.length} missing through the VIP`);
      }
    } catch (error) {
      r.error = error instanceof Error ? error.message : String(error);
      cluster.say(`FAILED: ${r.error}`);
    }
    results.push(r);
    options.onResult?.(r);
    return !r.error;
  };

  /** After a trigger: who holds the group now, when, and the first write it served. */
  const settle = async (r: PcmkScenarioResult, expect?: (h: string) => boolean, writesSince = r.triggerAt) => {
    const h = await cluster.waitForHolder(undefined, timeoutMs);
    if (expect && !expect(h)) {
      // A transient holder (the old one before Pacemaker acted): wait for the expected one.
      await cluster.waitFor('the group on the expected node', async () => {
        const states = await cluster.nodeStates();
        const now = PacemakerCluster.holderOf(states);
        return !!now && expect(now);
      }, timeoutMs);
    }
    r.holderAfter = PacemakerCluster.holderOf(await cluster.nodeStates()) ?? h;
    r.heldAfterMs = Date.now() - r.triggerAt;
    const first = await cluster.waitForWriteBy(r.holderAfter, writesSince, timeoutMs);
    r.firstWriteAfterMs = first.t - r.triggerAt;
    const lastOk = cluster.writes.filter((w) => w.ok !== undefined && w.t < first.t && w !== first).at(-1);
    if (lastOk) r.outageMs = first.t - lastOk.t;
    holder = r.holderAfter;
    cluster.say(`${holder} holds the group; first write through the VIP ${(r.firstWriteAfterMs / 1000).toFixed(2)} s after the trigger`);
    // Nothing pending before the next trigger (a start still polling would fail under it).
    await cluster.settled(holder);
  };

  const failCounts = async (node: string) => {
    const out: Record<string, number> = {};
    for (const role of ROLES) out[role] = await cluster.failCount(names![role], node);
    return out;
  };

  const cleanup = async () => {
    await cluster.crm(cluster.observer(), ['resource', 'cleanup', names!.group]);
    await cluster.waitFor('no failed operations left', async () => (await cluster.status()).failures.length === 0, 30_000);
  };

  /** A monitor failure: break one thing by hand, wait for Pacemaker to count it and recover. */
  const monitorFailure = (name: string, role: (typeof ROLES)[number], trigger: string, breakIt: (node: string) => Promise<void>) =>
    run(name, trigger, async (r) => {
      const node = holder!;
      const serversBefore = cluster.mariadbdPids()[node] ?? [];
      await breakIt(node);
      await cluster.waitFor(`fail-count of ${names![role]} on ${node}`, async () => (await cluster.failCount(names![role], node)) >= 1, timeoutMs);
      r.detectedAfterMs = Date.now() - r.triggerAt;
      cluster.say(`Pacemaker counted the failure of ${names![role]} ${(r.detectedAfterMs / 1000).toFixed(1)} s after the trigger`);
      await settle(r, undefined, Date.now());
      // The old server may serve a few writes after detection (a lazily unmounted /data still
      // works for open files): the recovery is the first write after the client's outage.
      const firstFail = cluster.writes.find((w) => w.fail !== undefined && w.t >= r.triggerAt);
      if (firstFail) {
        const back = await cluster.waitForWriteBy(holder!, firstFail.t, timeoutMs);
        r.firstWriteAfterMs = back.t - r.triggerAt;
        const lastOk = cluster.writes.filter((w) => w.ok !== undefined && w.t < firstFail.t).at(-1);
        if (lastOk) r.outageMs = back.t - lastOk.t;
      }
      const serversAfter = cluster.mariadbdPids()[r.holderAfter!] ?? [];
      r.serverReplaced = serversBefore.length > 0 && serversAfter.length > 0 && !serversAfter.some((p) => serversBefore.includes(p));
      r.failCounts = await failCounts(node);
      r.failures = (await cluster.status()).failures;
      cluster.say(`fail-counts on ${node}: ${JSON.stringify(r.failCounts)}`);
      await cleanup();
    });

  /** The node that was fenced comes back (the fence device rebooted it): it must not take the group back. */
  const rejoin = (name: string, trigger: string, node: string) =>
    run(name, trigger, async (r) => {
      r.holderBefore = holder;
      await cluster.waitFor(`${node} online again`, async () => (await cluster.status(holder)).online.includes(node), timeoutMs);
      const fencedAt = cluster.fence.records.filter((f) => f.target === node).at(-1)?.doneAt;
      cluster.say(`${node} is back in the cluster${fencedAt ? ` ${((Date.now() - fencedAt) / 1000).toFixed(1)} s after it was fenced` : ''}; watching for a flap back`);
      r.holdersDuringRejoin = [];
      const until = Date.now() + (options.rejoinWatchMs ?? 12_000);
      while (Date.now() < until) {
        r.holdersDuringRejoin.push(PacemakerCluster.holderOf(await cluster.nodeStates()) ?? '-');
        await sleep(500);
      }
      r.holderAfter = PacemakerCluster.holderOf(await cluster.nodeStates());
      await cluster.waitFor(`probes on ${node}`, async () => Object.keys(cluster.probeResults(node)).length >= 4, 30_000).catch(() => {});
      r.probes = { [node]: cluster.probeResults(node) };
      r.failures = (await cluster.status(holder)).failures;
    });

  const want = (name: string) => !options.only || options.only.includes(name);

  // ---- start
  const ok = await run('start', 'cluster configured: fencing + the group (crm configure load update)', async (r) => {
    r.verify = await cluster.configure(options.crm);
    names = await cluster.groupNames();
    await settle_start(r);
    r.probes = Object.fromEntries(cluster.nodeNames.map((n) => [n, cluster.probeResults(n)]));
    r.failures = (await cluster.status()).failures;
  });
  async function settle_start(r: PcmkScenarioResult) {
    holder = await cluster.waitForHolder(undefined, timeoutMs);
    r.holderAfter = holder;
    r.heldAfterMs = Date.now() - r.triggerAt;
    await cluster.createSchema();
    cluster.startWriter(options.writeIntervalMs ?? 100);
    const first = await cluster.waitForWriteBy(holder, r.triggerAt, timeoutMs);
    r.firstWriteAfterMs = first.t - r.triggerAt;
    cluster.say(`${holder} holds the group; the client writes through the VIP`);
    await cluster.settled(holder);
    // Every node has probed every resource by now (the group started after the probes).
    await cluster.waitFor('probes on every node', async () => cluster.nodeNames.every((n) => Object.keys(cluster.probeResults(n)).length >= 4), 30_000).catch(() => {});
  }
  if (!ok) return results;
  if (options.afterStart) await options.afterStart(holder!, names!);

  if (want('monitor-mysqld')) {
    await monitorFailure('monitor-mysqld', 'db', 'kill -9 of mariadbd on the holder', async (node) => {
      const pids = cluster.mariadbdPids()[node] ?? [];
      if (!pids.length) throw new Error(`no mariadbd on ${node}`);
      const k = await cluster.sandbox(node).exec('kill', ['-KILL', ...pids.map(String)]);
      if (k.exitCode !== 0) throw new Error(`kill -9 ${pids.join(' ')} on ${node}: ${k.stderr}`);
    });
  }
  if (want('monitor-vip')) {
    await monitorFailure('monitor-vip', 'vip', `ip addr del ${VIP}/16 dev eth1 on the holder`, async (node) => {
      await execa('ip', ['-n', `${cluster.options.id}-m${cluster.nodeNames.indexOf(node) + 1}`, 'addr', 'del', `${VIP}/16`, 'dev', 'eth1']);
    });
  }
  if (want('monitor-fs')) {
    await monitorFailure('monitor-fs', 'fs', 'umount -l /data on the holder (lazy: mysqld keeps its files open)', async (node) => {
      const u = await cluster.sandbox(node).exec('umount', ['-l', '/data']);
      if (u.exitCode !== 0) throw new Error(`umount -l /data on ${node}: ${u.stderr}`);
    });
  }

  if (want('move')) {
    const home = holder!;
    const away = cluster.nodeNames.find((n) => n !== home && cluster.alive(n))!;
    const moved = await run('move', `crm resource move ${names!.group} ${away}`, async (r) => {
      const m = await cluster.crm(home, ['resource', 'move', names!.group, away]);
      if (m.exitCode !== 0) throw new Error(`crm resource move: ${m.stderr}`);
      await settle(r, (h) => h === away);
      await cluster.crm(away, ['resource', 'clear', names!.group]);
    });
    if (moved) {
      await run('move-back', `crm resource move ${names!.group} ${home}`, async (r) => {
        const m = await cluster.crm(home, ['resource', 'move', names!.group, home]);
        if (m.exitCode !== 0) throw new Error(`crm resource move: ${m.stderr}`);
        await settle(r, (h) => h === home);
        await cluster.crm(home, ['resource', 'clear', names!.group]);
      });
    }
  }

  if (want('crash')) {
    const victim = holder!;
    const crashed = await run('crash', `${victim} (the holder) crashes: every process killed, network gone`, async (r) => {
      await cluster.crash(victim);
      await settle(r, (h) => h !== victim);
      r.fenced = cluster.fence.fencedSince(victim, r.triggerAt);
      r.failures = (await cluster.status(holder)).failures;
    });
    if (crashed && want('rejoin-after-crash')) await rejoin('rejoin-after-crash', `${victim} rebooted by the fence device, rejoins`, victim);
  }

  if (want('partition')) {
    const victim = holder!;
    const parted = await run('partition', `${victim} (the holder) loses its LAN link`, async (r) => {
      await cluster.setLink(victim, false);
      await settle(r, (h) => h !== victim);
      r.fenced = cluster.fence.fencedSince(victim, r.triggerAt);
      r.failures = (await cluster.status(holder)).failures;
    });
    if (parted && want('rejoin-after-partition')) await rejoin('rejoin-after-partition', `${victim} rebooted by the fence device (link back), rejoins`, victim);
  }

  await cluster.stopWriter();
  cluster.stopSafetyMonitor();
  return results;
}
