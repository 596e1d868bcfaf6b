import t from 'tap';
import { Sandbox, ip, netnsDelete, netnsWithEth1 } from '../rig/sandbox.ts';

// `ha-agent status` inside the private-root node where the stock
// ResourceManager runs: on a released group, a held one (taken by
// ResourceManager takegroup), a half-held one and one with an answer
// ResourceManager cannot read, its verdict is the one `ResourceManager
// statgroup` prints, and each row says what the resource's script said.

const ns = `hae-st-${process.pid}`;
const VIP = '198.18.9.1';
const VIP2 = '198.18.9.5';
// A test-only init script: held while its flag file exists; "odd" answers something ResourceManager cannot read.
const flagScript = `#!/bin/sh
flag=/run/flag.$1
case "$2" in
  start) touch "$flag" ;;
  stop) rm -f "$flag" ;;
  status)
    if [ "$1" = odd ]; then echo "maybe"; exit 0; fi
    if [ -e "$flag" ]; then echo "flag $1 is running"; else echo "flag $1 is not running"; exit 3; fi ;;
esac
`;
const GROUP_A = [`IPaddr::${VIP}/24/eth1`, 'flag::a'];
const GROUP_B = [`IPaddr::${VIP2}/24/eth1`, 'flag::b', 'flag::odd'];

let node: Sandbox;

t.before(async () => {
  await netnsWithEth1(ns, '198.18.9.2/24');
  node = await Sandbox.start({
    name: `st-${process.pid}`,
    hostname: 'master1',
    netns: ns,
    etc: {
      'ha.d/haresources': `# test groups\nmaster1 ${GROUP_A.join(' ')}\nmaster2 ${GROUP_B.join(' ')}\n`,
      'init.d/flag': { content: flagScript, mode: 0o755 },
      'ha.d/ha.cf': 'logfile /var/log/ha-log\nkeepalive 500ms\ndeadtime 3\nwarntime 2\ninitdead 6\nbcast eth1\nauto_failback on\nnode master1\nnode master2\ncrm no\n',
      'ha.d/authkeys': { content: 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n', mode: 0o600 },
    },
  });
});

t.teardown(async () => {
  await node?.destroy();
  await netnsDelete(ns);
});

interface Row { resource: string; state: string; detail: string; ms: number }
interface Group { node: string; line: number; key: string; verdict: string; resources: Row[] }

async function status(args: string[] = []): Promise<{ exitCode: number; ok: boolean; groups: Group[]; stderr: string }> {
  const r = await node.exec('/etc/ha.d/resource.d/ha-agent', ['status', '--json', ...args]);
  return { exitCode: r.exitCode, stderr: r.stderr, ...JSON.parse(r.stdout || '{"ok":false,"groups":[]}') };
}

/** ResourceManager statgroup KEY; it writes its answer to HA_DEBUGLOG, here a file of its own. */
async function statgroup(key: string): Promise<string> {
  const out = '/run/statgroup.out';
  await node.exec('/bin/rm', ['-f', out]);
  await node.resourceManager(['statgroup', key], { HA_DEBUGLOG: out });
  const r = await node.exec('/bin/cat', [out]);
  return r.stdout.trim().split('\n').pop()!;
}

t.test('released: NONE, as statgroup says', async (t) => {
  const s = await status();
  t.equal(s.groups.length, 1, 'only this node\'s group (master1)');
  const [g] = s.groups;
  t.match(g, { node: 'master1', line: 2, key: GROUP_A[0], verdict: 'NONE' });
  t.same(g!.resources.map((r) => [r.resource, r.state]), [[GROUP_A[0], 'released'], [GROUP_A[1], 'released']]);
  t.match(g!.resources[0]!.detail, /^stopped/);
  t.equal(g!.resources[1]!.detail, 'flag a is not running');
  t.equal(await statgroup(GROUP_A[0]!), 'NONE');
  t.equal(s.exitCode, 0);
});

t.test('held after ResourceManager takegroup: ALL, as statgroup says', async (t) => {
  await node.resourceManager(['takegroup', GROUP_A[0]!]);
  const s = await status();
  t.match(s.groups[0], { verdict: 'ALL' });
  t.same(s.groups[0]!.resources.map((r) => r.state), ['held', 'held']);
  t.match(s.groups[0]!.resources[0]!.detail, new RegExp(`^running \\(${VIP.replace(/\./g, '\\.')} on eth1:0\\)`));
  t.ok(s.groups[0]!.resources.every((r) => r.ms >= 0), 'milliseconds per call');
  t.equal(await statgroup(GROUP_A[0]!), 'ALL');
  t.equal(s.exitCode, 0);
});

t.test('half held (the VIP removed by hand): SOME, as statgroup says; exit 1', async (t) => {
  await ip(['addr', 'del', `${VIP}/24`, 'dev', 'eth1'], ns);
  const s = await status();
  t.match(s.groups[0], { verdict: 'SOME' });
  t.same(s.groups[0]!.resources.map((r) => r.state), ['released', 'held']);
  t.equal(await statgroup(GROUP_A[0]!), 'SOME');
  t.equal(s.exitCode, 1);
  t.equal(s.ok, false);
});

t.test('--all: the other node\'s group too; an unreadable answer is unknown and counts as not held', async (t) => {
  await node.resourceManager(['takegroup', GROUP_B[0]!]);
  const s = await status(['--all']);
  t.equal(s.groups.length, 2);
  const b = s.groups[1]!;
  t.same(b.resources.map((r) => [r.resource, r.state]), [[GROUP_B[0], 'held'], [GROUP_B[1], 'held'], [GROUP_B[2], 'unknown']]);
  t.equal(b.resources[2]!.detail, 'maybe');
  t.equal(b.verdict, 'SOME');
  t.equal(await statgroup(GROUP_B[0]!), 'SOME');
  await node.resourceManager(['givegroup', GROUP_B[0]!]);
  await node.resourceManager(['givegroup', GROUP_A[0]!]);
  const after = await status(['--all']);
  t.same(after.groups.map((g) => g.verdict), ['NONE', 'NONE']);
  t.equal(await statgroup(GROUP_A[0]!), 'NONE');
  t.equal(await statgroup(GROUP_B[0]!), 'NONE');
});

t.test('the text form: one row per resource, the verdict on the group line', async (t) => {
  await node.resourceManager(['takegroup', GROUP_A[0]!]);
  const r = await node.exec('/etc/ha.d/resource.d/ha-agent', ['status']);
  t.equal(r.exitCode, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines[0], `/etc/ha.d/haresources:2  node master1  group ${GROUP_A[0]}`);
  t.match(lines[1], new RegExp(`^  held +IPaddr::198\\.18\\.9\\.1/24/eth1 +\\d+ ms  running \\(198\\.18\\.9\\.1 on eth1:0\\)$`));
  t.match(lines[2], /^ {2}held +flag::a +\d+ ms {2}flag a is running$/);
  t.equal(lines[3], '  ALL (2 of 2 held)');
  t.equal(lines.length, 4);
  await node.resourceManager(['givegroup', GROUP_A[0]!]);
  const none = await node.exec('/etc/ha.d/resource.d/ha-agent', ['status', '--node', 'nosuch']);
  t.equal(none.exitCode, 1);
  t.match(none.stderr, /has no group for node nosuch \(nodes there: master1, master2; --all shows every group\)/);
});

t.test('check on the node itself (root /): ha.cf, authkeys and haresources clean, our agents\' validate-all run in-process', async (t) => {
  const r = await node.exec('/etc/ha.d/resource.d/ha-agent', ['check', '--json']);
  const report = JSON.parse(r.stdout) as { ok: boolean; findings: { file: string; code: string }[] };
  // The node's boot files are the host's /etc seen through the sandbox's overlay: not this test's to judge.
  // This one-NIC node has one heartbeat link and runs no watch: the two warnings test/cli/check.test.ts covers (HA116, HA406).
  const expected = ['HA116', 'HA406', 'HA407'];
  t.same(report.findings.filter((f) => f.file.startsWith('/etc/ha.d/') && !expected.includes(f.code)), [], r.stdout);
  t.same(report.findings.filter((f) => expected.includes(f.code)).map((f) => f.code).sort(), expected, 'and says so (one link, no watch, the stock shellfuncs\' whole seconds)');
});
