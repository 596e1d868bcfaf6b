import t from 'tap';
import { parseHaDebug, resourcePhases, splitScenario } from './timeline.ts';

// ha-debug as the rig's timeline writes it: ResourceManager's and the agents'
// lines with HA_DATEFMT="%Y/%m/%d_%T.%3N " (tab after the tag), heartbeat's
// own lines stamped to the second, syslog style.
const MASTER2 = [
  'Nov 28 19:00:03 master2 heartbeat: [401]: WARN: node master1: is dead',
  'ResourceManager[700]:\t2026/11/28_19:00:03.120 info: Acquiring resource group: master1 IPaddr::198.18.4.1/16/eth1 drbddisk::data Filesystem::/dev/drbd1::/data::ext3 mysqld',
  'ResourceManager[700]:\t2026/11/28_19:00:03.180 info: Running /etc/ha.d/resource.d/IPaddr 198.18.4.1/16/eth1 start',
  'ResourceManager[700]:\t2026/11/28_19:00:03.185 debug: Starting /etc/ha.d/resource.d/IPaddr 198.18.4.1/16/eth1 start',
  'IPaddr[710]:\t2026/11/28_19:00:03.200 DEBUG: start: begins 14 ms after the process started',
  'IPaddr[710]:\t2026/11/28_19:00:03.290 INFO: adding 198.18.4.1/16 to eth1:0 broadcast +',
  'ResourceManager[700]:\t2026/11/28_19:00:03.300 debug: /etc/ha.d/resource.d/IPaddr 198.18.4.1/16/eth1 start done. RC=0',
  'ResourceManager[700]:\t2026/11/28_19:00:03.400 debug: Starting /etc/ha.d/resource.d/drbddisk data start',
  'ResourceManager[700]:\t2026/11/28_19:00:03.450 debug: /etc/ha.d/resource.d/drbddisk data start done. RC=0',
  'ResourceManager[700]:\t2026/11/28_19:00:03.600 debug: Starting /etc/ha.d/resource.d/mysqld  start',
  'mysqld[720]:\t2026/11/28_19:00:03.640 INFO: starting /usr/sbin/mariadbd on /data (socket /run/mysqld/mysqld.sock)',
  'mysqld[720]:\t2026/11/28_19:00:03.960 INFO: mysqld (pid 730) accepts connections on /run/mysqld/mysqld.sock',
  'ResourceManager[700]:\t2026/11/28_19:00:04.000 debug: /etc/ha.d/resource.d/mysqld  start done. RC=0',
  'a line that is not a log line',
].join('\n');

t.test('parseHaDebug: ms stamps, heartbeat\'s whole seconds marked coarse', async (t) => {
  const lines = parseHaDebug(MASTER2, 'master2', 2026);
  t.equal(lines.length, 13);
  t.equal(lines[0]!.t, new Date(2026, 10, 28, 19, 0, 3).getTime());
  t.equal(lines[0]!.text, 'WARN: node master1: is dead');
  t.equal(lines[0]!.coarse, true);
  t.equal(lines[0]!.tag, 'heartbeat[401]');
  t.equal(lines[1]!.coarse, false);
  t.equal(lines[1]!.t - new Date(2026, 10, 28, 19, 0, 3, 120).getTime(), 0);
  t.equal(lines[4]!.text, 'DEBUG: start: begins 14 ms after the process started');
});

t.test('resourcePhases: from the previous step to "done", status call and RM lines included', async (t) => {
  const phases = resourcePhases(parseHaDebug(MASTER2, 'master2'));
  t.same(phases.map((p) => [p.script, p.action, p.to - p.from, p.to - p.callFrom, p.rc]), [
    ['IPaddr', 'start', 180, 115, 0],
    ['drbddisk', 'start', 150, 50, 0],
    ['mysqld', 'start', 550, 400, 0],
  ]);
});

t.test('splitScenario: heartbeat / scripts / client add up to the total', async (t) => {
  const lines = parseHaDebug(MASTER2, 'master2');
  const trigger = new Date(2026, 10, 28, 19, 0, 0, 0).getTime();
  const write = { ok: 9, node: 'master2', t: new Date(2026, 10, 28, 19, 0, 4, 150).getTime() };
  const connect = new Date(2026, 10, 28, 19, 0, 4, 100).getTime();
  const split = splitScenario(lines, trigger, write, [trigger - 1000, connect]);
  t.equal(split.totalMs, 4150);
  t.same(split.scripts, { IPaddr: 180, drbddisk: 150, mysqld: 550 });
  t.equal(split.clientMs, 150);
  t.equal(split.heartbeatMs, 4150 - 180 - 150 - 550 - 150);
  t.equal(split.firstAcceptAt, connect, 'the last connect before the first write');
  t.equal(split.mysqlServerMs, 320, 'our mysqld says when it spawned the server and when the server answered');
});

t.test('splitScenario: a phase still running at the first write counts up to that write', async (t) => {
  const lines = parseHaDebug(MASTER2, 'master2');
  const trigger = new Date(2026, 10, 28, 19, 0, 0, 0).getTime();
  // The server answered at 03.900, the script returned at 04.000 (it slept out its poll).
  const write = { ok: 9, node: 'master2', t: new Date(2026, 10, 28, 19, 0, 3, 900).getTime() };
  const split = splitScenario(lines, trigger, write, []);
  t.same(split.scripts, { IPaddr: 180, drbddisk: 150, mysqld: 450 });
  t.equal(split.clientMs, 0);
  t.equal(split.heartbeatMs + 180 + 150 + 450, split.totalMs);
});

t.test('splitScenario: a call with no "done" line yet (the script still sleeping) counts up to the first write', async (t) => {
  const running = MASTER2.split('\n').filter((l) => !/mysqld  start done/.test(l)).join('\n');
  const lines = parseHaDebug(running, 'master2');
  const trigger = new Date(2026, 10, 28, 19, 0, 0, 0).getTime();
  const write = { ok: 9, node: 'master2', t: new Date(2026, 10, 28, 19, 0, 3, 900).getTime() };
  const split = splitScenario(lines, trigger, write, []);
  t.same(split.scripts, { IPaddr: 180, drbddisk: 150, mysqld: 450 });
  t.equal(split.clientMs, 0);
});

t.test('the MySQL server\'s share: only inside the window, never negative, per node', async (t) => {
  const lines = parseHaDebug(MASTER2, 'master2');
  const trigger = new Date(2026, 10, 28, 19, 0, 0, 0).getTime();
  // The window closes while the server is still starting: counted up to the write.
  const early = splitScenario(lines, trigger, { ok: 1, node: 'master2', t: new Date(2026, 10, 28, 19, 0, 3, 700).getTime() }, []);
  t.equal(early.mysqlServerMs, 60);
  // Lines after the first write (the next takeover's) do not count.
  const later = parseHaDebug(MASTER2 + '\nmysqld[720]:\t2026/11/28_19:00:09.000 INFO: stopping mysqld (pid 730) on /data: SIGTERM\nmysqld[720]:\t2026/11/28_19:00:09.100 DEBUG: stop: exit 0 after 110 ms', 'master2');
  const split = splitScenario(later, trigger, { ok: 1, node: 'master2', t: new Date(2026, 10, 28, 19, 0, 4, 150).getTime() }, []);
  t.equal(split.mysqlServerMs, 320);
});
