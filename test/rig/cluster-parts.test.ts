import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { SharedDisk, setUpOrTearDown } from './cluster-parts.ts';

// The parts both cluster rigs build on, for real: the shared disk's image,
// loop device and DRBD double state, its teardown; a failed setup torn down.

const base = mkdtempSync(join(tmpdir(), `cluster-parts-${process.pid}-`));
const disks: SharedDisk[] = [];
t.teardown(async () => {
  for (const disk of disks) await disk.destroy().catch(() => {});
  rmSync(base, { recursive: true, force: true });
});

t.test('SharedDisk: an ext3 image on its own loop device, resource data Secondary on every node; destroy detaches and deletes', async (t) => {
  const disk = new SharedDisk(base);
  disks.push(disk);
  await disk.create(['master1', 'master2', 'master3'], '9');
  t.match(disk.loopDevice, /^\/dev\/loop\d+$/);
  t.equal((await execa('losetup', ['-n', '-O', 'BACK-FILE', disk.loopDevice])).stdout.trim(), disk.image, 'backed by our image');
  t.same((await execa('blkid', ['-p', '-s', 'TYPE', '-s', 'LABEL', '-o', 'value', disk.loopDevice])).stdout.split('\n').sort(), ['data', 'ext3']);
  const [major, minor] = readFileSync(`/sys/block/${disk.loopDevice.slice('/dev/'.length)}/dev`, 'utf8').trim().split(':').map(Number);
  t.same(disk.numbers, { major, minor }, 'the numbers the nodes get for /dev/drbd1');
  t.equal(readFileSync(`${disk.drbdState}/version`, 'utf8'), '9\n');
  t.equal(readFileSync(`${disk.drbdState}/res/data/nodes`, 'utf8'), 'master1 master2 master3\n');
  for (const node of ['master1', 'master2', 'master3']) t.equal(readFileSync(`${disk.drbdState}/res/data/role.${node}`, 'utf8'), 'Secondary\n');
  const device = disk.loopDevice;
  await disk.destroy();
  const still = await execa('losetup', ['-n', '-O', 'BACK-FILE', device], { reject: false });
  t.not(still.stdout.trim(), disk.image, 'the loop device no longer has our image');
  t.notOk(existsSync(disk.image), 'the image is gone');
  await disk.destroy();
  t.pass('a second destroy is harmless');
});

t.test('setUpOrTearDown: a failed setup is torn down and its own error rethrown, even when the teardown fails too', async (t) => {
  const calls: string[] = [];
  const rig = { name: 'rig' };
  t.equal(await setUpOrTearDown(rig, async () => { calls.push('setup'); }, async () => { calls.push('teardown'); }), rig, 'success: the rig, no teardown');
  t.same(calls, ['setup']);
  await t.rejects(setUpOrTearDown(rig, async () => { throw new Error('mkfs failed'); }, async () => { calls.push('teardown'); throw new Error('losetup -d failed'); }), { message: 'mkfs failed' });
  t.same(calls, ['setup', 'teardown'], 'torn down once');
});
