import t from 'tap';
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { agentPath, runAgent, runOcf } from '../rig/agents.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, mountsUnder, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { pollUntil } from '../../lib/system/wait.ts';

// Stop with a busy mount: processes with their cwd inside, an open file, a
// mapped executable. Stop must find exactly those (by walking /proc), end
// them with TERM then KILL within the bound, unmount, and leave alone every
// process that does not hold the mount, including the agent's own callers.

const scratch = makeScratchDir('fs-holders');
const images: LoopImage[] = [];
const children: ChildProcess[] = [];
t.teardown(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const image of images) await destroyLoopImage(image);
  await removeScratchDir(scratch);
});

function start(command: string, args: string[], cwd: string): ChildProcess {
  const child = spawn(command, args, { cwd, stdio: 'ignore' });
  children.push(child);
  return child;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
const waitExit = (child: ChildProcess, timeoutMs: number) => pollUntil(() => (exited(child) ? true : undefined), { intervalMs: 20, timeoutMs });

/** Waits until the process shows `path` among its open files or mappings (it really holds it). */
async function waitHolding(child: ChildProcess, path: string): Promise<boolean> {
  const holds = () => {
    try {
      if (readFileSync(`/proc/${child.pid}/maps`, 'utf8').includes(path)) return true;
      return readdirSync(`/proc/${child.pid}/fd`).some((fd) => readlinkSync(`/proc/${child.pid}/fd/${fd}`) === path) || undefined;
    } catch {
      return undefined;
    }
  };
  return (await pollUntil(holds, { intervalMs: 20, timeoutMs: 10_000 })) ?? false;
}

// A python3 that ignores SIGTERM and keeps `file` open: only SIGKILL ends it.
const STUBBORN_OPEN_FILE = `
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
f = open(sys.argv[1], 'a')
while True: time.sleep(1)
`;

t.test('stop ends exactly the holders (cwd, open file, mapped file) within the bound; data survives', async (t) => {
  const img = await createLoopImage(scratch, 'ext4', 'holders');
  images.push(img);
  const dir = join(scratch, 'busy mount'); // a space, as in the \040 escape
  mkdirSync(dir);
  // Sits in the directory the mount will hide: path under the mount point, but not holding the mount.
  const underneath = start('sleep', ['600'], dir);
  const outside = start('sleep', ['600'], scratch);

  const params = { device: img.device, directory: dir, fstype: 'ext4' };
  const env = { OCF_RESKEY_CRM_meta_timeout: '20000' };
  let r = await runOcf('Filesystem', 'start', params, { env });
  t.equal(r.exitCode, 0, r.stderr);

  // Committed data: written and fsync'd before stop.
  const fd = openSync(join(dir, 'committed'), 'w');
  writeSync(fd, 'row 1\n');
  fsyncSync(fd);
  closeSync(fd);

  mkdirSync(join(dir, 'sub dir'));
  const inCwd = start('sleep', ['600'], join(dir, 'sub dir'));
  const openFile = start('python3', ['-c', STUBBORN_OPEN_FILE, join(dir, 'open file')], scratch);
  copyFileSync('/bin/sleep', join(dir, 'mapped sleep'));
  const mapped = start(join(dir, 'mapped sleep'), ['600'], '/');
  t.ok(await waitHolding(openFile, join(dir, 'open file')), 'python3 has the file open');
  t.ok(await waitHolding(mapped, join(dir, 'mapped sleep')), 'the executable is mapped');
  t.equal(readlinkSync(`/proc/${inCwd.pid}/cwd`), join(dir, 'sub dir'));

  r = await runOcf('Filesystem', 'monitor', params);
  t.equal(r.exitCode, 0);

  const began = Date.now();
  r = await runOcf('Filesystem', 'stop', params, { env });
  const took = Date.now() - began;
  t.equal(r.exitCode, 0, `stop: ${r.stderr}`);
  t.ok(took < 20_000, `stop returned within the 20 s OCF timeout (took ${took} ms)`);
  t.same(mountsUnder(dir), [], 'unmounted');
  for (const [name, child] of [['cwd holder', inCwd], ['open-file holder (ignores TERM)', openFile], ['mapped-file holder', mapped]] as const) {
    t.ok(await waitExit(child, 5000), `${name} is gone`);
  }
  t.equal(openFile.signalCode, 'SIGKILL', 'the TERM-ignoring holder needed KILL');
  t.equal(inCwd.signalCode, 'SIGTERM', 'the plain holder ended on TERM');
  t.notOk(exited(outside), 'a process outside the mount is untouched');
  t.notOk(exited(underneath), 'a process in the directory under the mount (not holding it) is untouched');
  t.match(r.stderr, new RegExp(`PID ${inCwd.pid} holds .*: cwd `));
  t.match(r.stderr, new RegExp(`PID ${openFile.pid} holds .*: fd \\d+ .*open file`));
  t.match(r.stderr, new RegExp(`PID ${mapped.pid} holds .*: mmap .*mapped sleep`));
  t.notMatch(r.stderr, new RegExp(`PID (${outside.pid}|${underneath.pid}) `));

  r = await runOcf('Filesystem', 'start', params, { env });
  t.equal(r.exitCode, 0, r.stderr);
  t.equal(readFileSync(join(dir, 'committed'), 'utf8'), 'row 1\n', 'fsync\'d data is there after the next start');
  r = await runOcf('Filesystem', 'stop', params, { env });
  t.equal(r.exitCode, 0);
});

t.test('the agent never signals its own caller; it fails within the bound instead', async (t) => {
  const img = await createLoopImage(scratch, 'xfs', 'caller');
  images.push(img);
  const dir = join(scratch, 'caller');
  const args = [img.device, dir, 'xfs'];
  t.equal((await runAgent('Filesystem', [...args, 'start'])).exitCode, 0);
  // A shell sitting in the mount runs the stop (an operator at 3 a.m. with cwd /data).
  const began = Date.now();
  const shell = await execa('sh', ['-c', `"$0" "$@"; echo "rc=$?"`, agentPath('Filesystem'), 'stop'], {
    cwd: dir,
    reject: false,
    env: { OCF_RESKEY_device: img.device, OCF_RESKEY_directory: dir, OCF_RESKEY_fstype: 'xfs', OCF_RESKEY_CRM_meta_timeout: '4000', PATH: process.env.PATH! },
    extendEnv: false,
  });
  t.ok(Date.now() - began < 10_000, 'returned within the bound');
  t.equal(shell.stdout.trim(), 'rc=1', 'the shell survived to print the exit code: stop failed');
  t.match(shell.stderr, /ocf-exit-reason:could not unmount .*caller in time: .*still held by PID \d+ \(this agent or its caller\)/);
  t.equal(mountsUnder(dir).length, 1, 'still mounted: no lazy unmount');
  const r = await runAgent('Filesystem', [...args, 'stop']);
  t.equal(r.exitCode, 0, `stop from outside succeeds: ${r.stderr}`);
  t.same(mountsUnder(dir), []);
});

t.test('force_unmount=false signals nobody: stop fails within the bound, the holder lives', async (t) => {
  const img = await createLoopImage(scratch, 'ext3', 'nokill');
  images.push(img);
  const dir = join(scratch, 'nokill');
  const params = { device: img.device, directory: dir, fstype: 'ext3', force_unmount: 'false' };
  t.equal((await runOcf('Filesystem', 'start', params)).exitCode, 0);
  const holder = start('sleep', ['600'], dir);
  await pollUntil(() => { try { return readlinkSync(`/proc/${holder.pid}/cwd`) === dir || undefined; } catch { return undefined; } }, { intervalMs: 20, timeoutMs: 5000 });
  const began = Date.now();
  let r = await runOcf('Filesystem', 'stop', params, { env: { OCF_RESKEY_CRM_meta_timeout: '3000' } });
  t.ok(Date.now() - began < 10_000, 'returned within the bound');
  t.equal(r.exitCode, 1, 'stop fails: the mount is busy');
  t.match(r.stderr, /could not unmount .* in time/);
  t.notOk(exited(holder), 'the holder was not signalled');
  t.equal(mountsUnder(dir).length, 1);
  // v1 form, default force_unmount=true: the holder goes.
  r = await runAgent('Filesystem', [img.device, dir, 'ext3', 'stop']);
  t.equal(r.exitCode, 0, r.stderr);
  t.ok(await waitExit(holder, 5000), 'v1 stop ended the holder');
  t.same(mountsUnder(dir), []);
});

/** A process in a new private mount namespace (as `unshare -m`, a container): it copies every mount that exists now. */
async function privateNamespace(script: string, ...args: string[]): Promise<ChildProcess> {
  const child = start('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...args], '/');
  const entered = await pollUntil(() => {
    try {
      return readlinkSync(`/proc/${child.pid}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt') && readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sleep') ? true : undefined;
    } catch {
      return undefined;
    }
  }, { intervalMs: 20, timeoutMs: 5000 });
  if (!entered) throw new Error('the namespace did not come up');
  return child;
}

const copiesIn = (child: ChildProcess, device: string) => readFileSync(`/proc/${child.pid}/mountinfo`, 'utf8').split('\n').filter((l) => l.includes(` ${device} `));
/** Opens the device O_EXCL, as fsck and DRBD's demote need it: fails with EBUSY while any namespace mounts it. */
const deviceFree = async (device: string) => (await execa('python3', ['-c', 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL))', device], { reject: false })).exitCode === 0;

t.test('a mount namespace that copied the mount: stop unmounts the copy there too; the device is free', async (t) => {
  const img = await createLoopImage(scratch, 'ext4', 'nscopy');
  images.push(img);
  const dir = join(scratch, 'nscopy');
  const args = [img.device, dir, 'ext4'];
  t.equal((await runAgent('Filesystem', [...args, 'start'])).exitCode, 0);
  // Its own mount below the copy too (a container adding a mount in its view).
  const copy = await privateNamespace('mkdir "$1/sub" && mount -t tmpfs inner "$1/sub" && exec sleep 600', dir);
  t.equal(copiesIn(copy, img.device).length, 1, 'the namespace holds a copy of the mount');
  t.match(readFileSync(`/proc/${copy.pid}/mountinfo`, 'utf8'), `${dir}/sub`, 'and a mount of its own below it');
  const r = await runAgent('Filesystem', [...args, 'stop']);
  t.equal(r.exitCode, 0, `stop succeeds: ${r.stderr}`);
  t.same(mountsUnder(dir), []);
  t.match(r.stderr, new RegExp(`WARNING: ${img.device} is unmounted here but still mounted on ${dir} in the mount namespace of PID ${copy.pid}; unmounting it there`));
  t.same(copiesIn(copy, img.device), [], 'the copy is gone from that namespace');
  t.notOk(exited(copy), 'the namespace\'s process held nothing and was not signalled');
  t.ok(await deviceFree(img.device), 'the device opens exclusively (as fsck and a DRBD demote need)');
});

t.test('a process in the other namespace holds a file open there: handled as a holder here would be', async (t) => {
  const img = await createLoopImage(scratch, 'ext4', 'nshold');
  images.push(img);
  const dir = join(scratch, 'nshold');
  const args = [img.device, dir, 'ext4'];
  t.equal((await runAgent('Filesystem', [...args, 'start'])).exitCode, 0);
  // One bystander in the namespace (cwd /), one process there with a file on the copy open.
  const bystander = await privateNamespace('sleep 600 & exec 3>>"$1/held-open"; exec sleep 600', dir);
  t.ok(await waitHolding(bystander, `${dir}/held-open`), 'the process in the namespace holds the file on its copy');

  // force_unmount=false: nothing is killed; stop fails within its bound, naming the namespace and the holder.
  let r = await runOcf('Filesystem', 'stop', { device: img.device, directory: dir, fstype: 'ext4', force_unmount: 'false' }, { env: { OCF_RESKEY_CRM_meta_timeout: '4000' } });
  t.equal(r.exitCode, 1, 'stop fails: the copy is busy');
  t.match(r.stderr, new RegExp(`could not unmount ${dir} in the mount namespace of PID ${bystander.pid} in time: .*still held by PID ${bystander.pid}`), r.stderr);
  t.same(mountsUnder(dir), [], 'unmounted here all the same');
  t.notOk(exited(bystander), 'force_unmount=false: not signalled');

  t.notOk(await deviceFree(img.device), 'the device is still in use (the check can fail)');
  // heartbeat retries the stop; with the default force_unmount the holder there is ended like one here; the device is free.
  r = await runAgent('Filesystem', [...args, 'stop']);
  t.equal(r.exitCode, 0, `stop: ${r.stderr}`);
  t.match(r.stderr, new RegExp(`PID ${bystander.pid} holds ${dir} in the mount namespace of PID ${bystander.pid}: fd 3 ${dir}/held-open`));
  t.ok(await waitExit(bystander, 5000), 'the holder was ended');
  t.ok(await deviceFree(img.device), 'the device opens exclusively');
});
