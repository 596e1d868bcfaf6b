import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { acquireResourceLock, isPathUnder, lockDirectory, lockPath } from '../../../lib/system/lock.ts';
import { TimeoutError } from '../../../lib/contract/errors.ts';

const rsctmp = mkdtempSync(join(tmpdir(), 'lock-test-'));
t.teardown(() => rmSync(rsctmp, { recursive: true, force: true }));
const env = { HA_RSCTMP: rsctmp };

t.test('distinct keys never share a file, even when they sanitise alike', async (t) => {
  t.not(lockPath(env, 'Filesystem', '/data a'), lockPath(env, 'Filesystem', '/data_a'));
  t.match(lockPath(env, 'IPaddr', '198.18.4.1'), /\/ha-resource-agents\/IPaddr\.198\.18\.4\.1\.[0-9a-f]{8}\.lock$/);
});

t.test('two holders of one resource serialise; the second one waits its turn', async (t) => {
  const order: string[] = [];
  const first = await acquireResourceLock(env, 'IPaddr', '198.18.4.1', Date.now() + 5000);
  order.push('first acquired');
  t.equal(readFileSync(first.path, 'utf8'), `${process.pid}\n`, 'holder PID is recorded for operators');
  const second = acquireResourceLock(env, 'IPaddr', '198.18.4.1', Date.now() + 5000).then((lock) => {
    order.push('second acquired');
    return lock;
  });
  await new Promise((r) => setTimeout(r, 200));
  order.push('first released');
  first.release();
  (await second).release();
  t.same(order, ['first acquired', 'first released', 'second acquired']);
});

t.test('another resource is not blocked', async (t) => {
  const a = await acquireResourceLock(env, 'IPaddr', '198.18.4.1', Date.now() + 1000);
  const b = await acquireResourceLock(env, 'IPaddr', '198.18.4.2', Date.now() + 1000);
  t.ok(a && b);
  a.release();
  b.release();
});

t.test('a busy lock times out with a message naming the holder', async (t) => {
  const held = await acquireResourceLock(env, 'drbddisk', 'data', Date.now() + 1000);
  await t.rejects(acquireResourceLock(env, 'drbddisk', 'data', Date.now() + 150), TimeoutError);
  await t.rejects(acquireResourceLock(env, 'drbddisk', 'data', Date.now() + 150), {
    message: `another drbddisk call (pid ${process.pid}) still holds the lock for data`,
  });
  held.release();
});

t.test('a lock left by a killed holder is free at once', async (t) => {
  const path = lockPath(env, 'mysqld', '/data/mysql');
  await acquireResourceLock(env, 'mysqld', '/data/mysql', Date.now() + 1000).then((l) => l.release());
  // A separate process takes the lock, writes its PID as we do, and is then SIGKILLed.
  // A separate process group takes the lock (flock -o: only flock itself holds it) and is then SIGKILLed.
  const holder = spawn('flock', ['-x', '-o', path, 'sleep', '60'], { stdio: 'ignore', detached: true });
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(path, `${holder.pid}\n`);
  await t.rejects(acquireResourceLock(env, 'mysqld', '/data/mysql', Date.now() + 100), TimeoutError, 'held while the holder lives');
  process.kill(-holder.pid!, 'SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  const stalePid = readFileSync(path, 'utf8').trim();
  t.not(stalePid, String(process.pid), 'the file still names the dead holder');
  const lock = await acquireResourceLock(env, 'mysqld', '/data/mysql', Date.now() + 1000);
  t.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, 'taken over and re-stamped');
  lock.release();
});

t.test('a lock never lives under the mount point its caller unmounts; every caller picks the same place', async (t) => {
  t.equal(lockDirectory({ HA_RSCTMP: '/srv/rsctmp' }, '/data'), '/srv/rsctmp/ha-resource-agents', 'HA_RSCTMP elsewhere: used as given');
  t.equal(lockDirectory({ HA_RSCTMP: '/data/run' }, '/data'), '/run/resource-agents/ha-resource-agents', 'under the mount point: the default place');
  t.equal(lockDirectory({ HA_RSCTMP: '/data/run' }, '/data/'), lockDirectory({ HA_RSCTMP: '/data//./run/' }, '/data'), 'spelling does not matter');
  t.equal(lockDirectory({ HA_RSCTMP: '/data' }, '/data'), '/run/resource-agents/ha-resource-agents', 'the mount point itself counts');
  t.equal(lockDirectory({ HA_RSCTMP: '/database/run' }, '/data'), '/database/run/ha-resource-agents', 'a sibling sharing a prefix is not under it');
  t.equal(lockDirectory({}, '/run'), '/dev/shm/resource-agents/ha-resource-agents', 'the default under it too: /dev/shm');
  t.equal(lockDirectory({ HA_RSCTMP: '/data/run' }), '/data/run/ha-resource-agents', 'no mount point given: HA_RSCTMP as always');
  t.equal(lockDirectory({ HA_RSCTMP: '/data/run' }, '/'), '/data/run/ha-resource-agents', 'everything is under /: nothing better, as before');
  t.ok(isPathUnder('/data/a/../b', '/data') && !isPathUnder('/data/../etc', '/data'), '.. is taken as written');
  const env = { HA_RSCTMP: join(rsctmp, 'mnt', 'run') };
  const held = await acquireResourceLock(env, 'Filesystem', `${rsctmp}/mnt`, Date.now() + 1000, { awayFrom: `${rsctmp}/mnt` });
  t.equal(held.path, lockPath(env, 'Filesystem', `${rsctmp}/mnt`, `${rsctmp}/mnt`));
  t.match(held.path, /^\/run\/resource-agents\/ha-resource-agents\/Filesystem\./);
  await t.rejects(acquireResourceLock(env, 'Filesystem', `${rsctmp}/mnt`, Date.now() + 150, { awayFrom: `${rsctmp}/mnt/` }), TimeoutError, 'a second caller waits on the same file');
  held.release();
  rmSync(held.path, { force: true });
});
