// `npm run demo -- --split-brain`: the tutorial's last section on one
// machine. Both nodes up, master1 serving, a client writing through the VIP;
// then the heartbeat link (eth2) fails for deadtime + 40 s while the nodes
// and the LAN stay up. master2 declares master1 dead and tries to take the
// group; our IPaddr finds master1 still answering for the VIP and refuses.
// Prints the timeline and a verdict, then tears down.
import { Cluster, VIP } from '../test/rig/cluster.ts';
import { describeSplitBrain, runSplitBrain, startClusterWithWriter } from '../test/rig/split-brain.ts';
import { runDemo, say } from './frame.ts';

console.log(`ha-resource-agents demo: split brain (the tutorial's last section)

  master1, master2   heartbeat v1, haresources: master1 IPaddr::${VIP}/16/eth1 drbddisk::data Filesystem::/dev/drbd1::/data::ext3 mysqld
  fault              the heartbeat link (eth2) goes down for deadtime + 40 s; both nodes and the LAN (eth1) stay up
  watched            each node's VIP, DRBD role, /data mount and mysqld every ~50 ms; every VIP change (ip monitor)
`);

await runDemo(async (track) => {
  say('setting up: namespaces, bridge, heartbeat link, ext3 image, MariaDB datadir on /dev/drbd1');
  const cluster = await Cluster.create({ id: `demosb${process.pid}`, say });
  track(cluster);
  cluster.watchLogs();
  await startClusterWithWriter(cluster);
  const r = await runSplitBrain(cluster, 'heartbeat-link');
  cluster.stopWatchingLogs();
  console.log('');
  for (const line of describeSplitBrain(r)) console.log(`  ${line}`);
  const problems: string[] = [];
  if (r.error) problems.push(r.error);
  if (r.duplicateVipMs > 0 || r.vipIntervals.master2.length) problems.push(`the VIP was on master2 (${r.duplicateVipMs} ms on both nodes)`);
  for (const [what, held] of Object.entries(r.ever.master2)) if (held) problems.push(`master2 held ${what}`);
  if (r.writesServedByMaster2) problems.push(`${r.writesServedByMaster2} writes served by master2`);
  if (r.missingRows.length) problems.push(`committed rows missing: ${r.missingRows.join(', ')}`);
  if (r.holder !== 'master1') problems.push(`after the heal the holder is ${r.holder ?? 'nobody'}`);
  for (const node of ['master1', 'master2'] as const) if (r.stubCalls[node].length) problems.push(`${node}: reboot/pkill stubs called`);
  const refusal = r.master2LogDuringOutage.find((l) => /refusing to start/.test(l));
  console.log('');
  if (refusal) console.log(`master2's log:\n  ${refusal.trim()}\n`);
  if (problems.length === 0) {
    console.log('VERDICT: PASS — master2 refused the takeover at IPaddr: the VIP, DRBD Primary, /data and mysqld never left master1,');
    console.log(`         no reboot was attempted, and after the link came back all ${r.committedRows} committed rows are there through the VIP.`);
  } else {
    console.log('VERDICT: FAIL');
    for (const p of problems) console.log(`  - ${p}`);
  }
  return problems.length === 0 ? 0 : 1;
});
