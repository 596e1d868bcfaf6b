// The demo (demo/run.sh): the tutorial's sections 5 and 6 on one machine.
// Prints what happens as it happens, then a table per scenario and a
// verdict. With --keep the cluster stays up until Enter or Ctrl-C.
import { Cluster, NODES, VIP, type NodeState } from '../test/rig/cluster.ts';
import { runTutorialScenarios, singleHolder, type ScenarioResult } from '../test/rig/scenarios.ts';
import { clock, isTimelineWorthy, splitScenario, writeTimelinePage } from '../test/rig/timeline.ts';
import { formatTable, runDemo, say, secs, waitForEnter } from './frame.ts';

const keep = process.argv.includes('--keep');

console.log(`ha-resource-agents demo: Heartbeat + DRBD + MySQL, two nodes, on this machine

  master1, master2   each its own network, UTS, mount and PID namespace and private root
                     (/etc/ha.d with the tutorial's ha.cf/authkeys/haresources, our agents
                     as /etc/ha.d/resource.d, stubs instead of reboot/pkill)
  haresources        master1 IPaddr::${VIP}/16/eth1 drbddisk::data Filesystem::/dev/drbd1::/data::ext3 mysqld
  /dev/drbd1         one loop-backed ext3 image seen by both; DRBD roles from the drbdadm test double
  slave1 (client)    writes a row through the VIP every 100 ms; a MariaDB replica follows the VIP
`);

function holderOf(states: NodeState[]): string {
  const h = states.find((s) => s.vip || s.mounted || s.role === 'Primary' || s.mysqld);
  return h ? h.node : 'nobody';
}

/**
 * One scenario to the millisecond, trigger → first committed write: the
 * daemon's decisions (heartbeat stamps them to the second: .~), each
 * ResourceManager call's start and end, our agents' steps (their debug
 * lines), the client's first connect and first write; then the split.
 */
function timelineOf(c: Cluster, r: ScenarioResult): string {
  const first = c.firstWriteBy(r.expectedHolder, r.triggerAt);
  if (!first) return '';
  const rel = (t: number) => `+${String(t - r.triggerAt).padStart(5)} ms`;
  const out: string[] = [`  ${clock(r.triggerAt)}  ${rel(r.triggerAt)}  trigger: ${r.trigger}`];
  const lines = c.timelineLines().filter((l) => l.t >= r.triggerAt - (l.coarse ? 999 : 0) && l.t <= first.t && isTimelineWorthy(l));
  // heartbeat's own lines carry whole seconds: no offset to the ms for them.
  const events = lines.map((l) => ({ t: l.t, text: `${clock(l.t, l.coarse)}  ${l.coarse ? ' '.repeat(rel(l.t).length) : rel(l.t)}  ${l.node.padEnd(7)} ${l.tag.replace(/\[\d+\]$/, '').padEnd(15)} ${l.text.replace(/\/etc\/ha\.d\/+resource\.d\/+/g, '')}` }));
  const split = splitScenario(c.timelineLines(), r.triggerAt, first, c.connectTimes);
  if (split.firstAcceptAt !== undefined) events.push({ t: split.firstAcceptAt, text: `${clock(split.firstAcceptAt)}  ${rel(split.firstAcceptAt)}  client  first TCP connect + MySQL handshake through ${VIP} that served the first write` });
  events.push({ t: first.t, text: `${clock(first.t)}  ${rel(first.t)}  client  first committed write served by ${first.node}` });
  events.sort((a, b) => a.t - b.t);
  out.push(...events.map((e) => `  ${e.text}`));
  const parts = [`heartbeat + ResourceManager ${split.heartbeatMs} ms`, ...Object.entries(split.scripts).map(([k, v]) => `${k} ${v} ms${k === 'mysqld' && split.mysqlServerMs !== undefined ? ` (the MySQL server itself ${split.mysqlServerMs} ms)` : ''}`), `client ${split.clientMs} ms`];
  out.push(`  = ${split.totalMs} ms: ${parts.join(', ')}`);
  return out.join('\n');
}

function table(results: ScenarioResult[]): string {
  const rows = [['scenario', 'trigger', 'holder after', 'group held', 'first write', 'rows (missing)', 'replica IO/SQL (missing)']];
  for (const r of results) {
    rows.push([
      r.name,
      r.trigger,
      r.states.length ? holderOf(r.states) : '-',
      secs(r.heldAfterMs),
      secs(r.firstWriteAfterMs),
      r.name === 'start' ? '-' : `${r.committedRows} (${r.missingRows.length})`,
      r.replica ? `${r.replica.io}/${r.replica.sql} (${r.replica.missing.length})` : '-',
    ]);
  }
  return formatTable(rows);
}

await runDemo(async (track) => {
  say('setting up: namespaces, bridge, heartbeat link, ext3 image, MariaDB datadir on /dev/drbd1');
  const cluster = await Cluster.create({ id: `demo${process.pid}`, say, timeline: true });
  track(cluster);
  cluster.watchLogs();
  const results = await runTutorialScenarios(cluster, { replica: true, recoverAfterCrash: true });
  cluster.stopWatchingLogs();

  console.log('\nSummary ("group held": seen by polling both nodes; "first write": first row the client committed through the VIP on the new holder; both from the trigger):\n');
  console.log(table(results));
  console.log('\nEach takeover to the millisecond (ResourceManager, agents and client stamp their lines to the ms; heartbeat\'s own lines only to the second: .~):');
  for (const r of results) {
    if (r.name === 'start' || r.error) continue;
    console.log(`\n${r.name}:`);
    console.log(timelineOf(cluster, r));
  }
  // The report page: `ha-agent timeline --html` over both nodes' ha-debug (outside the rig's directory, which goes at teardown).
  const page = `${process.env.HA_DEMO_OUT ?? '/tmp'}/ha-demo-timeline-${process.pid}.html`;
  try {
    const summary = await writeTimelinePage(cluster.timelineInputs(), page, { title: 'ha-resource-agents demo: what heartbeat did, per node and resource' });
    console.log(`\nThe same, as a picture (ha-agent timeline --html over both nodes' ha-debug): ${page}`);
    for (const line of summary) console.log(`  - ${line}`);
  } catch (error) {
    console.log(`\nreport page not written: ${error instanceof Error ? error.message : error}`);
  }
  const problems: string[] = [];
  for (const r of results) {
    if (r.error) problems.push(`${r.name}: ${r.error}`);
    else if (r.name !== 'start') {
      if (!singleHolder(r.states, r.expectedHolder)) problems.push(`${r.name}: ${r.expectedHolder} is not the only holder`);
      if (r.missingRows.length) problems.push(`${r.name}: committed rows missing: ${r.missingRows.join(', ')}`);
      if (r.replica && (r.replica.io !== 'Yes' || r.replica.sql !== 'Yes' || r.replica.missing.length)) problems.push(`${r.name}: replica ${r.replica.io}/${r.replica.sql}, ${r.replica.missing.length} rows missing`);
    }
  }
  const expected = ['start', 'failover', 'failback', 'crash', 'recovery'];
  for (const name of expected) if (!results.some((r) => r.name === name)) problems.push(`${name}: did not run`);
  for (const v of cluster.violations) problems.push(`two holders: ${v}`);
  for (const node of NODES) if (cluster.stubCalls(node).length) problems.push(`${node}: reboot/pkill stubs were called: ${cluster.stubCalls(node).join('; ')}`);
  const rows = cluster.committedIds.length;
  console.log('');
  if (problems.length === 0) {
    console.log(`VERDICT: PASS — every takeover left exactly one node holding the VIP, /data, DRBD Primary and mysqld,`);
    console.log(`         and in ${cluster.monitorSamples} samples taken all along no two nodes ever held the same one at once;`);
    console.log(`         all ${rows} rows the client committed through the VIP survived; the replica kept Slave_IO/SQL_Running: Yes and has every row.`);
  } else {
    console.log('VERDICT: FAIL');
    for (const p of problems) console.log(`  - ${p}`);
  }

  if (keep) {
    const m1 = cluster.nodes.master1;
    const m2 = cluster.nodes.master2;
    console.log(`
The cluster is up (--keep). Look inside, from another terminal, as root:

  nsenter ${m1?.nsenterArgs().join(' ')} bash      # a shell on master1 (its own /, /etc/ha.d, /data, /var/log)
  nsenter ${m2?.nsenterArgs().join(' ')} bash      # a shell on master2
    ip addr show eth1; cat /etc/ha.d/haresources; drbdadm role data; mount | grep /data
    tail -f /var/log/ha-log                           # heartbeat's log (also ha-debug)
    /usr/libexec/heartbeat/heartbeat -k               # graceful stop: watch the other node take over
  tail -f ${m1?.logDir}/ha-log ${m2?.logDir}/ha-log
  ip netns exec ${cluster.ns.client} mariadb --no-defaults -h ${VIP} -u app -papp test -e 'SELECT node, COUNT(*) FROM t GROUP BY node'
  mariadb --no-defaults -S ${cluster.replicaSocket} -u root -e 'SHOW SLAVE STATUS\\G'   # slave1, replicating from the VIP

Press Enter (or Ctrl-C) here to tear everything down.`);
    await waitForEnter();
  }
  return problems.length === 0 ? 0 : 1;
});
