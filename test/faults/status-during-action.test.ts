import t, { type Test } from 'tap';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockPath } from '../../lib/system/lock.ts';
import { pollUntil } from '../../lib/system/wait.ts';
import { agentPath } from '../rig/agents.ts';
import { DrbdDouble } from '../rig/drbd-double.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { destroySandboxes, makeSandbox } from '../rig/mariadb.ts';

// Issue 15, item 4: `status` while a start or stop of the same resource is
// under way waits on the per-resource lock and then tells the truth (the
// state the action left), never a half-way state. Each action is made to
// take a while by real means (a DRBD peer still Primary, a holder that
// ignores SIGTERM, a server starting up); status is started only once the
// action holds the lock.

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const work = mkdtempSync(join(tmpdir(), `faults-status-${process.pid}-`));
const scratch = makeScratchDir('faults-status');
let image: LoopImage | undefined;
t.teardown(async () => {
  await destroySandboxes();
  if (image) await destroyLoopImage(image);
  await removeScratchDir(scratch);
  rmSync(work, { recursive: true, force: true });
});

interface Finished {
  exitCode: number;
  stdout: string;
  stderr: string;
  at: number;
}

function launch(argv: string[], env: Record<string, string>): Promise<Finished> {
  return execa(argv[0]!, argv.slice(1), { env: { PATH, ...env }, extendEnv: false, reject: false, timeout: 60_000 }).then((r) => ({
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout).trim(),
    stderr: String(r.stderr),
    at: Date.now(),
  }));
}

const lockHeld = async (path: string) => (await execa('flock', ['-n', '-x', path, 'true'], { reject: false })).exitCode !== 0;

/** Starts the action, waits until it holds the lock, runs status, and checks status ended after the action with `expected`. */
async function statusDuring(t: Test, action: string[], status: string[], env: Record<string, string>, lock: string, expected: { exitCode: number; stdout: RegExp }) {
  const running = launch(action, env);
  const held = await pollUntil(async () => ((await lockHeld(lock)) ? true : undefined), { intervalMs: 5, timeoutMs: 10_000 });
  t.ok(held, 'the action holds the lock');
  const asked = Date.now();
  const answer = await launch(status, env);
  const done = await running;
  t.equal(done.exitCode, 0, `the action succeeded: ${done.stderr}`);
  t.ok(answer.at >= done.at - 50, `status answered only after the action ended (status +${answer.at - asked} ms, action ended +${done.at - asked} ms)`);
  t.equal(answer.exitCode, expected.exitCode, `status exit ${expected.exitCode}`);
  t.match(answer.stdout, expected.stdout, `status says ${answer.stdout}`);
}

t.test('drbddisk: status during a start that waits for the peer to let go', async (t) => {
  const drbd = DrbdDouble.create('8.4', `fstat-drbd-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Primary').nodeGoesAway('data', 'master2', 1500);
  const env = { ...drbd.env('master1'), HA_RSCTMP: join(work, 'drbd') };
  mkdirSync(env.HA_RSCTMP);
  await statusDuring(t, [agentPath('drbddisk'), 'data', 'start'], [agentPath('drbddisk'), 'data', 'status'], env, lockPath(env, 'drbddisk', 'data'), { exitCode: 0, stdout: /^running \(Primary\)$/ });
});

t.test('Filesystem: status during a stop that waits for a holder to die', async (t) => {
  image = await createLoopImage(scratch, 'ext4', 'fstat');
  const dir = join(scratch, 'mnt');
  const env = { HA_RSCTMP: join(work, 'fs') };
  mkdirSync(env.HA_RSCTMP);
  const args = [agentPath('Filesystem'), image.device, dir, 'ext4'];
  t.equal((await launch([...args, 'start'], env)).exitCode, 0);
  // Ignores SIGTERM: stop needs its TERM wait, then SIGKILL.
  const holder = spawn('python3', ['-c', 'import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(1)'], { cwd: dir, stdio: 'ignore' });
  t.teardown(() => {
    holder.kill('SIGKILL');
  });
  const ignoring = await pollUntil(() => {
    try {
      const sigIgn = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${holder.pid}/status`, 'utf8'))?.[1];
      return sigIgn && (BigInt(`0x${sigIgn}`) & (1n << 14n)) !== 0n ? true : undefined; // bit 14 = SIGTERM (15)
    } catch {
      return undefined;
    }
  }, { intervalMs: 10, timeoutMs: 10_000 });
  t.ok(ignoring, 'the holder ignores SIGTERM');
  await statusDuring(t, [...args, 'stop'], [...args, 'status'], env, lockPath(env, 'Filesystem', dir, dir), { exitCode: 3, stdout: /^stopped/ });
});

t.test('mysqld: status during a start that waits for the server to answer', async (t) => {
  const box = await makeSandbox('fstat');
  const env = { HA_RSCTMP: join(box.root, 'rsctmp') };
  const args = [agentPath('mysqld'), box.config];
  await statusDuring(t, [...args, 'start'], [...args, 'status'], env, lockPath(env, 'mysqld', `${box.config}:`), { exitCode: 0, stdout: /^running \(pid \d+ on / });
  t.equal((await launch([...args, 'stop'], env)).exitCode, 0);
});
