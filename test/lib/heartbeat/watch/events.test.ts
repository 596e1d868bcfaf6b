import t from 'tap';
import { readFileSync } from 'node:fs';
import { conditionKey, deriveConditions, EVENT_KINDS, EventTracker, pluginStatus, type Condition } from '../../../../lib/heartbeat/watch/events.ts';
import { PeerLossMemo, parseClStatusListnodes, targetsOf, peerOf, interfaceFor, peerLeftFromLog, type Sample } from '../../../../lib/heartbeat/watch/sample.ts';
import { parseHaresources } from '../../../../lib/heartbeat/haresources.ts';
import { parseHaCf } from '../../../../lib/heartbeat/hacf.ts';
import { parseIpAddrJson } from '../../../../lib/ip/iproute-json.ts';
import type { GroupStatus } from '../../../../lib/heartbeat/status.ts';

// Pure: a sample in, conditions out (table-driven), and the tracker's
// raise-once / clear-once / damping over sequences of samples.

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/${name}`, import.meta.url), 'utf8');

const GROUP = ['IPaddr::198.18.4.1/16/eth1', 'drbddisk::data', 'Filesystem::/dev/drbd1::/data::ext3', 'mysqld'];
const group = (states: string[], key = GROUP[0]!): GroupStatus => ({
  node: 'master1', line: 1, key, verdict: states.every((s) => s === 'held') ? 'ALL' : states.some((s) => s === 'held') ? 'SOME' : 'NONE',
  resources: states.map((state, i) => ({ resource: GROUP[i]!, line: 1, args: [], state: state as 'held', detail: state === 'held' ? 'running' : 'stopped', exitCode: 0, ms: 1 })),
});

/** A healthy primary: everything up, group held, DRBD connected. */
function healthy(): Sample {
  return {
    at: new Date(0), node: 'master1',
    heartbeat: { running: true, pid: 10, detail: 'PID 10' },
    peer: { name: 'master2', status: 'active', address: '198.18.0.2', lanMacs: ['02:00:00:00:00:02'] },
    links: [{ name: 'eth1', status: 'up' }, { name: 'eth2', status: 'up' }],
    vips: [{ ip: '198.18.4.1', nic: 'eth1', heldHere: true, otherMacs: [] }],
    drbd: [{ resource: 'data', role: 'Primary', peerRole: 'Secondary', connection: 'Connected', disks: ['UpToDate'], peerDisks: ['UpToDate'], splitBrainVolumes: [], splitBrainDir: '/var/run/drbd/splitbrain' }],
    groups: [group(['held', 'held', 'held', 'held'])],
    transition: false, problems: [], ms: 5,
  };
}

const codes = (s: Sample) => deriveConditions(s).map((c) => EVENT_KINDS[c.kind].code).sort();

t.test('each fault of the issue\'s table gives its code and severity; a healthy node none', async (t) => {
  const cases: [string, (s: Sample) => void, string[]][] = [
    ['healthy primary', () => {}, []],
    ['one of two links down', (s) => { s.links![1]!.status = 'dead'; }, ['HA701']],
    ['every link down, peer dead to heartbeat, LAN answers: split brain', (s) => { s.links!.forEach((l) => { l.status = 'dead'; }); s.peer!.status = 'dead'; }, ['HA702']],
    ['the peer stopped heartbeat on purpose (graceful failover), still up on the LAN: not split brain', (s) => { s.links!.forEach((l) => { l.status = 'dead'; }); s.peer!.status = 'dead'; s.peer!.leftOnPurpose = true; }, ['HA703']],
    ['a crashed peer back on the LAN before its heartbeat runs (a reboot, not a partition)', (s) => { s.links!.forEach((l) => { l.status = 'dead'; }); s.peer!.status = 'dead'; s.peer!.partitioned = false; }, ['HA703']],
    ['every link down, LAN silent: the peer dead', (s) => { s.links!.forEach((l) => { l.status = 'dead'; }); s.peer!.status = 'dead'; s.peer!.lanMacs = []; }, ['HA703']],
    ['peer dead, LAN not probed (no address)', (s) => { s.peer!.status = 'dead'; s.peer!.lanMacs = undefined; s.links = []; }, ['HA703']],
    ['a VIP held here answering from another MAC', (s) => { s.vips[0]!.otherMacs = ['02:00:00:00:00:99']; }, ['HA711']],
    ['another MAC for a VIP not held here is not ours to judge', (s) => { s.vips[0]!.heldHere = false; s.vips[0]!.otherMacs = ['02:00:00:00:00:99']; s.groups = [group(['released', 'released', 'released', 'released'])]; }, []],
    ['DRBD split-brain handler file', (s) => { s.drbd[0]!.splitBrainVolumes = ['0']; }, ['HA721']],
    ['DRBD Primary on both', (s) => { s.drbd[0]!.peerRole = 'Primary'; }, ['HA722']],
    ['DRBD StandAlone', (s) => { s.drbd[0]!.connection = 'StandAlone'; s.drbd[0]!.peerDisks = []; }, ['HA723']],
    ['DRBD WFConnection (peer gone)', (s) => { s.drbd[0]!.connection = 'WFConnection'; s.drbd[0]!.peerRole = 'Unknown'; s.drbd[0]!.peerDisks = ['DUnknown']; }, ['HA724']],
    ['DRBD syncing: peer Inconsistent', (s) => { s.drbd[0]!.connection = 'SyncSource'; s.drbd[0]!.peerDisks = ['Inconsistent']; }, ['HA724']],
    ['DRBD not up here (Unconfigured) is not degraded', (s) => { s.drbd[0] = { ...s.drbd[0]!, role: 'Unconfigured', connection: undefined, disks: [], peerDisks: [] }; }, []],
    ['mysqld died under a held group', (s) => { s.groups = [group(['held', 'held', 'held', 'released'])]; }, ['HA731', 'HA732']],
    ['a partial group while ResourceManager runs (takeover) is no event', (s) => { s.groups = [group(['held', 'held', 'released', 'released'])]; s.transition = true; }, []],
    ['heartbeat killed, group held', (s) => { s.heartbeat = { running: false, detail: 'no /run/heartbeat.pid' }; s.links = undefined; s.peer!.status = undefined; }, ['HA704']],
    ['heartbeat stopped, nothing held', (s) => { s.heartbeat = { running: false, detail: 'no /run/heartbeat.pid' }; s.links = undefined; s.groups = [group(['released', 'released', 'released', 'released'])]; s.vips[0]!.heldHere = false; }, ['HA705']],
    ['cl_status failed', (s) => { s.links = undefined; s.peer!.status = undefined; s.problems = [{ part: 'cl_status', message: 'cl_status listnodes -v: exit 1' }]; }, ['HA790']],
  ];
  for (const [name, change, want] of cases) {
    const s = healthy();
    change(s);
    t.same(codes(s), want, name);
  }
});

t.test('every kind has a code HA7xx, a severity and a fix; codes are unique', async (t) => {
  const kinds = Object.values(EVENT_KINDS);
  t.equal(new Set(kinds.map((k) => k.code)).size, kinds.length);
  for (const k of kinds) {
    t.match(k.code, /^HA7\d\d$/);
    t.ok(k.severity === 'warning' || k.severity === 'critical');
    t.ok(k.fix.length > 20, `${k.code} has a fix`);
  }
  // The severities.
  const sev = Object.fromEntries(kinds.map((k) => [k.code, k.severity]));
  t.same([sev.HA701, sev.HA702, sev.HA703, sev.HA704, sev.HA711, sev.HA721, sev.HA722, sev.HA723, sev.HA724, sev.HA731, sev.HA732],
    ['warning', 'critical', 'warning', 'critical', 'critical', 'critical', 'critical', 'critical', 'warning', 'critical', 'critical']);
});

const cond = (kind: Condition['kind'], link?: string): Condition => ({ kind, desc: kind, subject: link ? { link } : {} });

t.test('raised once when it starts, cleared once when it ends, never repeated', async (t) => {
  const tr = new EventTracker('master1', { raiseAfter: 1, clearAfterMs: 0 });
  const at = (s: number) => new Date(s * 1000);
  const e1 = tr.update([cond('linkDown', 'eth1')], at(0));
  t.same(e1.map((e) => [e.code, e.state, e.subject.link, e.sequence]), [['HA701', 'raised', 'eth1', 1]]);
  t.same(tr.update([cond('linkDown', 'eth1')], at(1)), [], 'not repeated while it lasts');
  t.same(tr.update([cond('linkDown', 'eth1')], at(2)), []);
  const e2 = tr.update([], at(3));
  t.same(e2.map((e) => [e.code, e.state, e.sequence]), [['HA701', 'cleared', 2]]);
  t.same(tr.update([], at(4)), [], 'cleared once');
  t.equal(e2[0]!.node, 'master1');
  t.match(e2[0]!.fix, /cable/);
});

t.test('damping: raise after K samples; a flapping condition is one raise and one clear', async (t) => {
  const tr = new EventTracker('master1', { raiseAfter: 2, clearAfterMs: 3000 });
  const seq = [1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]; // one sample per second
  const events = seq.flatMap((bad, i) => tr.update(bad ? [cond('groupPartial')] : [], new Date(i * 1000)).map((e) => `${i}:${e.state}`));
  // 0: one sample only (< K); 2,3: two in a row -> raised at 3; flaps 4..7 never absent 3 s; absent from 8, cleared at 11.
  t.same(events, ['3:raised', '11:cleared']);
  t.same(tr.active(), []);
});

t.test('the subject is part of the identity: two links are two events', async (t) => {
  t.not(conditionKey(cond('linkDown', 'eth1')), conditionKey(cond('linkDown', 'eth2')));
  const tr = new EventTracker('n', { raiseAfter: 1, clearAfterMs: 0 });
  t.equal(tr.update([cond('linkDown', 'eth1'), cond('linkDown', 'eth2')], new Date()).length, 2);
});

t.test('Monitoring Plugins verdict: critical over warning over OK; a sample failure alone is UNKNOWN', async (t) => {
  t.equal(pluginStatus([]), 'OK');
  t.equal(pluginStatus([cond('linkDown')]), 'WARNING');
  t.equal(pluginStatus([cond('linkDown'), cond('splitBrain')]), 'CRITICAL');
  t.equal(pluginStatus([cond('sampleFailed')]), 'UNKNOWN');
});

t.test('cl_status listnodes -v: the peer, its status and its links (ping nodes kept with their type)', async (t) => {
  const nodes = parseClStatusListnodes(fixture('heartbeat/cl_status-listnodes-v.txt'));
  t.same(nodes.map((n) => [n.name, n.status, n.type]), [['master1', 'active', 'normal'], ['master2', 'dead', 'normal'], ['198.18.0.254', 'ping', 'ping']]);
  t.same(nodes[1]!.links, [{ name: 'eth1', status: 'dead' }, { name: 'eth2', status: 'up' }]);
  t.same(parseClStatusListnodes(''), []);
});

t.test('targets from the tutorial\'s files: VIPs of both groups, drbddisk resources, the peer', async (t) => {
  const hr = parseHaresources('master1 IPaddr::198.18.4.1/16/eth1 drbddisk::data Filesystem::/dev/drbd1::/data::ext3 mysqld\nmaster2 198.18.4.2 drbddisk::logs\n');
  t.same(targetsOf(hr), { vips: [{ ip: '198.18.4.1', nic: 'eth1' }, { ip: '198.18.4.2', nic: undefined }], drbdResources: ['data', 'logs'] });
  t.equal(peerOf(parseHaCf(fixture('heartbeat/tutorial-ha.cf')), 'master1'), 'master2');
  t.equal(peerOf(parseHaCf(fixture('heartbeat/tutorial-ha.cf')), 'MASTER2'), 'master1');
  const ifs = parseIpAddrJson(JSON.stringify([{ ifname: 'eth1', address: '02:00:00:00:00:01', link_type: 'ether', flags: ['UP'], addr_info: [{ family: 'inet', local: '198.18.0.1', prefixlen: 24 }] }]));
  t.equal(interfaceFor(ifs, '198.18.0.2'), 'eth1');
  t.equal(interfaceFor(ifs, '198.19.0.2'), undefined);
});

t.test('heartbeat\'s log: the peer\'s shutdown notice, then heard again', async (t) => {
  const log = [
    "Dec 07 05:07:51 master1 heartbeat: [143]: info: Link master2:eth2 up.",
    "Dec 07 05:10:02 master1 heartbeat: [143]: info: Received shutdown notice from 'master2'.",
    "2026/12/07_05:10:03  ha-agent-watch[386]:    WARNING: HA703 raised: heartbeat sees master2 dead",
  ].join('\n');
  t.equal(peerLeftFromLog(log, 'master2'), true, 'left on purpose');
  t.equal(peerLeftFromLog(log, 'master1'), undefined, 'nothing about another node');
  t.equal(peerLeftFromLog('Dec 07 05:12:00 master1 heartbeat: [143]: info: Link master2:eth2 up.\n', 'master2', true), false, 'heard again');
  t.equal(peerLeftFromLog('Dec 07 05:12:00 master1 heartbeat: [143]: info: Status update for node master2: status active\n', 'MASTER2', true), false);
  t.equal(peerLeftFromLog('Dec 07 05:12:00 master1 heartbeat: [143]: info: Link master2:eth2 dead.\n', 'master2', true), true, 'a link going dead says nothing new');
  t.equal(peerLeftFromLog('Dec 07 05:12:00 master1 heartbeat: [143]: info: Heartbeat restart on node master2\n', 'master2', true), false);
});

t.test('PeerLossMemo: a peer still answering when heartbeat lost it is a partition; one that comes back later is rebooting', async (t) => {
  // [ms, lost, answers] per sample, and what update() says after each.
  const cases: [string, [number, boolean, boolean][], boolean[]][] = [
    ['link cut: answers at the loss', [[0, false, true], [1000, true, true], [2000, true, true]], [false, true, true]],
    ['answers within the grace after the loss (a lost probe)', [[0, true, false], [2500, true, true]], [false, true]],
    ['a partition stays one through a silent probe', [[0, true, true], [1000, true, false], [2000, true, true]], [true, true, true]],
    ['crash, then the node back on the LAN (reboot): not a partition', [[0, true, false], [1000, true, false], [20_000, true, true], [21_000, true, true]], [false, false, false, false]],
    ['back on the LAN and still unheard after the rejoin window: a partition', [[0, true, false], [20_000, true, true], [140_000, true, true]], [false, false, true]],
    ['heartbeat hears the peer again: forgotten', [[0, true, true], [1000, false, true], [2000, true, false], [9000, true, true]], [true, false, false, false]],
  ];
  for (const [name, samples, want] of cases) {
    const memo = new PeerLossMemo(3000, 120_000);
    t.same(samples.map(([at, lost, answers]) => memo.update(at, lost, answers)), want, name);
  }
});
