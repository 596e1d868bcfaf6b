import { Cluster, NODES, VIP, type NodeName } from './cluster.ts';
import { active, alerts, waitForAlerts, type Alert } from './watch-alerts.ts';

// The faults of issue 20 item 4, each with its heal, for a cluster built
// with secondLink and watchOptions() (test/e2e/watch.test.ts; the bench's
// detection phase runs the same ones). A fault is injected while master1
// holds the group; `expect` lists the alerts it must raise (node whose hook
// delivers it, code); after the heal every alert raised must clear and
// master1 hold the group again.

export interface WatchFault {
  name: string;
  expect: { via: NodeName; code: string }[];
  inject(cluster: Cluster): Promise<void>;
  /** How long the fault lasts at least (heartbeat's faults: until the peer has acted on it). */
  holdMs?: (cluster: Cluster) => number;
  heal(cluster: Cluster): Promise<void>;
}

/** DRBD's split-brain handler as SUSE's ha_cluster_exporter expects one: the file it reads. */
export const SPLIT_BRAIN_HANDLER = `#!/bin/sh
# test rig: DRBD split-brain handler (DRBD runs it with DRBD_RESOURCE, DRBD_VOLUME...):
# leaves the file ha_cluster_exporter and ha-agent watch read
mkdir -p /var/run/drbd/splitbrain
touch "/var/run/drbd/splitbrain/drbd-split-brain-detected-$DRBD_RESOURCE-\${DRBD_VOLUME:-0}"
`;

const deadtimePlus = (extraMs: number) => (cluster: Cluster) => cluster.options.timings.deadtime * 1000 + extraMs;
const res = (cluster: Cluster) => `${cluster.drbdState}/res/data`;

export const WATCH_FAULTS: WatchFault[] = [
  {
    name: 'one of two heartbeat links down',
    expect: [{ via: 'master1', code: 'HA701' }, { via: 'master2', code: 'HA701' }],
    inject: (c) => c.setHeartbeatLink(false, ['eth3']),
    holdMs: deadtimePlus(1000),
    heal: (c) => c.setHeartbeatLink(true, ['eth3']),
  },
  {
    name: 'a duplicate VIP added by hand on the standby',
    expect: [{ via: 'master1', code: 'HA711' }],
    inject: async (c) => { await c.nodes.master2!.exec('ip', ['addr', 'add', `${VIP}/16`, 'dev', 'eth1']); },
    heal: async (c) => { await c.nodes.master2!.exec('ip', ['addr', 'del', `${VIP}/16`, 'dev', 'eth1']); },
  },
  {
    name: 'mysqld killed under a held group',
    expect: [{ via: 'master1', code: 'HA731' }],
    inject: async (c) => { await c.nodes.master1!.sh('kill -9 $(pidof mariadbd)'); },
    // The operator starts it again through its resource script, as heartbeat would.
    heal: async (c) => {
      const r = await c.nodes.master1!.exec('/etc/ha.d/resource.d/mysqld', ['start'], { timeoutMs: 60_000 });
      if (r.exitCode !== 0) throw new Error(`mysqld start: ${r.stdout}${r.stderr}`);
    },
  },
  {
    name: 'DRBD split brain (StandAlone, both Primary, the split-brain handler run)',
    // Both Primary (HA722) is not visible here: disconnected, DRBD reports the peer's role as Unknown.
    expect: [{ via: 'master1', code: 'HA721' }, { via: 'master1', code: 'HA723' }, { via: 'master2', code: 'HA721' }],
    inject: async (c) => {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${res(c)}/net.master1`, 'standalone\n');
      writeFileSync(`${res(c)}/net.master2`, 'standalone\n');
      writeFileSync(`${res(c)}/role.master2`, 'Primary\n');
      await Promise.all(NODES.map((n) => c.nodes[n]!.exec('/etc/drbd-split-brain.sh', [], { env: { DRBD_RESOURCE: 'data', DRBD_VOLUME: '0', DRBD_MINOR: '1' } })));
    },
    // The operator resolves it (master2 gives up its changes) and removes the handler's files.
    heal: async (c) => {
      const { rmSync, writeFileSync } = await import('node:fs');
      writeFileSync(`${res(c)}/role.master2`, 'Secondary\n');
      rmSync(`${res(c)}/net.master1`, { force: true });
      rmSync(`${res(c)}/net.master2`, { force: true });
      await Promise.all(NODES.map((n) => c.nodes[n]!.sh('rm -f /var/run/drbd/splitbrain/drbd-split-brain-detected-*')));
    },
  },
  {
    name: 'the heartbeat link cut, both nodes alive',
    expect: [{ via: 'master1', code: 'HA702' }, { via: 'master2', code: 'HA702' }],
    inject: (c) => c.setHeartbeatLink(false, ['eth2', 'eth3']),
    holdMs: deadtimePlus(8000),
    heal: (c) => c.setHeartbeatLink(true, ['eth2', 'eth3']),
  },
  {
    name: 'heartbeat killed on the primary, the node up',
    expect: [{ via: 'master1', code: 'HA704' }],
    inject: (c) => c.killHeartbeat('master1'),
    holdMs: deadtimePlus(8000),
    heal: (c) => c.startHeartbeat('master1'), // the operator: /etc/init.d/heartbeat start
  },
];

export interface FaultRun {
  name: string;
  injectedAt: number;
  /** Each expected alert: when its hook ran, ms after the injection began. */
  detectedMs: { via: NodeName; code: string; ms: number }[];
  raised: Alert[];
  /** ms from the heal to the last clear of what the fault raised. */
  clearedMs?: number;
  stillActive: Alert[];
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Master1 holds the whole group, master2 nothing, and no alert is active. */
export async function settle(cluster: Cluster, timeoutMs = 150_000): Promise<void> {
  await cluster.waitForHolder('master1', timeoutMs);
  await waitForAlerts(cluster, (list) => active(list).length === 0, timeoutMs, 'every alert cleared');
}

/** One fault: inject, wait for its alerts, hold, heal, wait until everything it raised is cleared and master1 holds again. */
export async function runWatchFault(cluster: Cluster, fault: WatchFault): Promise<FaultRun> {
  const injectedAt = Date.now(); // the hook's `date` reads the same clock (one kernel)
  const run: FaultRun = { name: fault.name, injectedAt, detectedMs: [], raised: [], stillActive: [] };
  cluster.say(`fault: ${fault.name}`);
  try {
    await fault.inject(cluster);
    const seen = (list: Alert[], e: { via: NodeName; code: string }) => list.find((a) => a.deliveredAt >= injectedAt && a.via === e.via && a.code === e.code && a.state === 'raised');
    const list = await waitForAlerts(cluster, (l) => fault.expect.every((e) => seen(l, e)), 60_000, `alerts of "${fault.name}"`);
    run.detectedMs = fault.expect.map((e) => ({ ...e, ms: seen(list, e)!.deliveredAt - injectedAt }));
    const hold = (fault.holdMs?.(cluster) ?? 0) - (Date.now() - injectedAt);
    if (hold > 0) await sleep(hold);
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
  }
  const healAt = Date.now();
  try {
    await fault.heal(cluster);
    await settle(cluster);
    run.clearedMs = Date.now() - healAt;
  } catch (error) {
    run.error = `${run.error ? `${run.error}; ` : ''}heal: ${error instanceof Error ? error.message : String(error)}`;
  }
  const all = alerts(cluster);
  run.raised = all.filter((a) => a.deliveredAt >= injectedAt && a.state === 'raised');
  run.stillActive = active(all);
  return run;
}
