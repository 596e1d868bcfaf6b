import t from 'tap';
import { execa } from 'execa';
import { join } from 'node:path';
import { agentPath } from '../rig/agents.ts';
import { DRBD_VERSIONS, DrbdDouble } from '../rig/drbd-double.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';

// "The device is still open" as the two-node e2e has it: the resource's
// device (here a real loop device standing in for /dev/drbd1) is mounted.
// The mount lives in a private mount namespace that only the command below
// sees; the double decides "held open" from that namespace's mountinfo, and
// drbddisk stop must name the mount point.

const scratch = makeScratchDir('drbddisk-held');
let image: LoopImage | undefined;
t.teardown(async () => {
  if (image) await destroyLoopImage(image);
  await removeScratchDir(scratch);
});

/** Runs `drbddisk data stop` with `device` mounted on `mnt` in a mount namespace of its own. */
async function stopWhileMounted(env: Record<string, string>, device: string, mnt: string) {
  const script = 'mkdir -p "$2" && mount "$1" "$2" && exec "$3" data stop';
  const r = await execa('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', device, mnt, agentPath('drbddisk')], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
}

t.test('stop while the device is mounted fails after the bound and names the mount', async (t) => {
  image = await createLoopImage(scratch, 'ext4', 'drbdheld');
  for (const version of DRBD_VERSIONS) {
    const drbd = DrbdDouble.create(version, `drbddisk-held-${process.pid}-`).defineResource('data', { device: image.device });
    t.teardown(() => drbd.cleanup());
    drbd.setRole('data', 'master1', 'Primary').setRole('data', 'master2', 'Secondary');
    const env = { ...drbd.env('master1'), HA_RSCTMP: drbd.stateDir, OCF_RESKEY_CRM_meta_timeout: '5000' };
    const mnt = join(scratch, `mnt ${version}`);
    const r = await stopWhileMounted(env, image.device, mnt);
    t.equal(r.exitCode, 1, `${version}: stop fails while mounted`);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('drbddisk: '));
    t.same(errors, [`drbddisk: cannot demote data: ${image.device} is still in use, mounted on ${mnt}; stop what uses it first`], `${version}: ${r.stderr}`);
    t.equal(drbd.role('data', 'master1'), 'Primary', `${version}: still Primary`);
    t.ok(drbd.calls().filter((c) => c.includes('secondary')).length >= 2, `${version}: retried before giving up`);
    // Outside that namespace nothing is mounted: the same stop succeeds.
    const ok = await execa(agentPath('drbddisk'), ['data', 'stop'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, extendEnv: false, reject: false });
    t.equal(ok.exitCode, 0, `${version}: ${ok.stderr}`);
    t.equal(drbd.role('data', 'master1'), 'Secondary');
  }
});
