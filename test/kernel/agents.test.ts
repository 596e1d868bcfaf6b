import t, { type Test } from 'tap';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockPath } from '../../lib/system/lock.ts';
import { pollUntil } from '../../lib/system/wait.ts';
import { AGENTS_DIR, runAgent, runOcf } from '../rig/agents.ts';
import { DrbdDouble } from '../rig/drbd-double.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { destroySandboxes, makeSandbox, type MariadbSandbox, sql } from '../rig/mariadb.ts';
import { KERNEL_TABLES, type KernelRelease, oldKernelNode, underKernel } from '../rig/old-kernel.ts';
import { netnsDelete, netnsWithEth1 } from '../rig/sandbox.ts';

// Issue 21, item 3: the agents and `ha-agent` on older kernels' syscall
// tables (test/rig/old-kernel.c). Every agent's start, status, monitor and
// stop, the per-resource lock, `ha-agent check` and `ha-agent status` run
// with the agent process and everything it starts (ip, arping, mount,
// fsck, drbdadm, mariadbd, ResourceManager's shell) under the table.
// 3.10 is CentOS 7's kernel; 4.9, 4.15 and 4.19 are Debian 9, Ubuntu 18.04
// and Debian 10. Only the table is simulated (see README, Platforms).

const RELEASES = Object.keys(KERNEL_TABLES) as KernelRelease[];
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ns = `hak-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), `kernel-agents-${process.pid}-`));
const scratch = makeScratchDir('kernel-agents');
let image: LoopImage | undefined;
let box: MariadbSandbox | undefined;

t.before(async () => {
  await netnsWithEth1(ns, '198.18.61.2/24');
  image = await createLoopImage(scratch, 'ext4', 'oldkern');
  box = await makeSandbox('oldkern');
});
t.teardown(async () => {
  await destroySandboxes();
  if (image) await destroyLoopImage(image);
  await removeScratchDir(scratch);
  await netnsDelete(ns);
  rmSync(work, { recursive: true, force: true });
});

/** status (v1, LSB), monitor (OCF) when stopped, start, both again when started, stop, both again. */
async function lifecycle(t: Test, what: string, v1: (action: string) => ReturnType<typeof runAgent>, ocf: (action: string) => ReturnType<typeof runAgent>, running: RegExp, check?: () => Promise<void>) {
  let r = await v1('status');
  t.equal(r.exitCode, 3, `${what}: status when stopped exits 3 (${r.stderr})`);
  t.match(r.stdout, /^stopped/);
  t.equal((await ocf('monitor')).exitCode, 7, `${what}: monitor when stopped exits 7`);
  r = await v1('start');
  t.equal(r.exitCode, 0, `${what}: start (${r.stderr})`);
  r = await v1('status');
  t.equal(r.exitCode, 0, `${what}: status when started (${r.stderr})`);
  t.match(r.stdout, running);
  r = await ocf('monitor');
  t.equal(r.exitCode, 0, `${what}: monitor when started (${r.stderr})`);
  await check?.();
  r = await ocf('stop');
  t.equal(r.exitCode, 0, `${what}: OCF stop (${r.stderr})`);
  r = await v1('status');
  t.equal(r.exitCode, 3, `${what}: status after stop exits 3`);
  t.equal((await v1('stop')).exitCode, 0, `${what}: stop when stopped`);
}

RELEASES.forEach((release, i) => {
  t.test(`${release}'s syscall table (ENOSYS from ${KERNEL_TABLES[release]})`, async (t) => {
    const wrap = await underKernel(release, []);
    const env = { HA_RSCTMP: join(work, release) };
    mkdirSync(env.HA_RSCTMP);

    const vip = `198.18.61.${10 + i}`;
    await lifecycle(
      t,
      'IPaddr',
      (action) => runAgent('IPaddr', [`${vip}/24/eth1`, action], { netns: ns, env, wrap }),
      (action) => runOcf('IPaddr', action, { ip: vip, nic: 'eth1', cidr_netmask: '24' }, { netns: ns, env, wrap }),
      new RegExp(`^running \\(${vip.replace(/\./g, '\\.')} on eth1:0\\)`),
    );

    const dir = join(scratch, `mnt-${release}`);
    const fs = [image!.device, dir, 'ext4'];
    await lifecycle(
      t,
      'Filesystem',
      (action) => runAgent('Filesystem', [...fs, action], { env, wrap }),
      (action) => runOcf('Filesystem', action, { device: image!.device, directory: dir, fstype: 'ext4' }, { env, wrap }),
      /^running /,
    );

    const drbd = DrbdDouble.create('8.4', `kernel-drbd-${process.pid}-`).defineResource('data');
    t.teardown(() => drbd.cleanup());
    drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Secondary');
    const drbdEnv = { ...env, ...drbd.env('master1') };
    await lifecycle(
      t,
      'drbddisk',
      (action) => runAgent('drbddisk', ['data', action], { env: drbdEnv, wrap }),
      (action) => runOcf('drbddisk', action, { drbd_resource: 'data' }, { env: drbdEnv, wrap }),
      /^running \(Primary\)$/,
      async () => void t.equal(drbd.role('data', 'master1'), 'Primary', 'drbddisk: the double is Primary'),
    );
    t.equal(drbd.role('data', 'master1'), 'Secondary', 'drbddisk: Secondary after stop');

    await lifecycle(
      t,
      'mysqld',
      (action) => runAgent('mysqld', [box!.config, action], { env, wrap }),
      (action) => runOcf('mysqld', action, box!.ocfParams, { env, wrap }),
      /^running \(pid \d+ on /,
      async () => void t.equal((await sql(box!, 'SELECT 1')).trim(), '1', 'mysqld: the server (started under the table too) answers'),
    );
  });
});

t.test("3.10's table: the lock (status during a start of the same resource waits, then tells the truth)", async (t) => {
  const drbd = DrbdDouble.create('8.4', `kernel-lock-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  // The peer is Primary until it goes away 3 s from now: start waits for it, holding the lock
  // (long enough for a start on a loaded machine to be seen holding it).
  drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Primary').nodeGoesAway('data', 'master2', 3000);
  const env = { PATH, ...drbd.env('master1'), HA_RSCTMP: join(work, 'lock') };
  mkdirSync(env.HA_RSCTMP);
  const launch = async (action: string) => {
    const argv = await underKernel('3.10', [join(AGENTS_DIR, 'drbddisk'), 'data', action]);
    const r = await execa(argv[0]!, argv.slice(1), { env, extendEnv: false, reject: false, timeout: 60_000 });
    return { exitCode: r.exitCode, stdout: String(r.stdout).trim(), stderr: String(r.stderr), at: Date.now() };
  };
  const starting = launch('start');
  const lock = lockPath(env, 'drbddisk', 'data');
  const held = await pollUntil(async () => ((await execa('flock', ['-n', '-x', lock, 'true'], { reject: false })).exitCode !== 0 ? true : undefined), { intervalMs: 5, timeoutMs: 10_000 });
  t.ok(held, 'start holds the lock');
  const status = await launch('status');
  const start = await starting;
  t.equal(start.exitCode, 0, `start: ${start.stderr}`);
  t.ok(status.at >= start.at - 50, 'status answered only after start ended');
  t.equal(status.exitCode, 0);
  t.equal(status.stdout, 'running (Primary)');
  t.equal((await launch('stop')).exitCode, 0);
});

t.test("3.10's table: ha-agent check and status, ResourceManager's takegroup and givegroup, in a node's private root", async (t) => {
  const nodeNs = `hak-n-${process.pid}`;
  const VIP = '198.18.62.1';
  const group = `IPaddr::${VIP}/24/eth1`;
  await netnsWithEth1(nodeNs, '198.18.62.2/24');
  t.teardown(() => netnsDelete(nodeNs));
  const { node, prefix: old } = await oldKernelNode(`kern-${process.pid}`, nodeNs, `master1 ${group}\n`);
  t.teardown(() => node.destroy());
  const haAgent = '/etc/ha.d/resource.d/ha-agent';

  const seccomp = await node.exec(old[0]!, [...old.slice(1), '/bin/grep', '^Seccomp:', '/proc/self/status']);
  t.match(seccomp.stdout, /^Seccomp:\s+2$/, 'the filter works inside the node');

  const host = await node.exec(haAgent, ['check', '--json']);
  const simulated = await node.exec(old[0]!, [...old.slice(1), haAgent, 'check', '--json']);
  t.equal(simulated.exitCode, host.exitCode, `check exits as on the host (${simulated.stderr})`);
  t.same(JSON.parse(simulated.stdout), JSON.parse(host.stdout), 'check finds the same as on the host');

  const status = async () => {
    const r = await node.exec(old[0]!, [...old.slice(1), haAgent, 'status', '--json']);
    t.equal(r.stderr, '', 'status says nothing on stderr');
    return JSON.parse(r.stdout) as { ok: boolean; groups: { verdict: string }[] };
  };
  t.match(await status(), { ok: true, groups: [{ verdict: 'NONE' }] }, 'released: NONE');
  const take = await node.exec(old[0]!, [...old.slice(1), '/usr/share/heartbeat/ResourceManager', 'takegroup', group], {
    env: { HA_LOGFILE: '/var/log/ha-log', HA_DEBUGLOG: '/var/log/ha-debug', HA_CURHOST: 'master1' },
  });
  t.equal(take.exitCode, 0, `takegroup: ${take.stderr}`);
  t.match(await status(), { ok: true, groups: [{ verdict: 'ALL' }] }, 'held: ALL');
  const give = await node.exec(old[0]!, [...old.slice(1), '/usr/share/heartbeat/ResourceManager', 'givegroup', group], {
    env: { HA_LOGFILE: '/var/log/ha-log', HA_DEBUGLOG: '/var/log/ha-debug', HA_CURHOST: 'master1' },
  });
  t.equal(give.exitCode, 0, `givegroup: ${give.stderr}`);
  t.match(await status(), { ok: true, groups: [{ verdict: 'NONE' }] }, 'released again: NONE');
});
