import t from 'tap';
import { packStamp, parseLine, parseLogText, unpackStamp, YearTracker, stampTime, type Stamp } from '../../../../lib/heartbeat/timeline/parse.ts';
import { classify, rmMeaning, resourceKey } from '../../../../lib/heartbeat/timeline/classify.ts';

// Each shape as written on a heartbeat 3.0.x node (lines from the rig's
// fixtures and the tutorial's ha-log).

t.test('parseLine: every shape heartbeat, ResourceManager and the agents write', async (t) => {
  const cases: [string, { prog: string; tag: string; text: string; coarse: boolean; year?: number; ms: number; host?: string }][] = [
    ['heartbeat[13209]: 2013/01/23_04:09:36 info: Received shutdown notice from \'master1\'.', { prog: 'heartbeat', tag: 'heartbeat[13209]', text: 'info: Received shutdown notice from \'master1\'.', coarse: true, year: 2013, ms: 0 }],
    ['ResourceManager(default)[449]:\t2026/12/07_04:55:36.505 info: Acquiring resource group: master1 IPaddr::198.18.4.1/16/eth1', { prog: 'ResourceManager', tag: 'ResourceManager(default)[449]', text: 'info: Acquiring resource group: master1 IPaddr::198.18.4.1/16/eth1', coarse: false, year: 2026, ms: 505 }],
    ['Dec 07 04:55:40 master2 heartbeat: [88]: WARN: node master1: is dead', { prog: 'heartbeat', tag: 'heartbeat[88]', text: 'WARN: node master1: is dead', coarse: true, ms: 0, host: 'master2' }],
    ['2026/12/07_04:55:36.859  IPaddr[503]:    INFO: adding 198.18.4.1/16 to eth1:0 broadcast +', { prog: 'IPaddr', tag: 'IPaddr[503]', text: 'INFO: adding 198.18.4.1/16 to eth1:0 broadcast +', coarse: false, year: 2026, ms: 859 }],
    ['Nov  8 19:00:56 master2 ResourceManager(default)[812]: info: Running /etc/ha.d/resource.d/IPaddr 1.2.3.4 start', { prog: 'ResourceManager', tag: 'ResourceManager(default)[812]', text: 'info: Running /etc/ha.d/resource.d/IPaddr 1.2.3.4 start', coarse: true, ms: 0, host: 'master2' }],
    ['2026-11-28T19:00:56.123456+01:00 master2 IPaddr[900]: INFO: adding', { prog: 'IPaddr', tag: 'IPaddr[900]', text: 'INFO: adding', coarse: false, year: 2026, ms: 123, host: 'master2' }],
  ];
  for (const [line, want] of cases) {
    const r = parseLine(line);
    if (!r.ok) {
      t.fail(`not parsed: ${line}`);
      continue;
    }
    t.equal(r.line.prog, want.prog, line);
    t.equal(r.line.tag, want.tag);
    t.equal(r.line.text, want.text);
    t.equal(r.line.stamp.coarse, want.coarse);
    t.equal(r.line.stamp.year, want.year);
    t.equal(r.line.stamp.ms, want.ms);
    t.equal(r.line.host, want.host);
  }
  const iso = parseLine('2026-11-28T19:00:56.123456+01:00 master2 IPaddr[900]: INFO: adding');
  t.equal(iso.ok && iso.line.stamp.absolute, Date.UTC(2026, 10, 28, 18, 0, 56, 123), 'RFC 3339 with a zone: an absolute time');
});

t.test('parseLine: not a log line; a line cut short is told apart', async (t) => {
  t.same(parseLine('just some text'), { ok: false, truncated: false });
  t.same(parseLine(''), { ok: false, truncated: false });
  t.same(parseLine('ResourceManager(default)[449]:\t2026/12/07_04:5'), { ok: false, truncated: true });
  t.same(parseLine('Dec 07 04:55:4'), { ok: false, truncated: true });
});

t.test('YearTracker: syslog stamps across Dec 31 → Jan 1 get two years', async (t) => {
  const years = new YearTracker();
  const stamps = ['Dec 31 23:59:58 n heartbeat: [1]: x', 'Jan  1 00:00:01 n heartbeat: [1]: x', 'Dec 31 23:59:59 n heartbeat: [1]: late', 'Jan  1 00:00:02 n heartbeat: [1]: x'].map((l) => {
    const r = parseLine(l);
    if (!r.ok) throw new Error(l);
    return r.line.stamp;
  });
  const wraps = stamps.map((s) => years.feed(s));
  t.same(wraps, [0, 1, 0, 1], 'a late Dec line after Jan stays in the old year');
  // The file was last written on Jan 1 2027: its last line is from 2027.
  const base = years.baseYear({ year: 2027, month: 0 });
  t.equal(base, 2026);
  t.equal(stampTime(stamps[0]!, base + wraps[0]!), new Date(2026, 11, 31, 23, 59, 58).getTime());
  t.equal(stampTime(stamps[1]!, base + wraps[1]!), new Date(2027, 0, 1, 0, 0, 1).getTime());
});

t.test('YearTracker: a stamp with its year fixes the base; the hint only when none does', async (t) => {
  const text = ['Dec 31 23:59:59 n heartbeat: [1]: info: x', 'ResourceManager[2]:\t2027/01/01_00:00:00.100 info: y', 'Jan  1 00:00:01 n heartbeat: [1]: info: z'].join('\n');
  const lines = parseLogText(text, 'n', { hint: { year: 1999, month: 5 } });
  t.same(lines.map((l) => new Date(l.t).getFullYear()), [2026, 2027, 2027]);
  // No year anywhere; the file's mtime in March 2027 but its lines from December: last year.
  const dec = parseLogText('Dec 30 10:00:00 n heartbeat: [1]: info: x', 'n', { hint: { year: 2027, month: 2 } });
  t.equal(new Date(dec[0]!.t).getFullYear(), 2026);
});

t.test('classify: triggers, decisions, ResourceManager calls, agents\' steps and refusals', async (t) => {
  t.same(classify('heartbeat', 'WARN: node master1: is dead'), { kind: 'trigger', trigger: 'node-dead', peer: 'master1' });
  t.same(classify('heartbeat', 'info: Received shutdown notice from \'master1\'.'), { kind: 'trigger', trigger: 'shutdown', peer: 'master1' });
  t.same(classify('heartbeat', 'info: Link master1:eth2 dead.'), { kind: 'trigger', trigger: 'link-dead', peer: 'master1' });
  t.same(classify('heartbeat', 'CRIT: Cluster node master2 returning after partition.'), { kind: 'trigger', trigger: 'partition', peer: 'master2' });
  t.same(classify('heartbeat', 'info: master2 wants to go standby [foreign]'), { kind: 'trigger', trigger: 'standby', peer: 'master2' });
  t.same(classify('heartbeat', 'info: mach_down takeover complete.'), { kind: 'decision' });
  t.equal(classify('heartbeat', 'info: Link master1:eth2 up.'), undefined, 'noise');
  t.same(rmMeaning('info: Running /etc/ha.d//resource.d/mysqld  start'), { kind: 'call', script: 'mysqld', resource: 'mysqld', action: 'start', debug: false });
  t.same(rmMeaning('debug: /etc/ha.d/resource.d/Filesystem /dev/drbd1 /data ext3 stop done. RC=0'), { kind: 'done', script: 'Filesystem', resource: 'Filesystem::/dev/drbd1::/data::ext3', action: 'stop', rc: 0 });
  t.same(rmMeaning('ERROR: Return code 1 from /etc/ha.d/resource.d/IPaddr'), { kind: 'rc', script: 'IPaddr', rc: 1 });
  t.same(classify('IPaddr', 'ERROR: refusing to start: 198.18.4.1 already answers from 9a:f6:81:f2:d2:ea on eth1'), { kind: 'refusal', script: 'IPaddr' });
  t.same(classify('Filesystem', 'INFO: mounted /dev/drbd1 on /data'), { kind: 'step', script: 'Filesystem' });
  t.equal(classify('IPaddr', 'DEBUG: running ip -j addr show'), undefined);
  t.equal(resourceKey('IPaddr', ' 198.18.4.1/16/eth1'), 'IPaddr::198.18.4.1/16/eth1');
});

t.test('packStamp: one number per kept line, unpacked to the same stamp and time', async (t) => {
  const stamps: Stamp[] = [
    { year: 2026, month: 11, day: 7, hour: 4, minute: 55, second: 36, ms: 505, coarse: false },
    { month: 0, day: 1, hour: 0, minute: 0, second: 0, ms: 0, coarse: true },
    { month: 11, day: 31, hour: 23, minute: 59, second: 59, ms: 999, coarse: false },
    { year: 0, month: 1, day: 29, hour: 12, minute: 30, second: 1, ms: 1, coarse: true },
    { year: 9999, month: 11, day: 31, hour: 23, minute: 59, second: 59, ms: 999, coarse: true },
  ];
  for (const s of stamps) {
    const n = packStamp(s);
    t.ok(Number.isSafeInteger(n), `${JSON.stringify(s)} packs to a safe integer`);
    t.same(unpackStamp(n), s);
    t.equal(stampTime(unpackStamp(n), 2026), stampTime(s, 2026));
  }
  // Every stamp parseLine gives round-trips (its absolute time is kept apart by the reader).
  for (const line of ['heartbeat[13209]: 2013/01/23_04:09:36 info: x', 'Nov  8 19:00:56 master2 ResourceManager(default)[812]: info: y', '2026-11-28T19:00:56.123456+01:00 master2 IPaddr[900]: INFO: z']) {
    const r = parseLine(line);
    if (!r.ok) {
      t.fail(line);
      continue;
    }
    const { absolute: _a, ...stamp } = r.line.stamp;
    t.same(unpackStamp(packStamp(r.line.stamp)), stamp, line);
  }
  t.not(packStamp({ month: 0, day: 1, hour: 0, minute: 0, second: 0, ms: 0, coarse: true }), packStamp({ month: 0, day: 1, hour: 0, minute: 0, second: 0, ms: 0, coarse: false }));
});
