import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ThrowawayRoot } from './throwaway-root.ts';
import { NEXT_VERSION, VERSION, buildPackages, debianPackageFile } from './packages.ts';

// The .deb in a throwaway root (overlay of / in private namespaces, see
// throwaway-root.ts) where heartbeat, drbd-utils and resource-agents are
// installed as on this machine: install, the stock ResourceManager running
// our agents, reinstall, upgrade, remove (stock scripts back byte for byte),
// purge; and a node where heartbeat comes after us. The machine's own dpkg
// database is never touched (checked at the end).

const TAKEN = ['IPaddr', 'Filesystem', 'drbddisk'];
const DIR = '/etc/ha.d/resource.d';
const OURS = '/usr/lib/ha-resource-agents/ha-agent';
const DEB1 = `/pkgs/v1/ha-resource-agents_${VERSION}_amd64.deb`;
const DEB2 = `/pkgs/v2/ha-resource-agents_${NEXT_VERSION}_amd64.deb`;
const VIP = '198.18.77.1';

const work = mkdtempSync(join(tmpdir(), `deb-test-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const hostDiversions = (await execa('dpkg-divert', ['--list'])).stdout;

await Promise.all([buildPackages(join(work, 'v1'), VERSION), buildPackages(join(work, 'v2'), NEXT_VERSION)]);
const heartbeatDeb = await debianPackageFile('heartbeat', join(work, 'downloads'));



async function diversionsOf(root: ThrowawayRoot): Promise<string[]> {
  const list = await root.exec('dpkg-divert', ['--list']);
  return list.stdout.split('\n').filter((line) => line.includes('ha-resource-agents')).sort();
}

const expectedDiversions = TAKEN.map((name) => `diversion of ${DIR}/${name} to ${DIR}/${name}.distrib by ha-resource-agents`).sort();

/** Exactly one of each name (and its kept stock copy), nothing left by dpkg or a second diversion. */
async function checkLayout(t: Test, root: ThrowawayRoot, stock: Record<string, string>) {
  t.same(await diversionsOf(root), expectedDiversions, 'three diversions, ours');
  for (const name of [...TAKEN, 'mysqld']) {
    t.equal(await root.readlink(`${DIR}/${name}`), OURS, `${name} is our executable`);
  }
  for (const name of TAKEN) t.equal(await root.sha256(`${DIR}/${name}.distrib`), stock[name], `${name}.distrib is the stock script`);
  const listing = (await root.exec('ls', ['-A', DIR])).stdout.split('\n');
  for (const name of [...TAKEN, 'mysqld']) t.equal(listing.filter((f) => f === name).length, 1, `one ${name}`);
  t.same(listing.filter((f) => /dpkg-|\.distrib\.|ucf|\.stock$/.test(f)), [], 'no dpkg leftovers, no second copies');
}

t.test('heartbeat, drbd-utils and resource-agents first: install, run, reinstall, upgrade, remove, purge', async (t) => {
  const root = await ThrowawayRoot.start({ name: `deb-${process.pid}`, binds: { [work]: '/pkgs', [join(heartbeatDeb, '..')]: '/debs' } });
  t.teardown(() => root.destroy());
  const versions = await root.must(t, "dpkg-query -W -f='${Package} ${Status}\\n' heartbeat drbd-utils resource-agents");
  for (const name of ['heartbeat', 'drbd-utils', 'resource-agents']) t.match(versions, new RegExp(`^${name} install ok installed$`, 'm'), `${name} installed in the root`);
  const stock: Record<string, string> = {};
  for (const name of TAKEN) stock[name] = await root.sha256(`${DIR}/${name}`);
  t.equal(Object.values(stock).filter((s) => /^[0-9a-f]{64}$/.test(s)).length, 3, 'the stock scripts are there');

  await root.must(t, `dpkg -i ${DEB1}`);
  await checkLayout(t, root, stock);
  t.equal((await root.exec('readlink', ['-f', '/usr/sbin/ha-agent'])).stdout.trim(), OURS, 'ha-agent on the PATH');
  t.match(await root.must(t, 'cat /lib/systemd/system/ha-agent-watch.service'), /^ExecStart=\/usr\/sbin\/ha-agent watch$/m, 'the watch unit is shipped');
  t.equal((await root.sh('ls /etc/systemd/system/*.wants/ha-agent-watch.service 2>/dev/null')).stdout, '', 'and not enabled');

  await t.test('man pages are installed compressed and man finds them', async (t) => {
    const where = await root.must(t, 'man -w ocf_hara_IPaddr; man -w 8 ha-agent');
    t.match(where, /\/usr\/share\/man\/man7\/ocf_hara_IPaddr\.7\.gz\n\/usr\/share\/man\/man8\/ha-agent\.8\.gz/);
    const page = await root.must(t, 'MANWIDTH=120 man ocf_hara_IPaddr | col -b');
    t.match(page, /ocf_hara_IPaddr - Manages a virtual IPv4 or IPv6 address/);
    t.match(page, /\/etc\/ha\.d\/resource\.d\/IPaddr/);
    t.match(page, /cidr_netmask \(string\)/);
  });

  await t.test('OCF meta-data of ocf:hara:IPaddr validates against the OCF DTD', async (t) => {
    await root.must(t, '/usr/lib/ocf/resource.d/hara/IPaddr meta-data >/tmp/md.xml && xmllint --noout --dtdvalid /usr/share/resource-agents/ra-api-1.dtd /tmp/md.xml');
  });

  await t.test('stock ResourceManager runs our agents by their heartbeat names', async (t) => {
    await root.must(t, [
      'for p in /sbin/reboot /sbin/init /usr/bin/pkill /usr/bin/killall; do grep -q "throwaway-root stub" "$p" || { echo "$p is not a stub"; exit 1; }; done',
      'ip link add eth1 type veth peer name eth1p && ip link set eth1 up && ip link set eth1p up && ip addr add 198.18.77.2/24 dev eth1',
      `echo "node1 IPaddr::${VIP}/24/eth1" >/etc/ha.d/haresources`,
    ].join('\n'));
    const env = 'HA_LOGFILE=/var/log/ha-log HA_DEBUGLOG=/var/log/ha-debug HA_CURHOST=node1';
    const rm = '/usr/share/heartbeat/ResourceManager';
    t.equal((await root.sh(`${env} ${rm} status IPaddr::${VIP}/24/eth1 </dev/null`)).exitCode, 3, 'not held before');
    await root.must(t, `${env} ${rm} takegroup IPaddr::${VIP}/24/eth1 </dev/null`);
    t.match(await root.must(t, 'ip -4 addr show dev eth1'), new RegExp(`inet ${VIP}/24 .* eth1:0`), 'our IPaddr added the address with its alias label');
    t.equal((await root.sh(`${env} ${rm} status IPaddr::${VIP}/24/eth1 </dev/null`)).exitCode, 0, 'held after takegroup');
    const direct = await root.exec(`${DIR}/IPaddr`, [`${VIP}/24/eth1`, 'status']);
    t.match(direct.stdout, new RegExp(`^running \\(${VIP.replace(/\./g, '\\.')} on eth1:0\\)`), 'the heartbeat name is our agent (its status words)');
    await root.must(t, `${env} ${rm} givegroup IPaddr::${VIP}/24/eth1 </dev/null`);
    t.notMatch(await root.must(t, 'ip -4 addr show dev eth1'), new RegExp(VIP), 'released after givegroup');
    t.match(await root.must(t, 'cat /var/log/ha-log'), /IPaddr.*adding 198\.18\.77\.1\/24 to eth1:0/, 'our agent logged through HA_LOGFILE');
    const fs = await root.sh(`${env} ${rm} status Filesystem::/dev/hara-none::/mnt/hara-none::ext4 </dev/null; echo "rc=$?"; ${DIR}/Filesystem /dev/hara-none /mnt/hara-none ext4 status`);
    t.match(fs.stdout, /^rc=3\nstopped \(/m, 'Filesystem by its heartbeat name: ResourceManager reads "not held", our words');
    t.equal((await root.sh('cat /run/stub-calls.log 2>/dev/null')).stdout, '', 'no reboot, pkill or killall was called');
  });

  await t.test('reinstalling keeps the diversions and one copy of each name', async (t) => {
    await root.must(t, `dpkg -i ${DEB1}`);
    await checkLayout(t, root, stock);
  });

  await t.test('the maintainer scripts are idempotent: preinst run again changes nothing', async (t) => {
    await root.must(t, '/var/lib/dpkg/info/ha-resource-agents.preinst install && /var/lib/dpkg/info/ha-resource-agents.preinst upgrade 0.1.0');
    await checkLayout(t, root, stock);
  });

  await t.test('upgrading to a higher version keeps them too', async (t) => {
    await root.must(t, `dpkg -i ${DEB2}`);
    t.equal((await root.exec('dpkg-query', ['-W', '-f=${Version}', 'ha-resource-agents'])).stdout, NEXT_VERSION);
    await checkLayout(t, root, stock);
  });

  await t.test('heartbeat reinstalled while we hold their names: still ours, theirs kept aside', async (t) => {
    const file = `/debs/${heartbeatDeb.split('/').at(-1)}`;
    await root.must(t, `dpkg -i ${file} </dev/null`);
    // The stock scripts are now the ones in this .deb (the same version as installed, unless apt has a newer one).
    for (const name of ['IPaddr', 'Filesystem']) stock[name] = (await root.must(t, `dpkg-deb --fsys-tarfile ${file} | tar -xO .${DIR}/${name} | sha256sum`)).split(' ')[0]!;
    await checkLayout(t, root, stock);
    t.equal((await root.exec('dpkg', ['--verify', 'heartbeat'])).stdout, '', 'dpkg --verify heartbeat: its files (diverted) as shipped');
  });

  await t.test('dpkg -r puts the stock scripts back byte for byte', async (t) => {
    // A lock directory from a real call, for purge to clean up.
    await root.exec(`${DIR}/IPaddr`, [`${VIP}/24/eth1`, 'status']);
    const locks = await root.sh('ls /run/resource-agents/ha-resource-agents/');
    t.match(locks.stdout, /^IPaddr\..*\.lock$/m, 'the agent left its lock directory');
    await root.must(t, 'dpkg -r ha-resource-agents');
    t.same(await diversionsOf(root), [], 'no diversions left');
    for (const name of TAKEN) {
      t.equal(await root.sha256(`${DIR}/${name}`), stock[name], `${name} is the stock script again`);
      t.equal((await root.exec('test', ['-L', `${DIR}/${name}`])).exitCode, 1, `${name} is a file, not our link`);
      t.equal((await root.exec('test', ['-e', `${DIR}/${name}.distrib`])).exitCode, 1, `no ${name}.distrib`);
    }
    t.equal((await root.exec('test', ['-e', `${DIR}/mysqld`])).exitCode, 1, 'our mysqld is gone');
    await root.must(t, '/var/lib/dpkg/info/ha-resource-agents.postrm remove');
    for (const name of TAKEN) t.equal(await root.sha256(`${DIR}/${name}`), stock[name], `postrm remove run again: ${name} still the stock script`);
    t.equal((await root.exec('dpkg', ['--verify', 'heartbeat', 'drbd-utils'])).stdout, '', 'dpkg --verify: heartbeat and drbd-utils files as shipped');
  });

  await t.test('dpkg --purge leaves nothing of ours', async (t) => {
    await root.must(t, 'dpkg --purge ha-resource-agents');
    t.not((await root.exec('dpkg-query', ['-W', 'ha-resource-agents'])).exitCode, 0, 'dpkg knows no ha-resource-agents');
    const left = await root.sh(
      'ls -d /usr/lib/ha-resource-agents /usr/sbin/ha-agent /usr/lib/ocf/resource.d/hara /usr/share/doc/ha-resource-agents ' +
        '/usr/share/man/man7/ocf_hara_* /usr/share/man/man8/ha-agent.8.gz /usr/share/lintian/overrides/ha-resource-agents ' +
        '/var/lib/dpkg/info/ha-resource-agents.* /run/resource-agents/ha-resource-agents /lib/systemd/system/ha-agent-watch.service 2>/dev/null',
    );
    t.equal(left.stdout, '', 'no file, link, directory, dpkg record or lock directory of ours');
  });
});

t.test('on a node without heartbeat: install us, then heartbeat; heartbeat still runs our agents', async (t) => {
  const root = await ThrowawayRoot.start({ name: `deb-late-${process.pid}`, binds: { [work]: '/pkgs', [join(heartbeatDeb, '..')]: '/debs' } });
  t.teardown(() => root.destroy());
  const heartbeatFile = `/debs/${heartbeatDeb.split('/').at(-1)}`;
  // What heartbeat will unpack, from the .deb itself.
  const shipped: Record<string, string> = {};
  for (const name of ['IPaddr', 'Filesystem']) {
    shipped[name] = (await root.must(t, `dpkg-deb --fsys-tarfile ${heartbeatFile} | tar -xO .${DIR}/${name} | sha256sum`)).split(' ')[0]!;
  }
  await root.must(t, 'dpkg --purge --force-depends heartbeat >/dev/null');
  t.equal((await root.exec('test', ['-e', `${DIR}/IPaddr`])).exitCode, 1, 'no IPaddr before us');

  await root.must(t, `dpkg -i ${DEB1}`);
  t.same(await diversionsOf(root), expectedDiversions, 'diversions in place before heartbeat exists');
  t.equal(await root.readlink(`${DIR}/IPaddr`), OURS);

  await root.must(t, `dpkg -i ${heartbeatFile}`);
  for (const name of ['IPaddr', 'Filesystem']) {
    t.equal(await root.readlink(`${DIR}/${name}`), OURS, `${name} is still ours after heartbeat arrived`);
    t.equal(await root.sha256(`${DIR}/${name}.distrib`), shipped[name], `heartbeat's ${name} went to ${name}.distrib`);
  }
  const status = await root.sh(`HA_CURHOST=node1 /usr/share/heartbeat/ResourceManager status IPaddr::${VIP}/32/lo </dev/null; echo "rc=$?"; ${DIR}/IPaddr ${VIP}/32/lo status`);
  t.match(status.stdout, /rc=3\nstopped\b/, 'ResourceManager asks our IPaddr, which answers in its own words');

  await root.must(t, 'dpkg -r ha-resource-agents');
  for (const name of ['IPaddr', 'Filesystem']) t.equal(await root.sha256(`${DIR}/${name}`), shipped[name], `${name} is heartbeat's again`);
  t.equal((await root.exec('dpkg', ['--verify', 'heartbeat'])).stdout, '', 'heartbeat verifies clean');
});

t.test("the machine's own dpkg database and diversions were never touched", async (t) => {
  t.not((await execa('dpkg-query', ['-W', 'ha-resource-agents'], { reject: false })).exitCode, 0, 'ha-resource-agents is not installed here');
  t.equal((await execa('dpkg-divert', ['--list'])).stdout, hostDiversions, 'diversions as before');
});
