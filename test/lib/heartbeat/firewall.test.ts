import t from 'tap';
import { readFileSync } from 'node:fs';
import { iptablesBlocking, nftBlocking, readFirewall } from '../../../lib/heartbeat/firewall.ts';

// Rulesets captured from nft 1.0.6 and iptables 1.8.9 (nf_tables backend) in a scratch network namespace.
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/firewall/${name}`, import.meta.url), 'utf8');

t.test('nft: a drop of udp 694 on eth2, after accepts for lo, established and nothing about udp', async (t) => {
  const json = fixture('nft-drop-694-eth2.json');
  t.same(nftBlocking(json, 694, ['eth2']), [{ where: 'nftables inet filter input', rule: 'udp dport 694 on eth2 drop', iface: 'eth2' }]);
  t.same(nftBlocking(json, 695, ['eth2']).length, 1, 'a set of ports');
  t.same(nftBlocking(json, 694, ['eth1']), [], 'the rule is limited to eth2');
  t.same(nftBlocking(json, 696, ['eth2']), [], 'another port');
});

t.test('nft: policy drop is fine when a rule accepts the port, not otherwise', async (t) => {
  t.same(nftBlocking(fixture('nft-policy-drop-694-accepted.json'), 694, ['eth1']), []);
  t.same(nftBlocking(fixture('nft-policy-drop-694-accepted.json'), 695, ['eth1']), [{ where: 'nftables inet filter input', rule: 'policy drop, no rule accepts udp port 695' }]);
  t.same(nftBlocking(fixture('nft-from-iptables-policy-drop.json'), 694, ['eth1']), [{ where: 'nftables ip filter INPUT', rule: 'policy drop, no rule accepts udp port 694' }], 'iptables-nft\'s chains seen through nft');
});

t.test('iptables-save: a REJECT of a port range, a DROP on another interface, policy DROP', async (t) => {
  t.same(iptablesBlocking(fixture('iptables-save-reject-range.txt'), 694, ['eth1']), [
    { where: 'iptables filter INPUT', rule: '-A INPUT -p udp -m multiport --dports 690:700 -j REJECT --reject-with icmp-port-unreachable', iface: undefined },
  ]);
  t.same(iptablesBlocking(fixture('iptables-save-reject-range.txt'), 701, ['eth9']), [], 'outside the range, and eth9 drops only 694');
  t.same(iptablesBlocking(fixture('iptables-save-reject-range.txt'), 694, ['eth9']).map((b) => b.rule), ['-A INPUT -p udp -m multiport --dports 690:700 -j REJECT --reject-with icmp-port-unreachable'], 'the first matching rule of the chain decides');
  t.same(iptablesBlocking(fixture('iptables-save-policy-drop.txt'), 694, ['eth1']), [{ where: 'iptables filter INPUT', rule: ':INPUT DROP (policy), no rule accepts udp port 694' }]);
});

t.test('readFirewall: not root, nothing installed, a failing tool, iptables-nft\'s chains counted once (in iptables\' words)', async (t) => {
  t.same(await readFirewall(694, ['eth1'], { isRoot: false, run: async () => undefined }), { readable: false, why: 'not run as root: the kernel shows the rulesets to root only' });
  t.same(await readFirewall(694, ['eth1'], { isRoot: true, run: async () => undefined }), { readable: false, why: 'neither nft nor iptables-save is installed' });
  const failing = await readFirewall(694, ['eth1'], { isRoot: true, run: async (c) => (c === 'nft' ? { exitCode: 1, stdout: '', stderr: 'Error: Operation not permitted\n' } : undefined) });
  t.same(failing, { readable: false, why: 'nft -j list ruleset: Error: Operation not permitted' });
  const both = await readFirewall(694, ['eth1'], {
    isRoot: true,
    run: async (c) => (c === 'nft' ? { exitCode: 0, stdout: fixture('nft-from-iptables-policy-drop.json'), stderr: '' } : c === 'iptables-save' ? { exitCode: 0, stdout: fixture('iptables-save-policy-drop.txt'), stderr: '' } : undefined),
  });
  t.same(both, { readable: true, sources: ['nft', 'iptables-save'], blocking: [{ where: 'iptables filter INPUT', rule: ':INPUT DROP (policy), no rule accepts udp port 694' }] });
});
