import t from 'tap';
import { execa } from 'execa';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockPath } from '../../lib/system/lock.ts';
import { agentPath } from '../rig/agents.ts';
import { DrbdDouble } from '../rig/drbd-double.ts';
import { killPointMatrix, pidsWithArgs } from '../rig/faults.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, mountsUnder, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { createLan, type Lan } from '../rig/netns.ts';

// Issue 15, item 4: SIGKILL of the agent at >= 10 points during start and
// during stop (each logged step, and spread delays between), then what
// heartbeat does next: stop, then start. Each must succeed and leave the
// resource fully released, then fully held; the per-resource lock is free
// after every kill; nothing is orphaned (IPaddr's announcer, a mount in
// flight). mysqld has its own file (kill-points-mysqld.test.ts).

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const work = mkdtempSync(join(tmpdir(), `faults-kill-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('IPaddr (real ip, send_arp, arping in a namespace LAN)', async (t) => {
  const lan: Lan = await createLan('fkill', [{ name: 'a', addresses: ['198.18.0.1/24'] }]);
  t.teardown(() => lan.destroy());
  const ns = lan.nodes.a!.ns;
  const rsctmp = join(work, 'ipaddr');
  mkdirSync(rsctmp);
  const vip = '198.18.0.77';
  // Announcements every second for 5 s: an orphaned announcer would still be there when we look.
  const env = { PATH, HA_RSCTMP: rsctmp, OCF_RESKEY_arp_interval: '1000' };
  const addresses = async () => {
    const { stdout } = await execa('ip', ['-n', ns, '-j', '-4', 'addr', 'show', 'dev', 'eth1']);
    return (JSON.parse(stdout) as { addr_info: { local: string; label?: string }[] }[])[0]!.addr_info.filter((a) => a.local === vip);
  };
  const announcers = () => pidsWithArgs('/usr/libexec/heartbeat/send_arp', vip);
  await killPointMatrix(t, {
    argv: (action) => ['ip', 'netns', 'exec', ns, agentPath('IPaddr'), `${vip}/24/eth1`, action],
    env,
    lockFile: lockPath(env, 'IPaddr', vip),
    held: async () => {
      const held = await addresses();
      return held.length === 1 && held[0]!.label === 'eth1:0' ? [] : [`addresses ${JSON.stringify(held)}`];
    },
    released: async () => {
      const left: string[] = [];
      if ((await addresses()).length) left.push(`${vip} still on eth1`);
      if (announcers().length) left.push(`announcer pid ${announcers().join(', ')} still running`);
      return left;
    },
  }, join(work, 'ipaddr.debug'));
});

t.test('Filesystem (real ext4 loop image)', async (t) => {
  const scratch = makeScratchDir('faults-fs');
  let img: LoopImage | undefined;
  t.teardown(async () => {
    if (img) await destroyLoopImage(img);
    await removeScratchDir(scratch);
  });
  img = await createLoopImage(scratch, 'ext4', 'fkill');
  const device = img.device;
  const dir = join(scratch, 'data');
  const env = { PATH, HA_RSCTMP: join(work, 'fs') };
  mkdirSync(env.HA_RSCTMP);
  const exclusive = async () => (await execa('python3', ['-c', 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL))', device], { reject: false })).exitCode === 0;
  const mountsOfDevice = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' - ')[1]?.split(' ')[1] === device);
  await killPointMatrix(t, {
    argv: (action) => [agentPath('Filesystem'), device, dir, 'ext4', action],
    env,
    lockFile: lockPath(env, 'Filesystem', dir, dir),
    held: async () => {
      const on = mountsUnder(dir);
      return on.length === 1 && mountsOfDevice().length === 1 ? [] : [`mounts under ${dir}: ${on.join(', ')}; of ${device}: ${mountsOfDevice().length}`];
    },
    released: async () => {
      const left: string[] = [];
      if (mountsUnder(dir).length) left.push(`still mounted: ${mountsUnder(dir).join(', ')}`);
      if (!(await exclusive())) left.push(`${device} still in use`);
      if (pidsWithArgs(device).length) left.push(`processes still using ${device}: ${pidsWithArgs(device).join(', ')}`);
      return left;
    },
  }, join(work, 'fs.debug'));
});

t.test('drbddisk (drbdadm double, drbd 8.4)', async (t) => {
  const drbd = DrbdDouble.create('8.4', `faults-drbd-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Secondary');
  chmodSync(drbd.stateDir, 0o755);
  const env = { PATH, ...drbd.env('master1'), HA_RSCTMP: join(work, 'drbd') };
  mkdirSync(env.HA_RSCTMP);
  await killPointMatrix(t, {
    argv: (action) => [agentPath('drbddisk'), 'data', action],
    env,
    lockFile: lockPath(env, 'drbddisk', 'data'),
    held: async () => (drbd.role('data', 'master1') === 'Primary' ? [] : [`role ${drbd.role('data', 'master1')}`]),
    released: async () => (drbd.role('data', 'master1') === 'Secondary' ? [] : [`role ${drbd.role('data', 'master1')}`]),
  }, join(work, 'drbd.debug'));
});
