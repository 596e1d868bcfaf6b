import t, { type Test } from 'tap';
import { execa } from 'execa';
import { chmodSync, cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lockPath } from '../../lib/system/lock.ts';
import { AGENTS_DIR, runAgent } from '../rig/agents.ts';
import { DrbdDouble } from '../rig/drbd-double.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { destroySandboxes, makeSandbox } from '../rig/mariadb.ts';
import { createLan, type Lan } from '../rig/netns.ts';

// Issue 15: an operator without root asks `status`. The answer comes where
// it is readable (netlink, mountinfo, /proc/drbd or drbdadm), or the agent
// says in words that it needs root; never "internal error". The built
// agents run as the real user nobody (setpriv), from a copy nobody can reach.

const scratch = makeScratchDir('status-nonroot');
chmodSync(scratch, 0o755);
const agents = join(scratch, 'agents');
cpSync(AGENTS_DIR, agents, { recursive: true, verbatimSymlinks: true });
const images: LoopImage[] = [];
let lan: Lan | undefined;
t.teardown(async () => {
  await lan?.destroy();
  await destroySandboxes();
  for (const image of images) await destroyLoopImage(image);
  await removeScratchDir(scratch);
});

const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Runs agents/<name> as nobody (inside `netns` when given: ip netns exec runs as root, then drops). */
async function asNobody(name: string, args: string[], env: Record<string, string> = {}, netns?: string) {
  const command = [...AS_NOBODY, join(agents, name), ...args];
  const [file, argv] = netns ? ['ip', ['netns', 'exec', netns, ...command]] : [command[0]!, command.slice(1)];
  const r = await execa(file, argv, { env: { PATH, ...env }, extendEnv: false, reject: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function noInternalError(t: Test, r: { stderr: string }, what: string) {
  t.notMatch(r.stderr, /internal error|EACCES:|at .*\.ts:\d+/, `${what}: no internal error or stack (${r.stderr.trim()})`);
}

t.test('IPaddr: status reads netlink without root; the lock is waited on read-only, or absent', async (t) => {
  lan = await createLan('nroot', [{ name: 'a', addresses: ['198.18.0.1/24'] }]);
  const ns = lan.nodes.a!.ns;
  // A root-owned lock directory nobody cannot write, as /run/resource-agents is.
  const rsctmp = join(scratch, 'rsctmp');
  mkdirSync(rsctmp, { mode: 0o755 });
  const env = { HA_RSCTMP: rsctmp };
  const vip = '198.18.0.50';

  let r = await asNobody('IPaddr', [`${vip}/24/eth1`, 'status'], env, ns);
  t.equal(r.exitCode, 3, `stopped, exit 3 (before the fix: internal error EACCES, exit 4): ${r.stderr}`);
  t.equal(r.stdout.trim(), 'stopped');
  noInternalError(t, r, 'no lock directory yet');

  r = await runAgent('IPaddr', [`${vip}/24/eth1`, 'start'], { env: { ...env, HA_RSCTMP: rsctmp }, netns: ns });
  t.equal(r.exitCode, 0, `root start: ${r.stderr}`);
  const lock = lockPath(env, 'IPaddr', vip);
  t.equal(statSync(lock).uid, 0, 'the lock file exists and is root\'s');
  r = await asNobody('IPaddr', [`${vip}/24/eth1`, 'status'], env, ns);
  t.equal(r.exitCode, 0, `running, exit 0: ${r.stderr}`);
  t.equal(r.stdout.trim(), `running (${vip} on eth1:0)`);

  // A root call in progress holds the lock: nobody's status waits for it (read-only flock), up to its deadline.
  const holder = execa('flock', ['-x', lock, 'sleep', '30'], { reject: false });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    r = await asNobody('IPaddr', [`${vip}/24/eth1`, 'status'], { ...env, OCF_RESKEY_CRM_meta_timeout: '1500' }, ns);
    t.equal(r.exitCode, 4, 'status waits on the held lock and gives up at its deadline: LSB 4, unknown');
    t.match(r.stderr, /another IPaddr call .*still holds the lock/, 'says so in words');
  } finally {
    holder.kill('SIGKILL');
    await holder;
  }
  r = await runAgent('IPaddr', [`${vip}/24/eth1`, 'stop'], { env, netns: ns });
  t.equal(r.exitCode, 0, `root stop: ${r.stderr}`);
  r = await asNobody('IPaddr', [`${vip}/24/eth1`, 'status'], env, ns);
  t.equal(r.exitCode, 3, 'stopped again');
});

t.test('Filesystem: status reads mountinfo without root', async (t) => {
  const img = await createLoopImage(scratch, 'ext4', 'nroot');
  images.push(img);
  const dir = join(scratch, 'mnt');
  const rsctmp = join(scratch, 'rsctmp-fs');
  mkdirSync(rsctmp, { mode: 0o700 });
  const env = { HA_RSCTMP: rsctmp };
  let r = await asNobody('Filesystem', [img.device, dir, 'ext4', 'status'], env);
  t.equal(r.exitCode, 3, `stopped: ${r.stderr}`);
  noInternalError(t, r, 'lock directory unreadable');
  r = await runAgent('Filesystem', [img.device, dir, 'ext4', 'start'], { env });
  t.equal(r.exitCode, 0, r.stderr);
  r = await asNobody('Filesystem', [img.device, dir, 'ext4', 'status'], env);
  t.equal(r.exitCode, 0, `running: ${r.stderr}`);
  t.equal(r.stdout.trim(), `running (${img.device} on ${dir})`);
  r = await asNobody('Filesystem', [img.device, dir, 'ext4', 'stop'], env);
  t.equal(r.exitCode, 4, 'stop without root: exit 4 (insufficient privileges)');
  t.match(r.stderr, /needs root/, `says it needs root: ${r.stderr.trim()}`);
  noInternalError(t, r, 'stop');
  r = await runAgent('Filesystem', [img.device, dir, 'ext4', 'stop'], { env });
  t.equal(r.exitCode, 0, r.stderr);
});

t.test('drbddisk: status without root through drbdadm (the double)', async (t) => {
  const drbd = DrbdDouble.create('8.4', `drbd-nroot-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  chmodSync(drbd.stateDir, 0o755);
  drbd.setRole('data', 'master1', 'Primary').setRole('data', 'master2', 'Secondary');
  const env = { ...drbd.env('master1'), HA_RSCTMP: join(scratch, 'rsctmp-fs') };
  delete (env as Record<string, string>).DRBD_DOUBLE_LOG; // nobody may not write the call log
  const r = await asNobody('drbddisk', ['data', 'status'], env);
  t.equal(r.exitCode, 0, r.stderr);
  t.equal(r.stdout.trim(), 'running (Primary)');
  noInternalError(t, r, 'drbddisk');
});

t.test('mysqld: another user\'s server cannot be told apart without root: says it needs root, exit 4', async (t) => {
  const box = await makeSandbox('nroot');
  let r = await runAgent('mysqld', [box.config, 'start']);
  t.equal(r.exitCode, 0, `root start: ${r.stderr}`);
  t.ok(readdirSync(box.runDir).includes('mysqld.sock'));
  r = await asNobody('mysqld', [box.config, 'status'], { HA_RSCTMP: join(scratch, 'rsctmp-fs') });
  t.equal(r.exitCode, 4, 'LSB 4: status unknown');
  t.equal(r.stdout, '', 'no guess on stdout (not "stopped")');
  t.match(r.stderr, /^mysqld: status needs root here: mysqld pid \d+/, r.stderr);
  noInternalError(t, r, 'mysqld');
  r = await runAgent('mysqld', [box.config, 'stop']);
  t.equal(r.exitCode, 0, r.stderr);
});
