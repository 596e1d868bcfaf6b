import t from 'tap';
import { Sandbox } from '../rig/sandbox.ts';
import { type Lan, createLan } from '../rig/netns.ts';

// Through the real stock ResourceManager (in the private-root rig, stubs
// over reboot/pkill): haresources entries as users write them, including
// IPv6, which ResourceManager splits at every "::".

const V6 = 'IPaddr::fd00::10/64/eth1';
const V6_EXPANDED = 'IPaddr::fd00:0:0:0:0:0:0:11/64/eth1';
const V4 = 'IPaddr::198.18.0.100/24/eth1';

let lan: Lan;
let node: Sandbox;

t.before(async () => {
  lan = await createLan('iprm', [{ name: 'a', addresses: ['198.18.0.1/24', 'fd00::1/64'] }]);
  node = await Sandbox.start({
    name: `iprm-${process.pid}`,
    hostname: 'node1',
    netns: lan.nodes.a!.ns,
    etc: { 'ha.d/haresources': `node1 ${V4}\nnode1 ${V6}\nnode1 ${V6_EXPANDED}\n` },
  });
});
t.teardown(async () => {
  await node?.destroy();
  await lan?.destroy();
});

async function addresses(): Promise<string[]> {
  const { stdout } = await lan.exec('a', 'ip', ['-j', 'addr', 'show', 'dev', 'eth1']);
  return (JSON.parse(stdout)[0].addr_info as { local: string; prefixlen: number; label?: string }[]).map((a) => `${a.local}/${a.prefixlen}${a.label ? ` ${a.label}` : ''}`);
}

for (const [resource, address] of [[V4, '198.18.0.100/24 eth1:0'], [V6, 'fd00::10/64'], [V6_EXPANDED, 'fd00::11/64']] as const) {
  t.test(`${resource}: takegroup, status, givegroup`, async (t) => {
    t.equal((await node.resourceManager(['status', resource])).exitCode, 3, 'not held at first');
    await node.resourceManager(['takegroup', resource]);
    t.ok((await addresses()).includes(address), `${address} on eth1 after takegroup`);
    const held = await node.resourceManager(['status', resource]);
    t.equal(held.exitCode, 0, 'ResourceManager status: held');
    await node.resourceManager(['givegroup', resource]);
    t.notOk((await addresses()).some((a) => a.startsWith(address.split('/')[0]! + '/')), 'removed after givegroup');
    t.equal((await node.resourceManager(['status', resource])).exitCode, 3, 'not held after givegroup');
    const log = node.readLog('ha-debug');
    t.notMatch(log, /usage|ERROR/i, 'no usage message or error in the debug log');
    t.same(node.stubCalls(), [], 'no reboot/pkill stub was called');
  });
}
