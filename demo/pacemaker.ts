// `npm run demo -- --pacemaker`: the same service on three Pacemaker +
// Corosync nodes, configured the way a heartbeat user migrates: the
// tutorial's haresources line through `ha-agent crm-config`, loaded with
// `crm configure load update`. Then the scenarios of issue 16 with a client
// writing through the VIP all along: monitor failures, moves, a crash and a
// partition of the holder (both fenced), rejoins. Prints a timeline, a table
// and a verdict; tears everything down (--keep leaves it up).
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { PacemakerCluster, HARESOURCES, VIP, crmConfigOfHaresources, fencingCrm } from '../test/rig/pacemaker.ts';
import { runPacemakerScenarios, SCENARIOS, type PcmkScenarioResult } from '../test/rig/pacemaker-scenarios.ts';
import { formatTable, runDemo, say, secs, waitForEnter } from './frame.ts';

const keep = process.argv.includes('--keep');

console.log(`ha-resource-agents demo: the tutorial's service on Pacemaker + Corosync, three nodes, on this machine

  master1..3     each its own network, UTS, mount and PID namespace and private root; corosync 3 (knet,
                 token 500 ms) and pacemakerd; our build directory is the OCF provider "hara"
  haresources    ${HARESOURCES.trim()}
                 → ha-agent crm-config → crm configure load update (plus stonith:fence_hara)
  fencing        fence_hara asks the host to power a node off (kill its namespaces) and on again
  /dev/drbd1     one loop-backed ext3 image seen by all; DRBD roles from the drbdadm test double
  client         writes a row through the VIP ${VIP} every 100 ms
`);

/** Follows every node's pacemaker.log and prints what Pacemaker decided and did. */
function followLogs(c: PacemakerCluster): () => void {
  const offsets: Record<string, number> = {};
  const recent = new Map<string, number>();
  const patterns: [RegExp, (m: RegExpExecArray, node: string) => string | undefined][] = [
    [/Result of (start|stop) operation for (\S+) on (\S+): (.*?) \|/, (m, node) => (m[3] === node ? `${m[2]} ${m[1]}: ${m[4]}` : undefined)],
    [/Result of monitor operation for (\S+) on (\S+): (.*?) \|/, (m, node) => (m[2] === node && !['ok', 'Cancelled'].includes(m[3]!) ? `${m[1]} monitor: ${m[3]}` : undefined)],
    [/Operation '?(\w+)'? targeting (\S+) (?:by|on) (\S+) for \S+: (\S+)/, (m) => `fencing: ${m[1]} of ${m[2]} by ${m[3]}: ${m[4]}`],
    [/pacemaker-controld.*Node (\S+) state is now lost/, (m) => `${m[1]} is lost (corosync membership)`],
    [/pacemaker-controld.*Node (\S+) state is now member/, (m) => `${m[1]} is a member`],
    [/pacemaker-controld.*Stopping all resources: no quorum|Cluster does not have quorum|Lost quorum/, () => 'no quorum: stops its resources'],
  ];
  const poll = () => {
    for (const node of c.nodeNames) {
      const path = `${c.base}/${node}/log/pacemaker/pacemaker.log`;
      if (!existsSync(path)) continue;
      // Only what was appended since the last poll (the logs grow by megabytes).
      const start = offsets[node] ?? 0;
      const fd = openSync(path, 'r');
      const buf = Buffer.alloc(Math.max(0, fstatSync(fd).size - start));
      readSync(fd, buf, 0, buf.length, start);
      closeSync(fd);
      const end = buf.lastIndexOf(10) + 1;
      if (end <= 0) continue;
      offsets[node] = start + end;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        for (const [pattern, render] of patterns) {
          const m = pattern.exec(line);
          const text = m && render(m, node);
          if (!text) continue;
          // Membership and fencing are logged by every node: say them once.
          const key = /fencing|lost|member|quorum/.test(text) && !/quorum/.test(text) ? text : `${node} ${text}`;
          if ((recent.get(key) ?? 0) > Date.now() - 5000) break;
          recent.set(key, Date.now());
          say(`  ${node.padEnd(7)} | ${text}`);
          break;
        }
      }
    }
  };
  const timer = setInterval(poll, 200);
  return () => { clearInterval(timer); poll(); };
}

function table(results: PcmkScenarioResult[]): string {
  const rows = [['scenario', 'trigger', 'holder', 'detected', 'first write', 'client outage', 'fenced', 'rows (missing)']];
  for (const r of results) {
    rows.push([
      r.name,
      r.trigger,
      `${r.holderBefore ?? '-'} → ${r.holderAfter ?? '-'}`,
      secs(r.detectedAfterMs),
      secs(r.firstWriteAfterMs),
      secs(r.outageMs),
      r.fenced?.length ? r.fenced.map((f) => `${f.action} ${f.target}`).join(', ') : '-',
      `${r.committedRows} (${r.missingRows.length})`,
    ]);
  }
  return formatTable(rows);
}

await runDemo(async (track) => {
  say('setting up: namespaces, LAN bridge, ext3 image, MariaDB datadir on /dev/drbd1');
  const cluster = await PacemakerCluster.create({ id: `pd${process.pid}`, say });
  track(cluster);
  const stopFollowing = followLogs(cluster);
  say('starting corosync and pacemakerd on master1..3');
  await cluster.start();
  say('ha-agent crm-config /etc/ha.d/haresources:');
  const group = await crmConfigOfHaresources(undefined, cluster.base);
  for (const line of group.trimEnd().split('\n')) console.log(`           ${line}`);
  const results = await runPacemakerScenarios(cluster, { crm: `${fencingCrm(cluster.nodeNames)}${group}` });
  stopFollowing();

  console.log('\nSummary (times from the trigger; "first write": first row the client committed through the VIP on the holder after;');
  console.log('"client outage": from its last committed write before the trouble to its first after):\n');
  console.log(table(results));
  const problems: string[] = [];
  for (const r of results) if (r.error) problems.push(`${r.name}: ${r.error}`);
  for (const name of SCENARIOS) if (!results.some((r) => r.name === name)) problems.push(`${name}: did not run`);
  for (const r of results) if (r.missingRows.length) problems.push(`${r.name}: committed rows missing: ${r.missingRows.join(', ')}`);
  for (const r of results.filter((x) => x.name.startsWith('monitor-') && !x.error)) {
    if (r.holderAfter !== r.holderBefore) problems.push(`${r.name}: the group moved to ${r.holderAfter} instead of restarting in place`);
    if (!r.serverReplaced) problems.push(`${r.name}: the same mariadbd still serves: the recovery did not restart it`);
  }
  for (const r of results.filter((x) => x.name.startsWith('rejoin'))) {
    if (new Set(r.holdersDuringRejoin).size > 1) problems.push(`${r.name}: the group moved while a node rejoined`);
  }
  for (const v of cluster.violations) problems.push(`two holders: ${v}`);
  const gaps = cluster.sampleGaps();
  console.log('');
  if (problems.length === 0) {
    console.log('VERDICT: PASS — Pacemaker drove our agents through every scenario: each failure was seen by our monitor');
    console.log('         and recovered, the crashed and the cut-off holder were fenced before anyone else took over,');
    console.log(`         rejoining nodes took nothing back; in ${gaps.samples} samples (every ${gaps.median} ms) no two nodes ever held`);
    console.log(`         the VIP, /data, DRBD Primary or mysqld at once; all ${cluster.committedIds.length} rows the client committed survived.`);
  } else {
    console.log('VERDICT: FAIL');
    for (const p of problems) console.log(`  - ${p}`);
  }

  if (keep) {
    const node = cluster.observer();
    console.log(`
The cluster is up (--keep). Look inside, from another terminal, as root:

  nsenter ${cluster.sandbox(node).nsenterArgs().join(' ')} bash     # a shell on ${node}
    crm_mon -1rf; crm configure show; crm resource move <group> master3
  less ${cluster.base}/${node}/log/pacemaker/pacemaker.log
  ip netns exec ${cluster.ns.client} mariadb --no-defaults -h ${VIP} -u app -papp test -e 'SELECT node, COUNT(*) FROM t GROUP BY node'

Press Enter (or Ctrl-C) here to tear everything down.`);
    await waitForEnter();
  }
  return problems.length === 0 ? 0 : 1;
});
