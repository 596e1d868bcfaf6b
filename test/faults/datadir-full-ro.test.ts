import t from 'tap';
import { execa } from 'execa';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAgent } from '../rig/agents.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { MYSQL_UID_GID, destroySandboxes, makeSandbox, sandboxConfig, serverPidsOn, sql } from '../rig/mariadb.ts';

// Issue 15, item 4: the datadir's filesystem (a real xfs image) runs
// full, or is mounted read-only. start fails with one line naming that (no
// server left behind); stop succeeds, also for a server that was running
// when the disk filled up.

const scratch = makeScratchDir('faults-datadir');
chmodSync(scratch, 0o755); // the server runs as mysql and must reach its datadir under here
let image: LoopImage | undefined;
t.teardown(async () => {
  await destroySandboxes();
  if (image) await destroyLoopImage(image);
  await removeScratchDir(scratch);
});

const errors = (stderr: string) => stderr.split('\n').filter((l) => l && !/ (INFO|WARNING|DEBUG): /.test(l));

t.test('datadir filesystem full, then read-only', async (t) => {
  const box = await makeSandbox('fulldisk');
  image = await createLoopImage(scratch, 'xfs', 'fulldisk'); // 320 MiB sparse: room for InnoDB's temporary tablespace
  const disk = join(scratch, 'disk');
  mkdirSync(disk);
  await execa('mount', [image.device, disk]);
  const datadir = join(disk, 'mysql');
  await execa('cp', ['-a', box.datadir, datadir]);
  const [uid, gid] = await MYSQL_UID_GID();
  await execa('chown', ['-R', `${uid}:${gid}`, datadir]);
  writeFileSync(box.config, sandboxConfig({ ...box, datadir }));
  const env = { HA_RSCTMP: join(box.root, 'rsctmp') };
  const mysqld = (action: string) => runAgent('mysqld', [box.config, action], { env });

  let r = await mysqld('start');
  t.equal(r.exitCode, 0, `start on the image: ${r.stderr}`);
  t.equal(await sql(box, 'SELECT 1'), '1');

  // The disk fills up under the running server (as a runaway binlog or a big import would).
  let fills = 0;
  const fillUp = async () => {
    const avail = Number((await execa('df', ['--output=avail', '-B1', disk])).stdout.split('\n')[1]);
    const fill = join(disk, `fill${fills++}`);
    await execa('fallocate', ['-l', String(avail), fill], { reject: false });
    await execa('dd', ['if=/dev/zero', `of=${fill}`, 'bs=4k', 'oflag=append', 'conv=notrunc'], { reject: false });
  };
  await fillUp();
  const df = await execa('df', ['--output=avail', '-B1', disk]);
  t.ok(Number(df.stdout.split('\n')[1]) < 1 << 20, `the filesystem is full (${df.stdout.split('\n')[1]} bytes available)`);
  r = await mysqld('stop');
  t.equal(r.exitCode, 0, `stop with a full datadir filesystem succeeds: ${r.stderr}`);
  t.same(serverPidsOn(datadir), [], 'no server left');

  await fillUp(); // the clean shutdown freed InnoDB's temporary tablespace
  r = await mysqld('start');
  t.equal(r.exitCode, 1, 'start on a full filesystem fails');
  t.match(errors(r.stderr), [new RegExp(`^mysqld: the filesystem of datadir ${datadir} is full \\(\\d+ KiB free\\); not starting the server$`)], r.stderr);
  t.same(serverPidsOn(datadir), [], 'no server started');
  r = await mysqld('stop');
  t.equal(r.exitCode, 0, 'stop after the refused start succeeds');

  for (let i = 0; i < fills; i++) rmSync(join(disk, `fill${i}`));
  await execa('mount', ['-o', 'remount,ro', disk]);
  r = await mysqld('start');
  t.equal(r.exitCode, 1, 'start on a read-only filesystem fails');
  t.match(errors(r.stderr), [new RegExp(`^mysqld: datadir ${datadir} is on a read-only filesystem; not starting the server$`)], r.stderr);
  t.same(serverPidsOn(datadir), [], 'no server started');
  r = await mysqld('stop');
  t.equal(r.exitCode, 0, 'stop succeeds');
  r = await mysqld('status');
  t.equal(r.exitCode, 3, 'and reports stopped');

  await execa('mount', ['-o', 'remount,rw', disk]);
  r = await mysqld('start');
  t.equal(r.exitCode, 0, `writable again: start works, nothing was lost on the way: ${r.stderr}`);
  t.equal(await sql(box, 'SELECT COUNT(*) > 0 FROM mysql.global_priv'), '1');
  r = await mysqld('stop');
  t.equal(r.exitCode, 0, r.stderr);
});
