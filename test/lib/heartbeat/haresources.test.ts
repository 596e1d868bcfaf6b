import t from 'tap';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { groupForKey, looksLikeIp, normalizedLine, parseHaresources, resolveResource } from '../../../lib/heartbeat/haresources.ts';

// The parser is checked against the installed ResourceManager itself: its
// ipres() sed/awk pipeline and its canonname/resource2script/resource2arg
// functions, run by /bin/sh on the same fixtures.

const RM = '/usr/share/heartbeat/ResourceManager';
const fixturePath = (name: string) => new URL(`../../fixtures/heartbeat/${name}`, import.meta.url).pathname;
const fixture = (name: string) => readFileSync(fixturePath(name), 'utf8');
const rmSource = readFileSync(RM, 'utf8');

/** ResourceManager's ipres() pipeline, the sed and awk programs copied out of the installed script. */
async function ipres(file: string): Promise<string[]> {
  const sedArgs = [...rmSource.matchAll(/-e\s+('[^']*'|:a)/g)].map((m) => m[1]!.replace(/^'|'$/g, '')).flatMap((e) => ['-e', e]);
  const awk = /awk '([^']*)'/.exec(rmSource)![1]!;
  const sed = await execa('sed', [...sedArgs, file]);
  const out = await execa('awk', [awk], { input: sed.stdout });
  return out.stdout.split('\n').filter(Boolean);
}

/** The installed ResourceManager's own functions, sourced into sh: script and args of a resource as written. */
async function rmResolve(resources: readonly string[]): Promise<{ script: string; args: string[] }[]> {
  const fn = (name: string) => new RegExp(`^${name}\\(\\) \\{[\\s\\S]*?^\\}`, 'm').exec(rmSource)![0];
  const script = [fn('isip'), fn('canonname'), fn('resource2script'), fn('resource2arg'),
    'for r in "$@"; do s=`resource2script $r`; c=`canonname $s`; s=`resource2script $c`; printf "%s|%s\\n" "$s" "`resource2arg $r`"; done'].join('\n');
  const { stdout } = await execa('/bin/sh', ['-c', script, 'sh', ...resources]);
  return stdout.split('\n').map((line) => {
    const [s, a] = line.split('|') as [string, string];
    return { script: s, args: a.split(' ').filter(Boolean) };
  });
}

for (const name of ['tutorial-haresources', 'continued-haresources', 'quirks-haresources']) {
  t.test(`${name}: the same lines as ResourceManager's ipres()`, async (t) => {
    const parsed = parseHaresources(fixture(name));
    const expected = await ipres(fixturePath(name));
    t.same(parsed.groups.map(normalizedLine), expected);
    const resources = parsed.groups.flatMap((g) => g.resources);
    const real = await rmResolve(resources.map((r) => r.text));
    t.same(resources.map((r) => ({ script: r.script, args: r.args })), real, 'scripts and arguments as ResourceManager resolves them');
  });
}

t.test('the tutorial group with line numbers and the agents\' arguments', async (t) => {
  const { groups, problems } = parseHaresources(fixture('tutorial-haresources'));
  t.same(problems, []);
  t.equal(groups.length, 1);
  t.match(groups[0], { node: 'master1', line: 2, endLine: 2 });
  t.same(groups[0]!.resources.map((r) => [r.script, r.args, r.line]), [
    ['IPaddr', ['198.18.4.1/16/eth1'], 2],
    ['drbddisk', ['data'], 2],
    ['Filesystem', ['/dev/drbd1', '/data', 'ext3'], 2],
    ['mysqld', [], 2],
  ]);
});

t.test('continued lines: each resource keeps the line it is written on; the node name is lower-cased', async (t) => {
  const { groups, problems } = parseHaresources(fixture('continued-haresources'));
  t.same(groups.map((g) => [g.node, g.nodeAsWritten, g.line, g.endLine]), [['master1', 'master1', 2, 4], ['master2', 'Master2', 5, 5]]);
  t.same(groups[0]!.resources.map((r) => `${r.line}:${r.script}`), ['2:IPaddr', '3:drbddisk', '4:Filesystem', '4:mysqld', '4:#', '4:the', '4:database']);
  t.same(problems.map((p) => [p.code, p.line]), [['comment-in-continuation', 4]]);
  // IPv6: ResourceManager splits at every ::, the agent rejoins (lib/ip/v1-spec.ts)
  t.same(groups[1]!.resources[1], { text: 'IPaddr::fd00::10/64/eth1', script: 'IPaddr', args: ['fd00', '10/64/eth1'], line: 5 });
  t.same(groups[1]!.resources[0]!.args, ['198.18.5.1'], 'a bare IPv4 address is IPaddr::address');
});

t.test('quirks: a backslash on the last line stays; empty :: pieces vanish; IP::x', async (t) => {
  const { groups, problems } = parseHaresources(fixture('quirks-haresources'));
  t.same(problems.map((p) => [p.code, p.line]), [['comment-in-continuation', 2], ['continuation-at-end', 5]]);
  t.equal(groups[2]!.resources.at(-1)!.text, '\\');
  t.same(resolveResource('a::::b'), { script: 'a', args: ['b'] });
  t.same(resolveResource('10.0.0.1::x'), { script: 'IPaddr', args: ['x'] });
  t.same(resolveResource('Delay::5::0'), { script: 'Delay', args: ['5', '0'] });
  t.ok(looksLikeIp('1.2.3.4/24/eth0'));
  t.notOk(looksLikeIp('fd00::1'));
});

t.test('groupForKey: takegroup KEY as ResourceManager resolves it', async (t) => {
  const parsed = parseHaresources(fixture('quirks-haresources'));
  // KEY on the first line only
  t.same(groupForKey(parsed, 'IPaddr::198.18.4.1/16/eth1').resources.map((r) => r.text).slice(0, 2), ['IPaddr::198.18.4.1/16/eth1', 'drbddisk::data']);
  t.same(groupForKey(parsed, 'nosuch'), { resources: [], lines: [] });
  // "master1" is a word on two lines? No: it is the first word, never " master1 " — but a key present on two lines merges them.
  const twice = parseHaresources('n1 a b\nn2 c a\n');
  t.same(groupForKey(twice, 'a').resources.map((r) => r.text), ['a', 'b', 'n2', 'c', 'a'], 'the second line\'s node name becomes a resource, as with set/shift');
});
