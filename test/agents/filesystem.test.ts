import t from 'tap';
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAgent, runOcf } from '../rig/agents.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, mountsUnder, removeScratchDir, waitUntilUnmountedEverywhere, type ImageFstype, type LoopImage } from '../rig/loop-image.ts';

// Filesystem start/stop/status on real loop-backed ext3, ext4 and xfs
// images, in heartbeat v1 and OCF form, with the device named every way
// mount(8) allows. Everything happens under a scratch dir of this file's own.

const scratch = makeScratchDir('fs-agent');
const images: LoopImage[] = [];
t.teardown(async () => {
  for (const image of images) await destroyLoopImage(image);
  await removeScratchDir(scratch);
});

async function image(fstype: ImageFstype, label: string): Promise<LoopImage> {
  const created = await createLoopImage(scratch, fstype, label);
  images.push(created);
  return created;
}

/** The device and fstype mountinfo shows on `dir` (decoded), or undefined. */
function mountedOn(dir: string): { source: string; fstype: string } | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .filter((f) => f[4]!.replace(/\\040/g, ' ') === dir)
    .at(-1);
  if (!line) return undefined;
  const sep = line.indexOf('-', 6);
  return { source: line[sep + 2]!, fstype: line[sep + 1]! };
}

const v1 = (args: string[]) => runAgent('Filesystem', args);

for (const fstype of ['ext3', 'ext4', 'xfs'] as const) {
  t.test(`${fstype}: v1 start/status/stop and the idempotency matrix`, async (t) => {
    const img = await image(fstype, `v1${fstype}`);
    const dir = join(scratch, `mnt ${fstype}`); // a space, escaped as \040 in mountinfo
    const args = [img.device, dir, fstype];

    let r = await v1([...args, 'status']);
    t.equal(r.exitCode, 3, 'status before start: LSB 3');
    t.match(r.stdout, /^stopped/);

    r = await v1([...args, 'stop']);
    t.equal(r.exitCode, 0, `stop when stopped succeeds: ${r.stderr}`);

    r = await v1([...args, 'start']);
    t.equal(r.exitCode, 0, `start: ${r.stderr}`);
    t.ok(existsSync(dir), 'the missing mount point was created');
    t.same(mountedOn(dir), { source: img.device, fstype });

    r = await v1([...args, 'status']);
    t.equal(r.exitCode, 0);
    t.equal(r.stdout, `running (${img.device} on ${dir})`);

    r = await v1([...args, 'start']);
    t.equal(r.exitCode, 0, 'start when started succeeds');
    t.equal(mountsUnder(dir).length, 1, 'and mounts nothing more');

    writeFileSync(join(dir, 'kept'), 'committed row\n');
    r = await v1([...args, 'stop']);
    t.equal(r.exitCode, 0, `stop: ${r.stderr}`);
    t.equal(mountedOn(dir), undefined);

    r = await v1([...args, 'stop']);
    t.equal(r.exitCode, 0, 'stop when stopped succeeds');
    r = await v1([...args, 'status']);
    t.equal(r.exitCode, 3);

    // Two-argument form: no fstype (mount detects it), trailing slash on the directory.
    r = await v1([img.device, `${dir}/`, 'start']);
    t.equal(r.exitCode, 0, `start without fstype: ${r.stderr}`);
    t.equal(readFileSync(join(dir, 'kept'), 'utf8'), 'committed row\n', 'data survived stop/start');
    r = await v1([img.device, `${dir}/`, 'stop']);
    t.equal(r.exitCode, 0);
    t.equal(mountedOn(dir), undefined);
  });

  t.test(`${fstype}: OCF start/monitor/stop with UUID=, LABEL=, -U and -L`, async (t) => {
    const img = await image(fstype, `ocf${fstype}`);
    const dir = join(scratch, `ocf-${fstype}`);
    const forms = [`UUID=${img.uuid}`, `LABEL=${img.label}`, `-U ${img.uuid}`, `-L${img.label}`];
    for (const device of forms) {
      const params = { device, directory: dir, fstype };
      let r = await runOcf('Filesystem', 'monitor', params);
      t.equal(r.exitCode, 7, `${device}: monitor when stopped → 7 (${r.stderr})`);
      r = await runOcf('Filesystem', 'start', params);
      t.equal(r.exitCode, 0, `${device}: start (${r.stderr})`);
      t.same(mountedOn(dir), { source: img.device, fstype }, `${device} resolved to ${img.device}`);
      r = await runOcf('Filesystem', 'start', params);
      t.equal(r.exitCode, 0, `${device}: second start`);
      r = await runOcf('Filesystem', 'monitor', params);
      t.equal(r.exitCode, 0, `${device}: monitor when started`);
      for (const depth of ['10', '20']) {
        r = await runOcf('Filesystem', 'monitor', params, { env: { OCF_CHECK_LEVEL: depth, OCF_RESOURCE_INSTANCE: `fs${fstype}` } });
        t.equal(r.exitCode, 0, `${device}: monitor depth ${depth} (${r.stderr})`);
      }
      r = await runOcf('Filesystem', 'stop', params);
      t.equal(r.exitCode, 0, `${device}: stop (${r.stderr})`);
      t.equal(mountedOn(dir), undefined);
      r = await runOcf('Filesystem', 'stop', params);
      t.equal(r.exitCode, 0, `${device}: second stop`);
    }
  });
}

t.test('monitor depth 20 writes the stock agent\'s status file; stop at depth 20 removes it; a read-only mount fails depth 20', async (t) => {
  const img = await image('ext4', 'depth20');
  const dir = join(scratch, 'depth20');
  const params = { device: img.device, directory: dir, fstype: 'ext4' };
  const env = { OCF_CHECK_LEVEL: '20', OCF_RESOURCE_INSTANCE: 'fsdata' };
  t.equal((await runOcf('Filesystem', 'start', params)).exitCode, 0);
  const { stdout: host } = await execa('uname', ['-n']);
  const statusFile = join(dir, '.Filesystem_status', `fsdata_${host}`);
  let r = await runOcf('Filesystem', 'monitor', params, { env });
  t.equal(r.exitCode, 0, r.stderr);
  t.equal(readFileSync(statusFile, 'utf8'), 'fsdata\n'.padEnd(4096, '\0'), 'dd conv=sync pads the block, as the stock agent\'s file is');

  r = await runOcf('Filesystem', 'monitor', params, { env: { ...env, OCF_CHECK_LEVEL: '15' } });
  t.equal(r.exitCode, 6, 'an unsupported depth is a configuration error');
  t.match(r.stderr, /ocf-exit-reason:unsupported monitor depth 15/);

  await execa('mount', ['-o', 'remount,ro', dir]);
  r = await runOcf('Filesystem', 'monitor', params, { env });
  t.equal(r.exitCode, 1, 'depth 20 on a read-only filesystem fails');
  t.match(r.stderr, /ocf-exit-reason:cannot write the status file/);
  await execa('mount', ['-o', 'remount,rw', dir]);

  r = await runOcf('Filesystem', 'stop', params, { env });
  t.equal(r.exitCode, 0, r.stderr);
  await execa('mount', [img.device, dir]);
  t.notOk(existsSync(statusFile), 'stop at depth 20 removed the status file');
  await execa('umount', [dir]);
});

t.test('bind mount: device is a directory, fstype none, options bind (and bind,ro)', async (t) => {
  const source = join(scratch, 'bind source');
  const dir = join(scratch, 'bind target');
  mkdirSync(source);
  writeFileSync(join(source, 'file'), 'through the bind mount\n');
  for (const options of ['bind', 'bind,ro']) {
    const args = [source, dir, 'none', options];
    let r = await v1([...args, 'status']);
    t.equal(r.exitCode, 3, `${options}: stopped`);
    r = await v1([...args, 'start']);
    t.equal(r.exitCode, 0, `${options}: start (${r.stderr})`);
    t.equal(readFileSync(join(dir, 'file'), 'utf8'), 'through the bind mount\n');
    r = await v1([...args, 'status']);
    t.equal(r.exitCode, 0, `${options}: running`);
    t.equal((await v1([...args, 'start'])).exitCode, 0, `${options}: second start`);
    t.equal(mountsUnder(dir).length, 1);
    if (options === 'bind,ro') {
      const write = await execa('touch', [join(dir, 'x')], { reject: false });
      t.not(write.exitCode, 0, 'bind,ro is read-only');
    }
    // A different directory bind-mounted there is not ours.
    r = await v1([scratch, dir, 'none', 'bind', 'status']);
    t.equal(r.exitCode, 3, 'another source directory reads as not held');
    r = await v1([...args, 'stop']);
    t.equal(r.exitCode, 0, `${options}: stop (${r.stderr})`);
    t.equal(mountsUnder(dir).length, 0);
    t.ok(existsSync(join(source, 'file')), 'the source is untouched');
  }
});

t.test('stop unmounts sub-mounts first, deepest first, then the mount', async (t) => {
  const outer = await image('ext4', 'outer');
  const inner = await image('ext3', 'inner');
  const dir = join(scratch, 'outer');
  const args = [outer.device, dir, 'ext4'];
  t.equal((await v1([...args, 'start'])).exitCode, 0);
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  await execa('mount', [inner.device, join(dir, 'a', 'b')]);
  await execa('mount', ['-t', 'tmpfs', 'tmpfs', join(dir, 'a', 'b')]); // stacked on the sub-mount
  t.equal(mountsUnder(dir).length, 3);
  // The same filesystem also shown elsewhere (a bind of a directory in it) keeps the device busy: the stock agent unmounts it too.
  const elsewhere = join(scratch, 'outer-elsewhere');
  mkdirSync(elsewhere);
  await execa('mount', ['--bind', join(dir, 'a'), elsewhere]);
  const r = await v1([...args, 'stop']);
  t.equal(r.exitCode, 0, r.stderr);
  t.same(mountsUnder(dir), [], 'nothing left under the mount point');
  t.same(mountsUnder(elsewhere), [], 'nor the other mount of the same device');
  t.match(r.stderr, new RegExp(`unmounted ${dir}/a/b[^]*unmounted ${dir}/a/b[^]*unmounted ${dir}\n`), 'deepest first, the mount itself after its sub-mounts');
});

t.test('a device and a mount point reached through symlinks (by-uuid; /var/run → /run, not there yet)', async (t) => {
  const img = await image('ext4', 'symlinked');
  const { symlinkSync } = await import('node:fs');
  mkdirSync(join(scratch, 'real-run'));
  symlinkSync(join(scratch, 'real-run'), join(scratch, 'var-run'));
  const dir = join(scratch, 'var-run', 'new mnt');
  // The device through a symlink too, as /dev/disk/by-uuid/... is where udev runs.
  mkdirSync(join(scratch, 'by-uuid'));
  symlinkSync(img.device, join(scratch, 'by-uuid', img.uuid));
  const args = [join(scratch, 'by-uuid', img.uuid), dir, 'ext4'];
  let r = await v1([...args, 'start']);
  t.equal(r.exitCode, 0, r.stderr);
  t.same(mountedOn(join(scratch, 'real-run', 'new mnt')), { source: img.device, fstype: 'ext4' }, 'mounted on the canonical path');
  r = await v1([...args, 'status']);
  t.equal(r.exitCode, 0, 'status finds it through the symlinks');
  r = await v1([img.device, dir, 'ext4', 'start']);
  t.equal(r.exitCode, 0, 'the device by its own name is the same mount: start succeeds');
  t.equal(mountsUnder(join(scratch, 'real-run')).length, 1, 'without a second mount');
  r = await v1([...args, 'stop']);
  t.equal(r.exitCode, 0, r.stderr);
  t.same(mountsUnder(join(scratch, 'real-run')), []);
});

t.test('refusals: one line, exit code, nothing mounted or changed', async (t) => {
  const img = await image('ext4', 'refuse');
  const other = await image('ext4', 'other');
  const dirA = join(scratch, 'refuse-a');
  const dirB = join(scratch, 'refuse-b');

  t.equal((await v1([img.device, dirA, 'ext4', 'start'])).exitCode, 0);
  let r = await v1([img.device, dirB, 'ext4', 'start']);
  t.equal(r.exitCode, 1, 'device mounted elsewhere');
  t.equal(r.stderr, `Filesystem: ${img.device} is already mounted on ${dirA}; refusing to mount it a second time on ${dirB}`);
  t.equal(mountedOn(dirB), undefined);
  r = await runOcf('Filesystem', 'start', { device: `LABEL=${img.label}`, directory: dirB, fstype: 'ext4' });
  t.equal(r.exitCode, 1, 'also when named by LABEL=');
  t.match(r.stderr, /^ocf-exit-reason:.* is already mounted on /m);

  r = await v1([other.device, dirA, 'ext4', 'start']);
  t.equal(r.exitCode, 1, 'another device on the directory');
  t.equal(r.stderr, `Filesystem: ${dirA} already has ${img.device} (ext4) mounted on it; not mounting ${other.device} over it`);
  t.same(mountedOn(dirA), { source: img.device, fstype: 'ext4' }, 'the mounted device stays');
  r = await v1([other.device, dirA, 'ext4', 'status']);
  t.equal(r.exitCode, 3, 'status of the other device reads not held');
  r = await v1([other.device, dirA, 'ext4', 'stop']);
  t.equal(r.exitCode, 0, 'stop of the other device succeeds ...');
  t.same(mountedOn(dirA), { source: img.device, fstype: 'ext4' }, '... without unmounting what is not ours');
  t.equal((await v1([img.device, dirA, 'ext4', 'stop'])).exitCode, 0);

  r = await runOcf('Filesystem', 'start', { device: '/dev/no_such_device', directory: dirB, fstype: 'ext4' });
  t.equal(r.exitCode, 5, 'a missing device is ERR_INSTALLED (as the stock agent and its ocft case)');
  t.equal(r.stderr, 'ocf-exit-reason:cannot mount /dev/no_such_device: /dev/no_such_device does not exist');
  r = await runOcf('Filesystem', 'start', { device: 'UUID=00000000-0000-0000-0000-000000000000', directory: dirB, fstype: 'ext4' });
  t.equal(r.exitCode, 5, 'an unknown UUID too');
  t.match(r.stderr, /no filesystem with UUID=00000000-0000-0000-0000-000000000000 was found/);
  t.equal(mountedOn(dirB), undefined);
});

t.test('bad input: one-line error, right exit code, nothing mounted', async (t) => {
  const img = await image('ext4', 'badin');
  const dir = join(scratch, 'bad');
  const file = join(scratch, 'a-file');
  writeFileSync(file, 'x');
  // Only what these calls could have mounted: other test files mount and
  // unmount (network namespaces, their own images) at the same time.
  const ourMounts = () => {
    const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean);
    return {
      underScratch: mountsUnder(scratch),
      ofImage: lines.filter((l) => l.split(' - ')[1]?.split(' ')[1] === img.device).length,
      onRoot: lines.filter((l) => l.split(' ')[4] === '/').length,
    };
  };
  const before = ourMounts();
  const cases: [string, string[], Record<string, string> | undefined, number, RegExp][] = [
    ['v1: no directory', [img.device, 'start'], undefined, 2, /^Filesystem: missing arguments; usage: Filesystem device directory/],
    ['v1: too many arguments', [img.device, dir, 'ext4', 'rw', 'extra', 'start'], undefined, 2, /too many arguments/],
    ['v1: relative directory', [img.device, 'data', 'ext4', 'start'], undefined, 6, /^Filesystem: directory "data" is not an absolute path$/],
    ['v1: relative device', ['loop0', dir, 'ext4', 'start'], undefined, 6, /^Filesystem: device "loop0" is not an absolute path/],
    ['v1: root directory', [img.device, '/', 'ext4', 'start'], undefined, 6, /is the root directory/],
    ['v1: directory is a file', [img.device, file, 'ext4', 'start'], undefined, 6, /exists and is not a directory$/],
    ['v1: unknown fstype', [img.device, dir, 'nosuchfs', 'start'], undefined, 5, /^Filesystem: filesystem type nosuchfs is not supported by this kernel \(not in \/proc\/filesystems\)$/],
    ['v1: fstype with a slash', [img.device, dir, 'ext4/x', 'start'], undefined, 6, /is not a filesystem type name/],
    ['v1: options with $(...)', [img.device, dir, 'ext4', 'rw,$(reboot)', 'start'], undefined, 6, /options "rw,\$\(reboot\)" contains the shell metacharacter/],
    ['v1: options with ;', [img.device, dir, 'ext4', 'rw;reboot', 'start'], undefined, 6, /shell metacharacter ";"/],
    ['v1: options with a space', [img.device, dir, 'ext4', 'rw, remount', 'start'], undefined, 6, /contains white space/],
    ['v1: options as a flag', [img.device, dir, 'ext4', '-oremount', 'start'], undefined, 6, /starts with "-"/],
    ['v1: device is an option', ['--bind', dir, 'ext4', 'start'], undefined, 6, /is an option, not a device/],
    ['v1: directory with backticks', [img.device, `${dir}/\`id\``, 'ext4', 'start'], undefined, 6, /shell metacharacter "`"/],
    ['OCF: no device', ['start'], { directory: dir, fstype: 'ext4' }, 6, /^ocf-exit-reason:device is required/],
    ['OCF: bad run_fsck', ['start'], { device: img.device, directory: dir, run_fsck: 'maybe' }, 6, /run_fsck "maybe" must be auto, force or no/],
    ['OCF: clone of ext4', ['start'], { device: img.device, directory: dir, fstype: 'ext4', CRM_meta_clone_max: '2' }, 6, /not cluster-aware; refusing to run it as a clone/],
  ];
  for (const [name, args, ocf, code, message] of cases) {
    const r = ocf ? await runOcf('Filesystem', args[0]!, ocf) : await v1(args);
    t.equal(r.exitCode, code, `${name}: exit ${code} (${r.stderr.trim()})`);
    t.match(r.stderr, message, name);
    t.equal(r.stderr.trim().split('\n').length, code === 2 ? r.stderr.trim().split('\n').length : 1, `${name}: one line`);
  }
  t.same(ourMounts(), before, 'nothing was mounted');
  t.notOk(existsSync(dir), 'no mount point was created');
});

t.test('run_fsck: force runs fsck and honours its verdict', async (t) => {
  const img = await image('ext4', 'fsck');
  const dir = join(scratch, 'fsck');
  const params = { device: img.device, directory: dir, fstype: 'ext4', run_fsck: 'force' };
  let r = await runOcf('Filesystem', 'start', params);
  t.equal(r.exitCode, 0, `clean filesystem: ${r.stderr}`);
  t.equal((await runOcf('Filesystem', 'stop', params)).exitCode, 0);
  t.ok(await waitUntilUnmountedEverywhere(img.device), 'no other test\'s mount namespace still holds a copy');
  // Wreck the superblock magic (offset 1024+56 = 0x438, 0xEF53): fsck -p cannot fix that.
  await execa('dd', ['if=/dev/zero', `of=${img.device}`, 'bs=1', 'seek=1080', 'count=2', 'conv=notrunc'], { reject: false });
  await execa('blockdev', ['--flushbufs', img.device], { reject: false });
  r = await runOcf('Filesystem', 'start', params);
  t.equal(r.exitCode, 1, 'fsck >= 4 refuses the mount');
  t.match(r.stderr, /ocf-exit-reason:fsck -t ext4 -p .* exited \d+: .* has errors it could not repair/);
  t.equal(mountedOn(dir), undefined);
  r = await runOcf('Filesystem', 'start', { ...params, run_fsck: 'no' });
  t.equal(r.exitCode, 1, 'without fsck, mount itself fails on the broken superblock');
  t.equal(mountedOn(dir), undefined);
});
