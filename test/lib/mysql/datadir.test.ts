import t from 'tap';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseMountinfo } from '../../../lib/fs/mountinfo.ts';
import {
  datadirProblem, expectedMountPoint, fstabMountPoints, haresourcesMountPoints, mountOf, notOnDeclaredMount,
} from '../../../lib/mysql/datadir.ts';
import { findGroupId, findPasswdEntry } from '../../../lib/mysql/accounts.ts';

t.test('haresources: Filesystem resources name their mount points (continuation lines, comments)', async (t) => {
  const text = '# master1 IPaddr::1.2.3.4 Filesystem::/dev/x::/commented::ext3\nmaster1 IPaddr::192.168.4.1/16/eth1 drbddisk::data \\\n Filesystem::/dev/drbd1::/data::ext3 mysqld\nmaster2 Filesystem::/dev/drbd2::/srv/db::xfs::noatime\n';
  t.same(haresourcesMountPoints(text), ['/data', '/srv/db']);
});

t.test('fstab mount points', async (t) => {
  t.same(fstabMountPoints('# c\nUUID=1 / ext4 defaults 0 1\n/dev/sdb1 /data ext4 noauto 0 0\n/dev/sdc none swap sw 0 0\n/dev/sdd /my\\040data xfs defaults 0 0\n'), ['/', '/data', '/my data']);
});

t.test('the deepest declared mount point above the datadir', async (t) => {
  const cases: [string, string[], string | undefined][] = [
    ['/data', ['/data'], '/data'],
    ['/data/mysql', ['/data', '/'], '/data'],
    ['/data/mysql', ['/data', '/data/mysql'], '/data/mysql'],
    ['/database', ['/data'], undefined],
    ['/var/lib/mysql', ['/'], undefined],
    ['/data', ['/data/'], '/data'],
  ];
  for (const [datadir, declared, expected] of cases) t.equal(expectedMountPoint(datadir, declared), expected, `${datadir} in ${declared}`);
});

t.test('datadir on its declared mount, or on the root filesystem', async (t) => {
  const mounts = parseMountinfo([
    '26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '40 26 147:1 / /data rw,relatime shared:2 - ext3 /dev/drbd1 rw',
  ].join('\n'));
  t.equal(mountOf('/data/mysql', mounts)?.mountPoint, '/data');
  t.equal(mountOf('/database', mounts)?.mountPoint, '/');
  t.equal(notOnDeclaredMount('/data', '/data', mounts), undefined, 'mounted: fine');
  t.match(notOnDeclaredMount('/srv/data', '/srv', mounts), /datadir \/srv\/data is on the root filesystem, but .* mounted at \/srv, which is not mounted there/);
});

t.test('passwd and group lookup', async (t) => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nmysql:x:102:105:MySQL Server,,,:/nonexistent:/bin/false\n';
  t.same(findPasswdEntry(passwd, 'mysql'), { name: 'mysql', uid: 102, gid: 105 });
  t.equal(findPasswdEntry(passwd, 'mysq'), undefined);
  t.equal(findGroupId('root:x:0:\nmysql:x:105:\n', 'mysql'), 105);
  t.equal(findGroupId('root:x:0:\n', 'mysql'), undefined);
});

t.test('datadir problems: missing, not a directory, foreign owner, no write bit, no system schema', async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/ha-mysqld-dd-${process.pid}-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.match(datadirProblem(`${dir}/none`, 'mysql', 102), { kind: 'missing' });
  writeFileSync(`${dir}/file`, '');
  t.match(datadirProblem(`${dir}/file`, 'mysql', 0), { kind: 'missing', message: /not a directory/ });
  mkdirSync(`${dir}/d`);
  t.match(datadirProblem(`${dir}/d`, 'mysql', 102), { kind: 'permission', message: /owned by uid 0, not by the server user mysql \(uid 102\)/ });
  chownSync(`${dir}/d`, 102, 105);
  t.match(datadirProblem(`${dir}/d`, 'mysql', 102), { kind: 'uninitialised' });
  chmodSync(`${dir}/d`, 0o555);
  t.match(datadirProblem(`${dir}/d`, 'mysql', 102), { kind: 'permission', message: /mode 555/ });
  chmodSync(`${dir}/d`, 0o750);
  mkdirSync(`${dir}/d/mysql`);
  t.match(datadirProblem(`${dir}/d`, 'mysql', 102), { kind: 'uninitialised' }, 'an empty mysql/ is not a system schema');
  writeFileSync(`${dir}/d/mysql/global_priv.frm`, '');
  t.equal(datadirProblem(`${dir}/d`, 'mysql', 102), undefined, 'MariaDB 10.4+ system schema');
});
