import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runAgent, runOcf } from '../rig/agents.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, mountsUnder, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { lockPath } from '../../lib/system/lock.ts';
import { pollUntil } from '../../lib/system/wait.ts';

// HA_RSCTMP (where the per-resource lock files live) below the mount point a
// Filesystem resource mounts: before the fix, start locked a file on the
// directory underneath, and stop opened the same path on the mounted
// filesystem, so its own lock kept the mount busy and stop waited out its
// whole deadline. The lock now lives where no caller's path can be under
// the mount point (lib/system/lock.ts), and every caller picks the same file.

const scratch = makeScratchDir('fs-lock-on-mount');
const images: LoopImage[] = [];
const locks: string[] = [];
t.teardown(async () => {
  for (const image of images) await destroyLoopImage(image);
  await removeScratchDir(scratch);
  for (const lock of locks) rmSync(lock, { force: true });
});

const TIMEOUT_MS = '20000';

t.test('stop with HA_RSCTMP on the filesystem it unmounts: done at once, nothing left busy', async (t) => {
  const image = await createLoopImage(scratch, 'ext4', `lk${process.pid}`.slice(0, 12));
  images.push(image);
  const dir = join(scratch, 'mnt');
  const rsctmp = join(dir, 'run', 'rsctmp');
  mkdirSync(rsctmp, { recursive: true });
  const env = { HA_RSCTMP: rsctmp, OCF_RESKEY_CRM_meta_timeout: TIMEOUT_MS };
  const lock = lockPath(env, 'Filesystem', dir, dir);
  locks.push(lock);
  t.notOk(lock.startsWith(`${dir}/`), `the lock is not under the mount point: ${lock}`);
  t.ok(lock.startsWith('/run/resource-agents/ha-resource-agents/'), 'it is in the default place instead');
  const params = { device: image.device, directory: dir, fstype: 'ext4' };

  for (const round of [1, 2]) {
    let r = await runOcf('Filesystem', 'start', params, { env });
    t.equal(r.exitCode, 0, `start ${round}: ${r.stderr}`);
    t.equal(mountsUnder(dir).length, 1, 'mounted');
    t.ok(existsSync(lock), 'start held the lock there');
    t.same(readdirSync(dir).filter((f) => f !== 'lost+found'), [], 'nothing of ours written on the mounted filesystem');

    r = await runOcf('Filesystem', 'monitor', params, { env });
    t.equal(r.exitCode, 0, `monitor: ${r.stderr}`);

    const started = Date.now();
    r = await runOcf('Filesystem', 'stop', params, { env });
    const took = Date.now() - started;
    t.equal(r.exitCode, 0, `stop ${round}: ${r.stderr}`);
    t.same(mountsUnder(dir), [], 'unmounted');
    // Not a timing goal: the old stop only returned at its deadline (18 s of the 20 s), with an error.
    t.ok(took < Number(TIMEOUT_MS) * 0.9, `stop did not wait out its deadline (${took} ms)`);
  }

  // Heartbeat v1 takes the same path (the mount point is its second argument).
  const v1 = { HA_RSCTMP: rsctmp };
  let r = await runAgent('Filesystem', [image.device, dir, 'ext4', 'start'], { env: v1 });
  t.equal(r.exitCode, 0, `v1 start: ${r.stderr}`);
  r = await runAgent('Filesystem', [image.device, `${dir}/`, 'ext4', 'stop'], { env: v1 });
  t.equal(r.exitCode, 0, `v1 stop (trailing slash, same lock): ${r.stderr}`);
  t.same(mountsUnder(dir), [], 'unmounted');
});

t.test('every caller agrees on that lock: a holder of it makes the next call wait', async (t) => {
  const dir = join(scratch, 'mnt');
  const rsctmp = join(dir, 'run', 'rsctmp');
  const env = { HA_RSCTMP: rsctmp, OCF_RESKEY_CRM_meta_timeout: '1500' };
  const lock = lockPath(env, 'Filesystem', dir, dir);
  locks.push(lock);
  mkdirSync(join(lock, '..'), { recursive: true });
  // Another process (its own process group) holds the lock as a concurrent start would.
  const holder = spawn('flock', ['-x', '-o', lock, 'sleep', '60'], { stdio: 'ignore', detached: true });
  try {
    const held = await pollUntil(async () => ((await runAgentFlockProbe(lock)) ? true : undefined), { intervalMs: 20, timeoutMs: 10_000 });
    t.ok(held, 'the holder has it');
    const r = await runOcf('Filesystem', 'monitor', { device: '/dev/null-none', directory: dir, fstype: 'ext4' }, { env });
    t.not(r.exitCode, 0, 'monitor waited on the lock, then gave up');
    t.match(r.stderr, new RegExp(`still holds the lock for ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `names the lock: ${r.stderr}`);
  } finally {
    process.kill(-holder.pid!, 'SIGKILL');
    await new Promise((resolve) => (holder.exitCode !== null || holder.signalCode !== null ? resolve(undefined) : holder.once('exit', resolve)));
  }
});

/** True when `path` is flock-held by someone else (a non-blocking attempt fails). */
async function runAgentFlockProbe(path: string): Promise<boolean> {
  const probe = spawn('flock', ['-x', '-n', path, 'true'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => probe.once('exit', resolve));
  return code !== 0;
}
