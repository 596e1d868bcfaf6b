import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ThrowawayRoot } from './throwaway-root.ts';
import { NEXT_VERSION, VERSION, buildPackages } from './packages.ts';

// The .rpm for RHEL/CentOS users, with Debian's rpm in a throwaway root (its
// own rpm database there): file list and metadata, then the scriptlets:
// install keeps the stock scripts as NAME.distrib and links ours, upgrade
// keeps one copy, erase restores the stock scripts byte for byte; the
// triggers take a name over again when heartbeat installs after us, and
// clean up when heartbeat is erased (a stand-in heartbeat rpm built here).

const DIR = '/etc/ha.d/resource.d';
const OURS = '/usr/lib/ha-resource-agents/ha-agent';
const TAKEN = ['IPaddr', 'Filesystem', 'drbddisk'];
const work = mkdtempSync(join(tmpdir(), `rpm-test-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

await Promise.all([buildPackages(join(work, 'v1'), VERSION, 'rpm'), buildPackages(join(work, 'v2'), NEXT_VERSION, 'rpm')]);
const rpmIn = (dir: string) => readdirSync(join(work, dir)).find((f) => f.endsWith('.rpm'))!;
const RPM1 = `/pkgs/v1/${rpmIn('v1')}`;
const RPM2 = `/pkgs/v2/${rpmIn('v2')}`;

// A stand-in for the distribution's heartbeat package: it ships IPaddr and Filesystem.
const standIn = join(work, 'standin');
mkdirSync(join(standIn, 'SPECS'), { recursive: true });
writeFileSync(join(standIn, 'SPECS/heartbeat.spec'), `Name: heartbeat
Version: 3.0.6
Release: 1
Summary: test stand-in for heartbeat
License: GPL-2.0-or-later
BuildArch: noarch
%description
Ships two resource.d scripts, nothing else.
%install
mkdir -p %{buildroot}${DIR}
for name in IPaddr Filesystem; do printf '#!/bin/sh\\n# stand-in heartbeat %s\\n' "$name" >%{buildroot}${DIR}/$name; chmod 0755 %{buildroot}${DIR}/$name; done
%files
${DIR}/IPaddr
${DIR}/Filesystem
`);
await execa('rpmbuild', ['--quiet', '-bb', '--dbpath', join(standIn, 'rpmdb'), '--define', `_dbpath ${join(standIn, 'rpmdb')}`, '--define', `_topdir ${standIn}`, join(standIn, 'SPECS/heartbeat.spec')]);
const HEARTBEAT = `/pkgs/standin/RPMS/noarch/heartbeat-3.0.6-1.noarch.rpm`;

const RPM = 'rpm --root / --dbpath /var/lib/rpm';


let root: ThrowawayRoot;
t.before(async () => {
  root = await ThrowawayRoot.start({ name: `rpm-${process.pid}`, binds: { [work]: '/pkgs' } });
});
t.teardown(() => root?.destroy());

t.test('rpm -qpi / -qpl: the same files as the .deb, the platform minimums', async (t) => {
  const info = await root.must(t, `${RPM} -qpi ${RPM1}`);
  t.match(info, /^Name\s+: ha-resource-agents$/m);
  t.match(info, new RegExp(`^Version\\s+: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
  t.match(info, /^Architecture: x86_64$/m);
  t.match(info, /^License\s+: GPL-2\.0-or-later$/m);
  t.match(info, /glibc 2\.17 or later, on an x86-64-v2 CPU/);
  const files = (await root.must(t, `${RPM} -qpl ${RPM1}`)).trim().split('\n');
  for (const path of [OURS, '/usr/sbin/ha-agent', '/usr/share/man/man8/ha-agent.8.gz', '/usr/lib/systemd/system/ha-agent-watch.service', ...['IPaddr', 'drbddisk', 'Filesystem', 'mysqld'].flatMap((a) => [`/usr/lib/ocf/resource.d/hara/${a}`, `/usr/share/man/man7/ocf_hara_${a}.7.gz`])]) {
    t.ok(files.includes(path), `ships ${path}`);
  }
  t.same(files.filter((f) => f.startsWith('/etc/ha.d')), [], 'the heartbeat names are not files of the rpm (the scriptlets manage them)');
  t.match(await root.must(t, `${RPM} -qp --requires ${RPM1}`), /^glibc >= 2\.17$/m);
});

t.test('install, upgrade and erase with the stock scripts present', async (t) => {
  const stock: Record<string, string> = {};
  for (const name of TAKEN) stock[name] = await root.sha256(`${DIR}/${name}`);
  t.equal(Object.values(stock).filter((s) => /^[0-9a-f]{64}$/.test(s)).length, 3, 'the stock scripts are there');
  const check = async () => {
    for (const name of [...TAKEN, 'mysqld']) t.equal(await root.readlink(`${DIR}/${name}`), OURS, `${name} is ours`);
    for (const name of TAKEN) t.equal(await root.sha256(`${DIR}/${name}.distrib`), stock[name], `${name}.distrib is the stock script`);
    const listing = (await root.exec('ls', ['-A', DIR])).stdout.split('\n');
    t.same(listing.filter((f) => /\.distrib\.|\.rpm(orig|new|save)$/.test(f) || f === 'mysqld.distrib'), [], 'one copy of each, nothing else');
  };
  await root.must(t, `${RPM} -i --nodeps ${RPM1}`);
  await check();
  await root.must(t, `${RPM} -U --nodeps ${RPM2}`);
  t.equal((await root.must(t, `${RPM} -q --qf '%{VERSION}' ha-resource-agents`)), NEXT_VERSION.replace(/-/g, '_'), 'upgraded');
  await check();
  await root.exec(`${DIR}/IPaddr`, ['198.18.77.1/32/lo', 'status']);
  await root.must(t, 'ls /run/resource-agents/ha-resource-agents/ | grep -q "^IPaddr\\..*\\.lock$"');
  await root.must(t, `${RPM} -e ha-resource-agents`);
  for (const name of TAKEN) {
    t.equal(await root.sha256(`${DIR}/${name}`), stock[name], `${name} is the stock script again`);
    t.equal((await root.exec('test', ['-e', `${DIR}/${name}.distrib`])).exitCode, 1, `no ${name}.distrib`);
  }
  t.equal((await root.exec('test', ['-e', `${DIR}/mysqld`])).exitCode, 1, 'our mysqld link is gone');
  t.equal((await root.sh(`ls -d ${OURS} /usr/lib/ocf/resource.d/hara /run/resource-agents/ha-resource-agents 2>/dev/null`)).stdout, '', 'nothing of ours left');
});

t.test('heartbeat installed after us, then erased: the triggers keep our agents on the names', async (t) => {
  await root.must(t, `rm -f ${DIR}/IPaddr ${DIR}/Filesystem`);
  await root.must(t, `${RPM} -i --nodeps ${RPM1}`);
  t.equal(await root.readlink(`${DIR}/${'IPaddr'}`), OURS);
  t.equal((await root.exec('test', ['-e', `${DIR}/IPaddr.distrib`])).exitCode, 1, 'nothing to keep yet');

  await root.must(t, `${RPM} -i --nodeps ${HEARTBEAT}`);
  for (const name of ['IPaddr', 'Filesystem']) {
    t.equal(await root.readlink(`${DIR}/${name}`), OURS, `${name} is ours again after heartbeat wrote its script`);
    t.match(await root.must(t, `cat ${DIR}/${name}.distrib`), new RegExp(`stand-in heartbeat ${name}`), `heartbeat's ${name} kept as ${name}.distrib`);
  }

  const verify = await root.sh(`${RPM} -V --nodeps heartbeat`);
  t.match(verify.stdout, new RegExp(`^\\S+\\s+${DIR}/IPaddr$`, 'm'), 'rpm -V heartbeat: sees our link where its IPaddr was (README says so)');
  await root.must(t, `${RPM} -e heartbeat`);
  t.equal(await root.readlink(`${DIR}/${'IPaddr'}`), OURS, 'heartbeat erased: the name is still ours');
  t.equal((await root.exec('test', ['-e', `${DIR}/IPaddr.distrib`])).exitCode, 1, 'its kept copy went with it');

  await root.must(t, `${RPM} -i --nodeps ${HEARTBEAT}`);
  await root.must(t, `${RPM} -e ha-resource-agents`);
  t.match(await root.must(t, `cat ${DIR}/IPaddr`), /stand-in heartbeat IPaddr/, "erasing us gives heartbeat's script back");
  t.equal(await root.must(t, `${RPM} -V --nodeps heartbeat; echo "rc=$?"`), 'rc=0', 'rpm -V heartbeat: as shipped');
});
