import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { hasLocalAddress, hasMountOn, isDrbdPrimary } from './node-state.ts';

// The safety monitors' reads, against the real thing: an address added and
// removed in a network namespace of our own (checked against `ip`), a mount
// in a mount namespace of our own, the DRBD double's state files. A process
// that is gone reads as holding nothing.

const ns = `nodestate${process.pid}`;
const work = mkdtempSync(join(tmpdir(), `node-state-${process.pid}-`));
const children: ChildProcess[] = [];
t.teardown(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await execa('ip', ['netns', 'delete', ns], { reject: false });
  rmSync(work, { recursive: true, force: true });
});

const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));

t.test('hasLocalAddress: the address on an interface of that namespace, any prefix length', async (t) => {
  await execa('ip', ['netns', 'add', ns]);
  await execa('ip', ['-n', ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1peer']);
  await execa('ip', ['-n', ns, 'link', 'set', 'eth1', 'up']);
  const inside = spawn('ip', ['netns', 'exec', ns, 'sleep', '60'], { stdio: 'ignore' });
  children.push(inside);
  // ip netns exec execs sleep in place: same pid once it has entered the namespace.
  for (let i = 0; i < 100 && (await execa('ip', ['netns', 'identify', String(inside.pid)], { reject: false })).stdout !== ns; i++) await new Promise((r) => setTimeout(r, 20));
  const ipSays = async (address: string) => (await execa('ip', ['-n', ns, '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout.includes(` ${address}/`);

  t.notOk(hasLocalAddress(inside.pid!, '198.18.4.1'), 'not there yet');
  await execa('ip', ['-n', ns, 'addr', 'add', '198.18.4.1/16', 'dev', 'eth1']);
  t.ok(await ipSays('198.18.4.1'), 'ip shows it');
  t.ok(hasLocalAddress(inside.pid!, '198.18.4.1'), 'a /16 address: seen');
  t.notOk(hasLocalAddress(inside.pid!, '198.18.4.10'), 'a longer address with the same prefix is another address');
  t.notOk(hasLocalAddress(inside.pid!, '198.18.4.2'), 'a neighbour in the subnet is not ours');
  t.notOk(hasLocalAddress(process.pid, '198.18.4.1'), 'not in our own (root) namespace');
  await execa('ip', ['-n', ns, 'addr', 'del', '198.18.4.1/16', 'dev', 'eth1']);
  t.notOk(await ipSays('198.18.4.1'), 'ip shows it gone');
  t.notOk(hasLocalAddress(inside.pid!, '198.18.4.1'), 'removed: gone');
  inside.kill('SIGKILL');
  await exited(inside);
  t.notOk(hasLocalAddress(inside.pid!, '198.18.4.1'), 'a process that is gone holds nothing');
});

t.test('hasMountOn: a mount point in that mount namespace only, matched whole, spaces included', async (t) => {
  const point = join(work, 'da ta');
  mkdirSync(point);
  mkdirSync(`${point}2`);
  const inside = spawn('unshare', ['--mount', '--propagation', 'slave', '--', 'sh', '-c', 'mount -t tmpfs node-state "$1" && echo ready && exec sleep 60', 'sh', point], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(inside);
  await new Promise((resolve) => inside.stdout!.once('data', resolve));
  t.ok(hasMountOn(inside.pid!, point), 'mounted there');
  t.notOk(hasMountOn(process.pid, point), 'not in our namespace');
  t.notOk(hasMountOn(inside.pid!, `${point}2`), 'another directory sharing the prefix is not it');
  t.notOk(hasMountOn(inside.pid!, work), 'nor its parent');
  inside.kill('SIGKILL');
  await exited(inside);
  t.notOk(hasMountOn(inside.pid!, point), 'a process that is gone holds nothing');
});

t.test('isDrbdPrimary: the double\'s role file, unless its disk is down', async (t) => {
  const state = join(work, 'drbd');
  mkdirSync(join(state, 'res', 'data'), { recursive: true });
  t.notOk(isDrbdPrimary(state, 'master1'), 'no role yet');
  writeFileSync(join(state, 'res', 'data', 'role.master1'), 'Primary\n');
  writeFileSync(join(state, 'res', 'data', 'role.master2'), 'Secondary\n');
  t.ok(isDrbdPrimary(state, 'master1'));
  t.notOk(isDrbdPrimary(state, 'master2'));
  writeFileSync(join(state, 'res', 'data', 'down-at.master1'), `${Date.now()}\n`);
  t.notOk(isDrbdPrimary(state, 'master1'), 'down: not Primary');
});
