import t from 'tap';
import { readFileSync } from 'node:fs';
import { fstypeSupport, inProcFilesystems, kernelFilesystemFor, moduleFor } from '../../../lib/fs/fstype.ts';

// /proc/filesystems as Debian 12 prints it; modules.alias / modules.dep lines as depmod writes them.
const PROC = 'nodev\tsysfs\nnodev\ttmpfs\n\text3\n\text2\n\text4\nnodev\tfuse\n\txfs\n';
const ALIAS = 'alias fs-ext3 ext4\nalias fs-xfs xfs\nalias fs-btrfs btrfs\nalias devname:fuse fuse\n';
const DEP = 'kernel/fs/xfs/xfs.ko.xz: kernel/lib/libcrc32c.ko.xz\nkernel/fs/jfs/jfs.ko.xz:\n';

t.test('registered types, modules by alias or file name, the stock agent\'s mapping', async (t) => {
  t.ok(inProcFilesystems(PROC, 'ext3'));
  t.ok(inProcFilesystems(PROC, 'tmpfs'), 'nodev types too');
  t.notOk(inProcFilesystems(PROC, 'ext'), 'whole names only');
  t.ok(moduleFor('btrfs', ALIAS, DEP), 'fs-btrfs alias');
  t.ok(moduleFor('jfs', ALIAS, DEP), 'jfs.ko.xz in modules.dep');
  t.notOk(moduleFor('ext9', ALIAS, DEP));
  t.notOk(moduleFor('fs', ALIAS, DEP));
  t.equal(kernelFilesystemFor('fuse.sshfs'), 'fuse');
  t.equal(kernelFilesystemFor('efs'), 'nfs4');
  t.equal(kernelFilesystemFor('ext4'), 'ext4');
});

t.test('this machine: what /proc/filesystems lists is loaded; a made-up name is unknown', async (t) => {
  const first = readFileSync('/proc/filesystems', 'utf8').split('\n')[0]!.split('\t').pop()!.trim();
  t.equal(fstypeSupport(first), 'loaded', first);
  t.equal(fstypeSupport('nosuchfs'), 'unknown');
});
