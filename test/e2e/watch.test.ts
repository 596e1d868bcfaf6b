import t from 'tap';
import { Cluster } from '../rig/cluster.ts';
import { runWatchFault, settle, SPLIT_BRAIN_HANDLER, WATCH_FAULTS, type FaultRun } from '../rig/watch-faults.ts';
import { active, alerts, CL_STATUS_BEFORE_3_0_6, watchOptions } from '../rig/watch-alerts.ts';
import { startClusterWithWriter } from '../rig/split-brain.ts';

// Issue 20 item 4: `ha-agent watch` on both nodes of the two-node heartbeat
// rig (two heartbeat links), each delivering to a real hook (a script that
// appends to /var/log/alerts.log, read here). One cluster, the faults one
// after the other, each healed and settled (master1 holds the group, no
// alert active) before the next: one link of two down, a duplicate VIP on
// the standby, mysqld killed under the held group, DRBD split brain
// (StandAlone, both Primary, the split-brain handler's file), the heartbeat
// links cut with both nodes alive, heartbeat killed on the primary. Each
// raises its alert(s) and every alert clears when the fault heals. No timing
// is asserted here (bench/watch-phase.ts measures detection). master2's
// cl_status is the one of heartbeat before 3.0.6 (no `listnodes -v`): its
// watcher asks node by node, and must raise and clear the same alerts.

let cluster: Cluster;
const runs: FaultRun[] = [];
let setupError: string | undefined;
let startAlerts: ReturnType<typeof alerts> = [];

t.before(async () => {
  const watch = watchOptions();
  cluster = await Cluster.create({ id: `wa${process.pid}`, secondLink: true, ...watch, nodeSbin: { master2: { cl_status: CL_STATUS_BEFORE_3_0_6 } }, extraEtc: { ...watch.extraEtc, 'drbd-split-brain.sh': { content: SPLIT_BRAIN_HANDLER, mode: 0o755 } } });
  try {
    await startClusterWithWriter(cluster);
    await settle(cluster);
    startAlerts = alerts(cluster);
    for (const fault of WATCH_FAULTS) runs.push(await runWatchFault(cluster, fault));
  } catch (error) {
    setupError = error instanceof Error ? error.message : String(error);
  }
});
t.teardown(async () => {
  await cluster?.destroy();
});

t.test('the cluster started with watchers on both nodes and raised no critical alert', async (t) => {
  t.notOk(setupError, setupError ?? 'set up');
  t.same(startAlerts.filter((a) => a.severity === 'critical'), [], 'no critical alert while the cluster started');
  t.same(active(startAlerts), [], 'nothing active once master1 holds the group');
});

for (const fault of WATCH_FAULTS) {
  t.test(fault.name, async (t) => {
    const r = runs.find((x) => x.name === fault.name);
    if (!r) return t.fail(`did not run (${setupError ?? 'an earlier fault stopped the run'})`);
    t.notOk(r.error, r.error ?? 'ran to the end');
    for (const e of fault.expect) {
      const d = r.detectedMs.find((x) => x.via === e.via && x.code === e.code);
      t.ok(d, `${e.via}'s hook delivered ${e.code} raised`);
      if (d) t.comment(`${e.via} ${e.code} delivered ${d.ms} ms after the fault`);
    }
    t.ok(r.raised.length > 0, `alerts raised: ${r.raised.map((a) => `${a.via} ${a.code} ${a.severity}`).join(', ')}`);
    t.same(r.stillActive, [], 'every alert cleared after the heal');
    t.type(r.clearedMs, 'number', `settled ${r.clearedMs} ms after the heal`);
  });
}

t.test('master2 (cl_status before 3.0.6): listnodes -v refused, remembered; then nodestatus, listhblinks and hblinkstatus per link', async (t) => {
  const calls = cluster.nodeLog('master2', 'cl_status.calls').split('\n').filter(Boolean);
  const withV = calls.filter((c) => c === 'listnodes -v').length;
  const nodestatus = calls.filter((c) => c === 'nodestatus master1').length;
  // Once per watcher started (the rig starts one again with heartbeat): refused, then remembered.
  t.ok(withV >= 1 && withV * 4 <= nodestatus, `listnodes -v asked ${withV} time(s), nodestatus master1 ${nodestatus}`);
  t.ok(calls.includes('listhblinks master1'), 'listhblinks master1');
  t.ok(calls.includes('hblinkstatus master1 eth2') && calls.includes('hblinkstatus master1 eth3'), `each link's status: ${[...new Set(calls)].join('; ')}`);
  // Its HA701 and HA702 (the faults above, expected from master2 too) come from these calls. A cl_status
  // failing while heartbeat (re)starts or is cut off is HA790 on either node, -v or not: listed, not asserted.
  for (const a of alerts(cluster).filter((x) => x.code === 'HA790' && x.state === 'raised')) t.comment(`${a.via}: ${a.desc}`);
});

t.test('every raise was followed by its clear, each once (no repeats every interval)', async (t) => {
  const list = alerts(cluster);
  const keys = new Map<string, string>();
  const repeats: string[] = [];
  for (const a of list) {
    const key = `${a.via} ${a.code} ${a.subject}`;
    if (keys.get(key) === a.state) repeats.push(`${key} ${a.state} twice in a row`);
    keys.set(key, a.state);
  }
  t.same(repeats, []);
  t.ok(list.length >= 2 * WATCH_FAULTS.length, `${list.length} alerts delivered`);
});
