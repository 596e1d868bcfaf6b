import t from 'tap';
import { copyFileSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { VERSION, buildPackages } from './packages.ts';
import {
  compareVersions,
  debArchiveProblems,
  debControlProblems,
  parseControl,
  relations,
  rpmPayloadProblems,
  rpmRequiresProblems,
  scriptProblems,
  tarEntryTypes,
  tarTypeProblems,
} from './old-systems.ts';

// Issue 21, item 4: the packages as package.sh makes a release (its own
// compression), read with rpm -qp and dpkg-deb, against what CentOS 7's
// rpm 4.11 and Debian 9's dpkg 1.18 accept (test/packaging/old-systems.ts
// says where each rule comes from). The executable inside is a small
// stand-in: compressing the real one the release way takes minutes, and
// none of these headers depend on it. Each check is first shown to fail
// on a header that breaks its rule.

const work = mkdtempSync(join(tmpdir(), `old-systems-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const standIn = join(work, 'ha-agent');
copyFileSync('/bin/true', standIn);
await buildPackages(join(work, 'pkg'), VERSION, 'deb rpm', { shipped: true, binary: standIn });
const files = readdirSync(join(work, 'pkg'));
const RPM = join(work, 'pkg', files.find((f) => f.endsWith('.rpm'))!);
const DEB = join(work, 'pkg', files.find((f) => f.endsWith('.deb'))!);
const dbpath = join(work, 'rpmdb');

async function rpmQuery(...args: string[]): Promise<string> {
  return (await execa('rpm', ['--dbpath', dbpath, '-qp', ...args, RPM])).stdout;
}

t.test('the checks fail on headers that break their rules', async (t) => {
  t.equal(compareVersions('4.6.0-1', '4.10.0-1'), -1, 'rpm versions compare numerically');
  t.same(rpmRequiresProblems(['rpmlib(PayloadIsZstd) <= 5.4.18-1']), ['rpmlib(PayloadIsZstd) <= 5.4.18-1: rpm 4.11 has no rpmlib(PayloadIsZstd)']);
  t.same(rpmRequiresProblems(['rpmlib(RichDependencies) <= 4.12.0-1', 'rpmlib(LargeFiles) <= 4.12.0-1', 'rpmlib(CaretInVersions) <= 4.15.0-1']).length, 3, 'rich deps, large files, caret');
  t.same(rpmRequiresProblems(['rpmlib(FileDigests) <= 4.7.0-1']), ['rpmlib(FileDigests) <= 4.7.0-1: rpm 4.11 provides rpmlib(FileDigests) = 4.6.0-1 only']);
  t.same(rpmRequiresProblems(['(arping or iputils)']), ['rich (boolean) dependency (arping or iputils): rpm 4.13 or later']);
  t.same(rpmRequiresProblems(['rpmlib(PayloadIsXz) <= 5.2-1', 'iproute', '/usr/sbin/arping']), [], 'what rpm 4.11 has passes');
  const lead = new Uint8Array(96);
  lead.set([0xed, 0xab, 0xee, 0xdb, 3, 0]);
  t.same(rpmPayloadProblems({ compressor: 'xz', format: 'cpio', fileDigestAlgo: '8', lead }), []);
  t.match(rpmPayloadProblems({ compressor: 'zstd', format: 'cpio', fileDigestAlgo: '8', lead }), [/payload compressed with zstd/]);
  t.match(rpmPayloadProblems({ compressor: 'xz', format: 'cpio', fileDigestAlgo: '13', lead }), [/file digest algorithm 13/]);
  const v4 = new Uint8Array(lead);
  v4[4] = 4;
  t.match(rpmPayloadProblems({ compressor: 'xz', format: 'cpio', fileDigestAlgo: '8', lead: v4 }), [/rpm lead version 4\.0/]);
  t.match(scriptProblems('postinst', '/bin/bash', 'true\n'), [/runs under \/bin\/bash/]);
  t.match(scriptProblems('postinst', '/bin/sh', 'if [[ -e x ]]; then :; fi\n'), [/\[\[ \]\] is not POSIX sh/]);
  t.match(scriptProblems('postinst', '/bin/sh', 'systemctl daemon-reload\n'), [/systemctl without checking/]);
  t.same(scriptProblems('postinst', '/bin/sh', 'if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi\n'), [], 'guarded systemctl passes');
  t.match(scriptProblems('post', '/bin/sh', 'ln -s %{_libexecdir}/x y\n'), [/rpm macro left unexpanded/]);
  t.match(scriptProblems('preinst', '/bin/sh', 'dpkg-divert --add --no-rename /x\n'), [/--no-rename needs dpkg 1\.19\.1/]);
  t.same(scriptProblems('postinst', '/bin/sh', '# [[ in a comment is fine\n. /usr/share/debconf/confmodule\n'), []);
  t.match(debArchiveProblems(['debian-binary', 'control.tar.zst', 'data.tar.zst'], '2.0\n'), [/control member control\.tar\.zst/, /data member data\.tar\.zst/]);
  t.same(debArchiveProblems(['debian-binary', 'control.tar.xz', 'data.tar.xz'], '2.0\n'), []);
  t.match(tarTypeProblems('data.tar', ['0', '5', 'x']), [/tar entry type "x"/]);
  t.match(debControlProblems({ 'Pre-Depends': 'dpkg (>= 1.19.1)' }), [/Pre-Depends/]);
  t.match(debControlProblems({ Depends: 'libc6 (> 2.17)' }), [/relation >/]);
  t.same(debControlProblems({ Depends: 'libc6 (>= 2.17), arping | iputils-arping' }), []);
});

t.test('.rpm: rpmlib() features, payload, digests and lead that rpm 4.11 (CentOS 7) reads', async (t) => {
  const requires = (await rpmQuery('--requires')).split('\n');
  t.ok(requires.some((r) => r.startsWith('rpmlib(')), 'rpmbuild wrote rpmlib() requirements to check');
  t.same(rpmRequiresProblems(requires), [], requires.join('\n'));
  const [compressor, format, fileDigestAlgo] = (await rpmQuery('--qf', '%{PAYLOADCOMPRESSOR}\\n%{PAYLOADFORMAT}\\n%{FILEDIGESTALGO}\\n')).split('\n');
  const lead = new Uint8Array(96);
  const fd = openSync(RPM, 'r');
  readSync(fd, lead, 0, 96, 0);
  closeSync(fd);
  t.same(rpmPayloadProblems({ compressor: compressor!, format: format!, fileDigestAlgo: fileDigestAlgo!, lead }), [], `${compressor} ${format} digest ${fileDigestAlgo}`);
  // rpm 4.11 verifies a package by these two (lib/package.c); the SHA256 ones newer rpm adds are unknown to it.
  const verify = (await execa('rpm', ['--dbpath', dbpath, '-Kv', RPM])).stdout;
  t.match(verify, /Header SHA1 digest: OK/, 'header SHA1 digest, which rpm 4.11 checks');
  t.match(verify, /MD5 digest: OK/, 'header+payload MD5 digest, which rpm 4.11 checks');
});

t.test('.rpm: Requires name what CentOS 7 calls its packages, no rich dependency', async (t) => {
  const requires = (await rpmQuery('--requires')).split('\n').map((r) => r.trim());
  t.ok(requires.includes('iproute'), 'iproute (CentOS 7 name; iproute2 is Debian\'s)');
  t.ok(requires.includes('/usr/sbin/arping'), 'arping by path: iputils (CentOS 7) or Habets\' arping provides it');
  t.notOk(requires.some((r) => /^iproute2\b|^arping\b|^iputils-arping\b/.test(r)), 'no Debian package name');
  t.notOk(requires.some((r) => r.startsWith('(')), 'no rich dependency');
  t.equal(await rpmQuery('--recommends'), '', 'no weak dependency (rpm 4.12)');
});

t.test('.rpm: every scriptlet and trigger is POSIX /bin/sh, parses with dash, and needs no systemd', async (t) => {
  const scriptlets: [string, string, string][] = [];
  for (const tag of ['PREIN', 'POSTIN', 'PREUN', 'POSTUN', 'PRETRANS', 'POSTTRANS']) {
    const [prog, ...body] = (await rpmQuery('--qf', `%{${tag}PROG}\\n%{${tag}}`)).split('\n');
    if (prog === '(none)') continue;
    scriptlets.push([tag.toLowerCase(), prog!, body.join('\n')]);
  }
  const SEP = '@@ha-resource-agents@@';
  const progs = (await rpmQuery('--qf', '[%{TRIGGERSCRIPTPROG}\\n]')).split('\n').filter(Boolean);
  const triggers = (await rpmQuery('--qf', `[%{TRIGGERSCRIPTS}${SEP}]`)).split(SEP).slice(0, progs.length);
  triggers.forEach((body, i) => scriptlets.push([`trigger ${i}`, progs[i]!, body]));
  t.ok(scriptlets.some(([name]) => name === 'postin') && scriptlets.some(([name]) => name === 'postun'), 'post and postun found');
  t.ok(triggers.length >= 3, `${triggers.length} trigger scripts found`);
  for (const [name, prog, body] of scriptlets) {
    t.same(scriptProblems(name, prog, body), [], name);
    const dash = await execa('dash', ['-n'], { input: body, reject: false });
    t.equal(dash.exitCode, 0, `${name}: dash -n ${dash.stderr}`);
  }
});

t.test('.deb: format, compression and tar entries dpkg 1.18 (Debian 9) reads', async (t) => {
  const members = (await execa('ar', ['t', DEB])).stdout.split('\n');
  const debianBinary = (await execa('ar', ['p', DEB, 'debian-binary'], { stripFinalNewline: false })).stdout;
  t.same(debArchiveProblems(members, debianBinary), [], members.join(' '));
  for (const [member, tarOf] of [['control.tar', '--ctrl-tarfile'], ['data.tar', '--fsys-tarfile']] as const) {
    const tar = (await execa('dpkg-deb', [tarOf, DEB], { encoding: 'buffer' })).stdout;
    const types = tarEntryTypes(tar);
    t.ok(types.length > 3, `${member}: ${types.length} entries read`);
    t.same(tarTypeProblems(member, types), [], member);
  }
});

t.test('.deb: control fields and relations Debian 9 and Ubuntu 18.04 resolve', async (t) => {
  const fields = parseControl((await execa('dpkg-deb', ['-f', DEB])).stdout);
  t.same(debControlProblems(fields), []);
  const depends = relations(fields.Depends);
  t.same(depends.find((alts) => alts.includes('iproute2')), ['iproute2'], 'iproute2 (Debian/Ubuntu name)');
  t.same(depends.find((alts) => alts.includes('arping')), ['arping', 'iputils-arping'], "Habets' arping or iputils' (both in Debian 9 and Ubuntu 18.04)");
  t.notOk(depends.flat().includes('iproute'), 'no CentOS name');
});

t.test('.deb: maintainer scripts are POSIX /bin/sh and parse with dash', async (t) => {
  const dir = join(work, 'control');
  await execa('dpkg-deb', ['--control', DEB, dir]);
  const scripts = readdirSync(dir).filter((f) => ['preinst', 'postinst', 'prerm', 'postrm', 'config'].includes(f));
  t.ok(scripts.length >= 2, scripts.join(' '));
  for (const name of scripts) {
    const body = (await execa('cat', [join(dir, name)])).stdout;
    const interpreter = /^#!\s*(\S+)/.exec(body)?.[1] ?? '(none)';
    t.same(scriptProblems(name, interpreter, body), [], name);
    const dash = await execa('dash', ['-n', join(dir, name)], { reject: false });
    t.equal(dash.exitCode, 0, `${name}: dash -n ${dash.stderr}`);
  }
});
