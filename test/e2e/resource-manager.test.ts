import t from 'tap';
import { lstatSync, readlinkSync } from 'node:fs';
import { Sandbox, STUBBED, ip, netnsDelete, netnsWithEth1 } from '../rig/sandbox.ts';

// Stock /usr/share/heartbeat/ResourceManager, run as installed inside the
// private-root rig, drives our built executable; a failing stop reaches the
// reboot/pkill stubs, never the real ones.

const ns = `hae-rm-${process.pid}`;
const VIP = '198.18.9.1';
const failStopScript = `#!/bin/sh
# test-only resource: start and status work, stop always fails
case "$1" in
  start) touch /run/failstop.held ;;
  stop) echo "failstop: refusing to stop" >&2; exit 1 ;;
  status) if [ -e /run/failstop.held ]; then echo running; else echo stopped; exit 3; fi ;;
esac
`;

let sandbox: Sandbox;

t.before(async () => {
  await netnsWithEth1(ns, '198.18.9.2/24');
  sandbox = await Sandbox.start({
    name: `rm-${process.pid}`,
    hostname: 'node1',
    netns: ns,
    etc: {
      'ha.d/haresources': `node1 IPaddr::${VIP}/24/eth1\nnode1 failstop\n`,
      'init.d/failstop': { content: failStopScript, mode: 0o755 },
    },
  });
});

t.teardown(async () => {
  await sandbox?.destroy();
  await netnsDelete(ns);
});

t.test('every stub is in place inside, the host untouched', async (t) => {
  for (const path of STUBBED) {
    const real = await sandbox.exec('/usr/bin/realpath', [path]);
    t.match(real.stdout.trim(), /^\/usr\/s?bin\/[a-z]+$/, `${path} resolves inside /usr`);
    const head = await sandbox.exec('/usr/bin/head', ['-2', real.stdout.trim()]);
    t.match(head.stdout, /ha-resource-agents sandbox stub/, `${path} is our stub`);
  }
  t.ok(lstatSync('/sbin/reboot').isSymbolicLink() || lstatSync('/sbin/reboot').size > 1000, 'host /sbin/reboot is not a stub');
  if (lstatSync('/usr/sbin/reboot').isSymbolicLink()) t.match(readlinkSync('/usr/sbin/reboot'), /systemctl/, 'host reboot link unchanged');
  const hostname = await sandbox.exec('/bin/hostname');
  t.equal(hostname.stdout.trim(), 'node1');
});

t.test('ResourceManager status runs our IPaddr in the node', async (t) => {
  const resource = `IPaddr::${VIP}/24/eth1`;
  const before = await sandbox.resourceManager(['status', resource]);
  t.equal(before.exitCode, 3, 'VIP not on eth1: not held');
  await ip(['addr', 'add', `${VIP}/24`, 'dev', 'eth1', 'label', 'eth1:0'], ns);
  const held = await sandbox.resourceManager(['status', resource]);
  t.equal(held.exitCode, 0, `VIP on eth1: held (${held.stderr.trim()})`);
  const direct = await sandbox.exec('/etc/ha.d/resource.d/IPaddr', [`${VIP}/24/eth1`, 'status']);
  t.match(direct.stdout, /^running\b/, 'the executable ResourceManager ran says running');
  await ip(['addr', 'del', `${VIP}/24`, 'dev', 'eth1'], ns);
  const after = await sandbox.resourceManager(['status', resource]);
  t.equal(after.exitCode, 3, 'removed again: not held');
});

t.test('a stop that keeps failing reaches the stubs, not a real reboot', async (t) => {
  await sandbox.resourceManager(['takegroup', 'failstop']);
  t.equal((await sandbox.resourceManager(['status', 'failstop'])).exitCode, 0, 'failstop held after takegroup');
  await sandbox.resourceManager(['givegroup', 'failstop'], { HA_STOPRETRYMAX: '1' });
  const calls = sandbox.stubCalls().map((line) => line.replace(/^\S+ /, ''));
  t.same(calls, ['pkill -9 heartbeat', 'pkill -9 ipfail', 'pkill -9 ccm', 'reboot -nf'], 'ResourceManager called exactly the stubs');
  const haLog = sandbox.readLog('ha-log');
  t.match(haLog, /Retrying failed stop operation \[failstop\]/);
  t.match(haLog, /CRIT: Resource STOP failure\. Reboot required!/);
  t.ok(sandbox.alive, 'the node (and this machine) is still up');
});
