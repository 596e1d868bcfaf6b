import type { Test } from 'tap';
import { PacemakerCluster, STOCK_GROUP_CRM, crmConfigOfHaresources, fencingCrm, type Flavour } from './pacemaker.ts';
import { runPacemakerScenarios, SCENARIOS, type PcmkScenarioResult } from './pacemaker-scenarios.ts';

// The assertions of issue 16's scenarios, for one flavour of the group:
// test/e2e/pacemaker-ours.test.ts (ocf:hara, configured from `ha-agent
// crm-config` on the tutorial's haresources line) and
// test/e2e/pacemaker-stock.test.ts (Debian's IPaddr2, Filesystem, mysql).
// One cluster lifetime runs every scenario; each is then its own test.

const GROUP_ROLES = 4;

export function pacemakerSuite(t: Test, flavour: Flavour): void {
  let cluster: PacemakerCluster;
  let results: PcmkScenarioResult[] = [];
  const byName = (name: string) => results.find((r) => r.name === name);

  t.before(async () => {
    cluster = await PacemakerCluster.create({ id: `pm${flavour[0]}${process.pid}` });
    await cluster.start();
    const group = flavour === 'ours' ? await crmConfigOfHaresources(undefined, cluster.base) : STOCK_GROUP_CRM;
    results = await runPacemakerScenarios(cluster, { crm: `${fencingCrm(cluster.nodeNames)}${group}` });
  });
  t.teardown(async () => {
    // Logs stay on failure (the path is in the output).
    const failed = results.length < SCENARIOS.length || results.some((r) => r.error);
    if (failed && cluster) t.comment(`logs kept in ${cluster.base}`);
    await cluster?.destroy(failed);
  });

  const scenario = (name: string, check: (t: Test, r: PcmkScenarioResult) => void) =>
    t.test(name, async (t) => {
      const r = byName(name);
      if (!r) return t.fail(`${name} did not run (${results.map((x) => `${x.name}${x.error ? `: ${x.error}` : ''}`).join('; ')})`);
      t.notOk(r.error, `${r.trigger}: ${r.error ?? 'no error'}`);
      if (r.error) return;
      t.same(r.missingRows, [], `every committed row is there through the VIP (${r.committedRows} committed)`);
      check(t, r);
      t.comment(`${flavour} ${name}: held after ${r.heldAfterMs ?? '-'} ms, first write after ${r.firstWriteAfterMs ?? '-'} ms${r.detectedAfterMs !== undefined ? `, detected after ${r.detectedAfterMs} ms` : ''}`);
    });

  const probedNotRunning = (t: Test, probes: Record<string, string>, node: string) => {
    const group = Object.entries(probes).filter(([rsc]) => rsc !== 'fence_rig');
    t.equal(group.length, GROUP_ROLES, `${node} probed the four resources of the group`);
    for (const [rsc, result] of group) t.equal(result, 'not running', `${node}: probe of ${rsc}`);
  };

  scenario('start', (t, r) => {
    t.equal(r.verify, '', 'crm_verify -L is clean');
    t.equal(r.holderAfter, 'master1', 'the group starts on master1 (the haresources node, location preference)');
    for (const node of cluster.nodeNames) probedNotRunning(t, r.probes?.[node] ?? {}, node);
    t.same(r.failures, [], 'no failed operation');
  });

  const monitorCase = (name: string, role: 'vip' | 'fs' | 'db') =>
    scenario(name, (t, r) => {
      t.equal(r.holderAfter, r.holderBefore, 'recovered in place (restart on the same node)');
      const expected = { vip: 0, drbd: 0, fs: 0, db: 0, [role]: 1 };
      t.same(r.failCounts, expected, `fail-counts on ${r.holderBefore}: only the broken resource, once`);
      t.ok(r.failures?.some((f) => /_monitor_\d+$/.test(f.op) && f.node === r.holderBefore), 'the failed operation is the recurring monitor');
      // mysqld is the last member: every recovery restarts it. A stop that reports success while the
      // old server runs on (e.g. on a lazily unmounted /data) would leave the same process serving.
      t.ok(r.serverReplaced, 'the old mariadbd was ended and a new one serves');
    });
  monitorCase('monitor-mysqld', 'db');
  monitorCase('monitor-vip', 'vip');
  monitorCase('monitor-fs', 'fs');

  scenario('move', (t, r) => t.not(r.holderAfter, r.holderBefore, `moved from ${r.holderBefore} to ${r.holderAfter}`));
  scenario('move-back', (t, r) => t.equal(r.holderAfter, byName('move')?.holderBefore, 'back on the node it left'));

  const fencedTakeover = (t: Test, r: PcmkScenarioResult) => {
    t.not(r.holderAfter, r.holderBefore, `the group runs on ${r.holderAfter}`);
    t.ok(r.fenced?.some((f) => f.action === 'reboot' && f.exitCode === 0), `${r.holderBefore} was fenced (${JSON.stringify(r.fenced)})`);
  };
  scenario('crash', fencedTakeover);
  scenario('partition', fencedTakeover);

  const rejoinCase = (name: string, after: string) =>
    scenario(name, (t, r) => {
      const node = byName(after)!.holderBefore!;
      t.ok(r.holdersDuringRejoin?.length, 'watched the group while the node rejoined');
      t.same([...new Set(r.holdersDuringRejoin)], [r.holderBefore], `the group stayed on ${r.holderBefore} (stickiness): no flap back to ${node}`);
      probedNotRunning(t, r.probes?.[node] ?? {}, node);
      t.same(r.failures, [], 'no failed operation');
    });
  rejoinCase('rejoin-after-crash', 'crash');
  rejoinCase('rejoin-after-partition', 'partition');

  t.test('never two holders at any sampled moment', async (t) => {
    const gaps = cluster.sampleGaps();
    t.ok(gaps.samples > 100, `the safety monitor sampled (${gaps.samples} samples)`);
    t.ok(gaps.median <= 200, `sampled every ${gaps.median} ms (median; longest gap ${gaps.max} ms)`);
    t.same(cluster.violations, [], 'no moment with the VIP, /data, DRBD Primary or mysqld on two nodes');
    t.same(cluster.fence.errors, [], 'the fence watcher had no errors');
  });
}
