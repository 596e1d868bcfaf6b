import t from 'tap';
import { Cluster, GROUP, NODES } from '../rig/cluster.ts';
import { runGroupRounds, singleHolder } from '../rig/scenarios.ts';

// Issue 7 item 1: the tutorial's group through stock ResourceManager, no
// daemon: takegroup / statgroup / givegroup, alternating master1 and
// master2 (one shared disk, one DRBD state), a client committing rows
// through the VIP between rounds, every row checked after each takeover,
// start order and reverse stop order read from heartbeat's debug log.

const ROUNDS = 5;
const SCRIPTS = GROUP.map((r) => r.split('::')[0]!);

let cluster: Cluster;
t.before(async () => {
  cluster = await Cluster.create({ id: `grp${process.pid}` });
});
t.teardown(async () => {
  await cluster?.destroy();
});

t.test(`${ROUNDS} rounds of takegroup/givegroup across the two nodes`, async (t) => {
  const rounds = await runGroupRounds(cluster, ROUNDS);
  t.equal(rounds.length, ROUNDS, 'every round ran');
  for (const r of rounds) {
    t.ok(singleHolder(r.states, r.node), `round ${r.round}: ${r.node} alone holds VIP, /data, Primary, mysqld (${JSON.stringify(r.states)})`);
    t.equal(r.statgroup, 'ALL', `round ${r.round}: statgroup on ${r.node} says ALL`);
    if (r.statgroupAfterGive !== undefined) t.equal(r.statgroupAfterGive, 'NONE', `round ${r.round}: statgroup on the releasing node says NONE`);
    t.same(r.missingRows, [], `round ${r.round}: every committed row is there after the takeover`);
    t.comment(`round ${r.round}: ${r.node} takegroup ${r.takeMs} ms${r.giveMs !== undefined ? `, givegroup on the other node ${r.giveMs} ms` : ''}`);
  }
  t.same(await cluster.missingRows(), [], 'every committed row is there at the end');
  t.equal(cluster.committedIds.length, ROUNDS * 5, 'the client committed 5 rows per round');
});

t.test('never two holders at any sampled moment', async (t) => {
  t.ok(cluster.monitorSamples > 20, `the safety monitor sampled (${cluster.monitorSamples} samples)`);
  t.same(cluster.violations, [], 'no moment with /data mounted, the VIP or DRBD Primary on both nodes');
});

t.test('start order and reverse stop order in the heartbeat debug log', async (t) => {
  for (const node of NODES) {
    const runs = cluster.resourceRuns(node);
    t.ok(runs.length >= SCRIPTS.length, `${node} ran resource scripts`);
    // Group consecutive runs of the same action; each must be the whole group in order.
    let i = 0;
    while (i < runs.length) {
      const action = runs[i]!.action;
      const chunk: string[] = [];
      while (i < runs.length && runs[i]!.action === action) chunk.push(runs[i++]!.script);
      const expected = action === 'start' ? SCRIPTS : [...SCRIPTS].reverse();
      t.same(chunk, expected, `${node}: ${action} order ${chunk.join(' ')}`);
    }
  }
});
