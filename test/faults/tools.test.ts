import t from 'tap';
import { execa } from 'execa';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentPath, runAgent, runOcf } from '../rig/agents.ts';
import { DrbdDouble } from '../rig/drbd-double.ts';
import { pidsWithArgs } from '../rig/faults.ts';
import { pollUntil } from '../../lib/system/wait.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, mountsUnder, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { destroySandboxes, makeSandbox, serverPidsOn } from '../rig/mariadb.ts';
import { createLan, type Lan } from '../rig/netns.ts';

// Issue 15, item 4: a tool the agent needs is missing (exit 5, named), or
// hangs (bounded by the action's deadline, named, nothing of it left
// running). Missing tools come from PATH or the overrides the agents honour
// (DRBDADM, HA_BIN, binary); hanging ones are scripts that fork a sleep, as
// a wrapper would, placed first in PATH or named by DRBDADM.

const work = mkdtempSync(join(tmpdir(), `faults-tools-${process.pid}-`));
chmodSync(work, 0o755);
const scratch = makeScratchDir('faults-tools');
const images: LoopImage[] = [];
let lan: Lan | undefined;
t.teardown(async () => {
  await lan?.destroy();
  await destroySandboxes();
  for (const image of images) await destroyLoopImage(image);
  await removeScratchDir(scratch);
  rmSync(work, { recursive: true, force: true });
});

const EMPTY_PATH = join(work, 'empty-path');
mkdirSync(EMPTY_PATH);
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A directory with one script, `name`, that starts a uniquely recognisable sleep and waits for it (a hung tool with a child). */
function hangingTool(name: string): { dir: string; path: string; marker: string } {
  const dir = join(work, `hang-${name}`);
  mkdirSync(dir);
  const marker = `${1000 + Math.floor(Math.random() * 1000)}.${process.pid}`;
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nsleep ${marker}\n`);
  chmodSync(path, 0o755);
  return { dir, path, marker };
}

const oneLine = (stderr: string) => stderr.split('\n').filter((l) => l && !/ (INFO|WARNING|DEBUG): /.test(l));

t.test('missing tools: exit 5 naming the tool, nothing changed', async (t) => {
  lan = await createLan('ftool', [{ name: 'a', addresses: ['198.18.0.1/24'] }]);
  const ns = lan.nodes.a!.ns;
  const rsctmp = join(work, 'rsctmp');
  mkdirSync(rsctmp);
  const addresses = async () => (await execa('ip', ['-n', ns, '-4', '-o', 'addr', 'show'])).stdout;
  const before = await addresses();

  // ip netns exec needs ip itself: the agent gets the empty PATH through env(1).
  const withoutIp = await execa('ip', ['netns', 'exec', ns, 'env', '-i', `PATH=${EMPTY_PATH}`, `HA_RSCTMP=${rsctmp}`, agentPath('IPaddr'), '198.18.0.60/24/eth1', 'start'], { reject: false });
  let r = { exitCode: withoutIp.exitCode ?? -1, stderr: String(withoutIp.stderr) };
  t.equal(r.exitCode, 5, 'IPaddr without ip: 5');
  t.match(oneLine(r.stderr), [/^IPaddr: ip not found/], r.stderr);
  r = await runAgent('IPaddr', ['198.18.0.60/24/eth1', 'start'], { netns: ns, env: { PATH, HA_RSCTMP: rsctmp, HA_BIN: join(work, 'no-heartbeat-bin') } });
  t.equal(r.exitCode, 5, 'IPaddr without send_arp: 5');
  t.match(oneLine(r.stderr), [/send_arp not found/], r.stderr);
  t.equal(await addresses(), before, 'no address added by either');

  const img = await createLoopImage(scratch, 'ext4', 'ftool');
  images.push(img);
  const dir = join(scratch, 'mnt');
  r = await runAgent('Filesystem', [img.device, dir, 'ext4', 'start'], { env: { PATH: EMPTY_PATH, HA_RSCTMP: rsctmp } });
  t.equal(r.exitCode, 5, 'Filesystem without mount: 5');
  t.match(oneLine(r.stderr), [/^Filesystem: mount not found/], r.stderr);
  t.same(mountsUnder(dir), [], 'nothing mounted');

  const drbd = DrbdDouble.create('8.4', `ftool-drbd-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Secondary');
  r = await runAgent('drbddisk', ['data', 'start'], { env: { ...drbd.env('master1'), PATH, HA_RSCTMP: rsctmp, DRBDADM: join(work, 'no-drbd/drbdadm') } });
  t.equal(r.exitCode, 5, 'drbddisk without drbdadm: 5');
  t.match(oneLine(r.stderr), [/^drbddisk: drbdadm not found: .*no-drbd\/drbdadm/], r.stderr);
  t.equal(drbd.role('data', 'master1'), 'Secondary', 'not promoted');

  const box = await makeSandbox('ftool');
  r = await runOcf('mysqld', 'start', { ...box.ocfParams, binary: join(work, 'no-mysql/mariadbd') }, { env: { HA_RSCTMP: rsctmp } });
  t.equal(r.exitCode, 5, 'mysqld without mariadbd: 5');
  t.match(oneLine(r.stderr), [/^ocf-exit-reason:server binary .*no-mysql\/mariadbd not found/], r.stderr);
  t.same(serverPidsOn(box.datadir), [], 'no server');
});

t.test('hanging tools: bounded by the action\'s deadline, named, nothing left running', async (t) => {
  const rsctmp = join(work, 'rsctmp-hang');
  mkdirSync(rsctmp);
  const TIMEOUT = '3000';

  const drbdadm = hangingTool('drbdadm');
  const drbd = DrbdDouble.create('8.4', `fhang-drbd-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Secondary');
  for (const action of ['start', 'stop']) {
    const began = Date.now();
    const r = await runAgent('drbddisk', ['data', action], { env: { ...drbd.env('master1'), PATH, HA_RSCTMP: rsctmp, DRBDADM: drbdadm.path, OCF_RESKEY_CRM_meta_timeout: TIMEOUT } });
    const took = Date.now() - began;
    t.equal(r.exitCode, 1, `drbddisk ${action} with a drbdadm that never returns: fails`);
    t.match(oneLine(r.stderr), [new RegExp(`^drbddisk: ${drbdadm.path} .*did not finish within \\d+ ms`)], r.stderr);
    t.ok(took < Number(TIMEOUT) + 1500, `returned within the action's timeout (${took} ms)`);
    t.same(pidsWithArgs('sleep', drbdadm.marker), [], 'the hung drbdadm and its child are gone');
  }

  const img = await createLoopImage(scratch, 'ext4', 'fhang');
  images.push(img);
  const dir = join(scratch, 'hang-mnt');
  const mount = hangingTool('mount');
  const began = Date.now();
  const r = await runAgent('Filesystem', [img.device, dir, 'ext4', 'start'], { env: { PATH: `${mount.dir}:${PATH}`, HA_RSCTMP: rsctmp, OCF_RESKEY_CRM_meta_timeout: TIMEOUT } });
  const took = Date.now() - began;
  t.equal(r.exitCode, 1, 'Filesystem start with a mount that blocks: fails');
  t.match(oneLine(r.stderr), [/^Filesystem: mount -t ext4 .* did not finish within \d+ ms/], r.stderr);
  t.ok(took < Number(TIMEOUT) + 1500, `returned within the action's timeout (${took} ms)`);
  t.same(pidsWithArgs('sleep', mount.marker), [], 'the hung mount and its child are gone');
  t.same(mountsUnder(dir), [], 'nothing mounted');
});

t.test('a cluster manager kills the agent\'s process group on its timeout while a tool hangs: the tool goes with it', async (t) => {
  const drbdadm = hangingTool('drbdadm-group');
  const drbd = DrbdDouble.create('8.4', `fgroup-drbd-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Secondary');
  const rsctmp = join(work, 'rsctmp-group');
  mkdirSync(rsctmp);
  // Its own process group, as Pacemaker starts agents (and kills the group with SIGKILL on a timeout).
  const agent = execa(agentPath('drbddisk'), ['data', 'start'], { env: { ...drbd.env('master1'), PATH, HA_RSCTMP: rsctmp, DRBDADM: drbdadm.path }, extendEnv: false, reject: false, detached: true });
  const hung = await pollUntil(() => (pidsWithArgs('sleep', drbdadm.marker).length ? true : undefined), { intervalMs: 10, timeoutMs: 10_000 });
  t.ok(hung, 'drbdadm hangs');
  process.kill(-agent.pid!, 'SIGKILL');
  const r = await agent;
  t.equal(r.signal, 'SIGKILL', 'the agent is gone');
  const gone = await pollUntil(() => (pidsWithArgs('sleep', drbdadm.marker).length ? undefined : true), { intervalMs: 10, timeoutMs: 2000 });
  t.ok(gone, 'the hung drbdadm and its child are gone: they stayed in the agent\'s process group');
});
