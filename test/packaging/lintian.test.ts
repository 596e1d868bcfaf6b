import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../rig/agents.ts';
import { NEXT_VERSION, VERSION, buildPackages } from './packages.ts';

// lintian's verdict on the .deb: no error, no warning; what is left is
// overridden in packaging/debian/lintian-overrides, each with its reason.

const work = mkdtempSync(join(tmpdir(), `lintian-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('lintian: no error, no warning, every override with its reason', async (t) => {
  await buildPackages(work, VERSION);
  const deb = join(work, `ha-resource-agents_${VERSION}_amd64.deb`);
  const result = await execa('lintian', ['--fail-on', 'error,warning', '--tag-display-limit', '0', '--display-info', deb], { reject: false, timeout: 300_000 });
  const tags = result.stdout.split('\n').filter((line) => /^[EW]: /.test(line));
  t.same(tags, [], 'no error or warning');
  t.equal(result.exitCode, 0, result.stderr);
  t.notMatch(result.stdout, /unused-override|mismatched-override/, 'every override is still needed and matches');
  const file = readFileSync(join(ROOT, 'packaging/debian/lintian-overrides'), 'utf8').split('\n');
  const overrides = file.filter((line) => line.startsWith('ha-resource-agents: '));
  t.ok(overrides.length > 0, 'there are overrides to check');
  for (const line of overrides) {
    const index = file.indexOf(line);
    const reason = [];
    for (let i = index - 1; i >= 0 && file[i]!.startsWith('#'); i--) reason.push(file[i]);
    const previous = file[index - 1] ?? '';
    t.ok(reason.length > 0 || previous.startsWith('ha-resource-agents: '), `${line}: a reason above it (or shares the one above)`);
  }
});

const field = (text: string, name: string) => text.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1];

t.test('Maintainer: the changelog\'s team identity by default, one value everywhere', async (t) => {
  const out = join(work, 'default');
  await buildPackages(out, VERSION, 'deb rpm');
  const changelogMaintainer = (await execa('dpkg-parsechangelog', ['-l', join(ROOT, 'packaging/debian/changelog'), '-S', 'Maintainer'])).stdout;
  t.match(changelogMaintainer, /^[^<>]+ <[^@<>\s]+@[^@<>\s]+>$/, 'Name <email> (policy 5.6.2)');
  t.notMatch(changelogMaintainer, /noreply|alioth/, 'not a borrowed or dead address');
  const control = (await execa('dpkg-deb', ['-f', join(out, `ha-resource-agents_${VERSION}_amd64.deb`)])).stdout;
  t.equal(field(control, 'Maintainer'), changelogMaintainer);
  const rpm = readdirSync(out).find((f) => f.endsWith('.rpm'))!;
  const packager = (await execa('rpm', ['--dbpath', join(work, 'rpmdb'), '-qp', '--qf', '%{PACKAGER}', join(out, rpm)])).stdout;
  t.equal(packager, changelogMaintainer, 'the rpm Packager is the same');
});

t.test('Maintainer: whoever ships their own build names themselves with DEBFULLNAME and DEBEMAIL', async (t) => {
  const out = join(work, 'site');
  const site = { DEBFULLNAME: 'Example Site Ops', DEBEMAIL: 'ha-ops@site.example' };
  await buildPackages(out, NEXT_VERSION, 'deb rpm', { extraEnv: site });
  const deb = join(out, `ha-resource-agents_${NEXT_VERSION}_amd64.deb`);
  t.equal(field((await execa('dpkg-deb', ['-f', deb])).stdout, 'Maintainer'), 'Example Site Ops <ha-ops@site.example>');
  const unpacked = join(work, 'site-unpacked');
  await execa('dpkg-deb', ['-x', deb, unpacked]);
  const changelog = (await execa('gzip', ['-dc', join(unpacked, 'usr/share/doc/ha-resource-agents/changelog.gz')])).stdout;
  t.match(changelog.split('\n').find((line) => line.startsWith(' -- ')), /^ -- Example Site Ops <ha-ops@site\.example>  /, 'the local build\'s changelog entry is theirs');
  const rpm = readdirSync(out).find((f) => f.endsWith('.rpm'))!;
  t.equal((await execa('rpm', ['--dbpath', join(work, 'rpmdb'), '-qp', '--qf', '%{PACKAGER}', join(out, rpm)])).stdout, 'Example Site Ops <ha-ops@site.example>');
});

t.test('Maintainer: an identity that is not "Name <email>" is refused in one line, nothing built', async (t) => {
  for (const [name, email, reason] of [['Ops', 'not-an-address', /not of the form/], ['A & B', 'ops@site.example', /control character, \|, & or/]] as const) {
    const out = join(work, `bad-${reason.source.length}`);
    const error = await buildPackages(out, NEXT_VERSION, 'deb', { extraEnv: { DEBFULLNAME: name, DEBEMAIL: email } }).then(() => undefined, (e: { exitCode: number; stderr: string }) => e);
    t.equal(error?.exitCode, 2, `${name} <${email}>: exit 2`);
    t.match(error?.stderr.trim().split('\n'), [reason], 'one line naming the problem');
    t.same(readdirSync(out), [], 'no package');
  }
});
