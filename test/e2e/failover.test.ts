import t from 'tap';
import { Cluster, GROUP, NODES } from '../rig/cluster.ts';
import { runTutorialScenarios, singleHolder, type ScenarioResult } from '../rig/scenarios.ts';
import { active, alerts, waitForAlerts, watchOptions } from '../rig/watch-alerts.ts';

// Issue 7 items 2 and 3: two nodes with the stock heartbeat daemon (v1,
// crm no) driving our agents from the tutorial's haresources line. Graceful
// stop of heartbeat on master1 → master2; master1 back → auto_failback;
// crash of master1 → master2 after deadtime. A client writes through the
// VIP all along; a MariaDB replica in the client namespace follows the VIP.
// Issue 20 item 4: `ha-agent watch` runs on both nodes all along (started
// with heartbeat, a hook appending to a file): these normal scenarios raise
// no critical alert.

const SCRIPTS = GROUP.map((r) => r.split('::')[0]!);
let cluster: Cluster;
let results: ScenarioResult[] = [];

t.before(async () => {
  cluster = await Cluster.create({ id: `fo${process.pid}`, ...watchOptions() });
  results = await runTutorialScenarios(cluster, { replica: true, recoverAfterCrash: true });
});
t.teardown(async () => {
  await cluster?.destroy();
});

t.test('every scenario ran', async (t) => {
  t.same(results.map((r) => r.name), ['start', 'failover', 'failback', 'crash', 'recovery']);
  for (const r of results) t.notOk(r.error, `${r.name}: ${r.error ?? 'no error'}`);
});

for (const name of ['failover', 'failback', 'crash']) {
  t.test(`${name}: one holder, no committed row lost, replica follows`, async (t) => {
    const r = results.find((x) => x.name === name);
    if (!r) return t.fail(`${name} did not run`);
    t.ok(singleHolder(r.states, r.expectedHolder), `${r.expectedHolder} alone holds VIP, /data, Primary and mysqld: ${JSON.stringify(r.states)}`);
    t.ok(r.committedRows > 0, `rows were committed (${r.committedRows})`);
    t.same(r.missingRows, [], 'every committed row is there through the VIP');
    t.type(r.firstWriteAfterMs, 'number', 'a write through the VIP reached the new holder');
    t.comment(`${name}: held after ${r.heldAfterMs} ms, first write through the VIP after ${r.firstWriteAfterMs} ms, client outage ${r.outageMs} ms`);
    t.equal(r.replica?.io, 'Yes', 'Slave_IO_Running: Yes');
    t.equal(r.replica?.sql, 'Yes', 'Slave_SQL_Running: Yes');
    t.same(r.replica?.missing, [], 'the replica has every committed row');
  });
}

t.test('never two holders at any sampled moment', async (t) => {
  t.ok(cluster.monitorSamples > 20, `the safety monitor sampled (${cluster.monitorSamples} samples)`);
  t.same(cluster.violations, [], 'no moment with /data mounted, the VIP or DRBD Primary on both nodes');
});

t.test('heartbeat logs: takeover after a crash, order of starts and stops, no reboot attempted', async (t) => {
  t.match(cluster.haLog('master2'), /node master1: is dead/, 'master2 declared master1 dead');
  t.match(cluster.haLog('master2'), /mach_down takeover complete/, 'master2 completed the takeover');
  t.match(cluster.haLog('master1'), /Initial resource acquisition complete/, 'master1 acquired at start');
  for (const node of NODES) {
    const runs = cluster.resourceRuns(node);
    t.ok(runs.length > 0, `${node} ran resource scripts`);
    let i = 0;
    while (i < runs.length) {
      // A crash ends a run of starts without its stops (the rejoin starts the group again): one group per chunk.
      const action = runs[i]!.action;
      const chunk: string[] = [];
      while (i < runs.length && runs[i]!.action === action && chunk.length < SCRIPTS.length) chunk.push(runs[i++]!.script);
      t.same(chunk, action === 'start' ? SCRIPTS : [...SCRIPTS].reverse(), `${node}: ${action} ${chunk.join(' ')}`);
    }
    t.same(cluster.stubCalls(node), [], `${node}: no reboot/pkill was attempted`);
  }
});

t.test('the watchers: 0 false criticals through start, failover, failback, crash and rejoin (recovery)', async (t) => {
  // The rejoin's clears come --clear-after (1 s) after the last sample that saw the peer dead.
  const list = await waitForAlerts(cluster, (l) => active(l).length === 0, 30_000, 'every alert cleared after the rejoin').catch(() => alerts(cluster));
  // Every critical here is false: a graceful stop is the peer gone (its shutdown notice in heartbeat's log), and the
  // rebooted master1 up on the LAN before its heartbeat runs is a node coming back, not a partition (PeerLossMemo).
  const criticals = list.filter((a) => a.severity === 'critical');
  t.same(criticals, [], 'no critical alert delivered by either node\'s hook');
  // The watchers were live: master1's crash is "the peer dead" (a warning) on master2, cleared when it rejoined
  const peerDead = list.filter((a) => a.via === 'master2' && a.code === 'HA703');
  // (and, since watch reads heartbeat's shutdown notice, master1's graceful stop is "the peer gone" too): raised, cleared, each once in turn.
  const states = peerDead.map((a) => a.state);
  t.ok(states.length >= 2 && states.length % 2 === 0 && states.every((s, i) => s === (i % 2 ? 'cleared' : 'raised')), `master2 raised and cleared HA703 (peer dead) in turn: ${states.join(', ')}; ${JSON.stringify(list)}`);
  t.same(active(list), [], 'nothing active at the end');
});
