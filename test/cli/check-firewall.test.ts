import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { AGENTS_DIR } from '../rig/agents.ts';
import { ip, netnsAdd, netnsDelete } from '../rig/sandbox.ts';

// `ha-agent check` reads this node's packet filter (HA119, HA120) with real
// rules set by nft and iptables (nf_tables backend) inside a network
// namespace this test creates: the node has eth1 and eth2, ha.cf sends
// heartbeats by bcast on eth1 and mcast on eth2, port 694.

const ns = `hae-fw-${process.pid}`;
const haAgent = `${AGENTS_DIR}/ha-agent`;
const work = mkdtempSync(`/tmp/hara-fw-${process.pid}-`);
const HACF = 'logfile /var/log/ha-log\nkeepalive 1\ndeadtime 10\nwarntime 5\ninitdead 20\nudpport 694\nbcast eth1\nmcast eth2 225.0.0.7 694 1 0\nauto_failback on\nnode master1\nnode master2\ncrm no\nrespawn root /usr/sbin/ha-agent watch\n';
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

interface Finding { code: string; file: string; line: number; message: string }

async function firewallFindings(env: Record<string, string> = {}, prefix: string[] = []): Promise<Finding[]> {
  const r = await execa('ip', ['netns', 'exec', ns, ...prefix, haAgent, 'check', '--root', work, '--node', 'master1', '--json'], { reject: false, extendEnv: false, env: { PATH, ...env } });
  return (JSON.parse(r.stdout) as { findings: Finding[] }).findings.filter((f) => ['HA119', 'HA120'].includes(f.code));
}
const nft = (args: string[], input?: string) => execa('ip', ['netns', 'exec', ns, 'nft', ...args], { input });
const iptables = (args: string[]) => execa('ip', ['netns', 'exec', ns, 'iptables', ...args]);
const flush = async () => {
  await iptables(['-P', 'INPUT', 'ACCEPT']).catch(() => {});
  await nft(['flush', 'ruleset']);
};

t.before(async () => {
  await netnsAdd(ns);
  for (const [nic, address] of [['eth1', '198.18.4.2/16'], ['eth2', '198.19.4.2/24']] as const) {
    await ip(['link', 'add', nic, 'type', 'veth', 'peer', 'name', `${nic}p`], ns);
    await ip(['addr', 'add', address, 'dev', nic], ns);
    await ip(['link', 'set', nic, 'up'], ns);
  }
  chmodSync(work, 0o755); // the not-root case reads it as nobody
  mkdirSync(`${work}/etc/ha.d`, { recursive: true });
  writeFileSync(`${work}/etc/ha.d/ha.cf`, HACF);
});

t.teardown(async () => {
  await netnsDelete(ns);
  rmSync(work, { recursive: true, force: true });
});

t.afterEach(flush);

t.test('no rules: nothing to say', async (t) => {
  t.same(await firewallFindings(), []);
});

t.test('nft drops udp 694 on eth2: HA119 names the chain and the rule, at udpport\'s line', async (t) => {
  await nft(['-f', '-'], 'table inet filter {\n chain input {\n  type filter hook input priority 0; policy accept;\n  iifname "lo" accept\n  iifname "eth2" udp dport 694 counter drop\n }\n}\n');
  const f = await firewallFindings();
  t.same(f.map((x) => [x.code, x.file, x.line]), [['HA119', '/etc/ha.d/ha.cf', 6]], JSON.stringify(f));
  t.match(f[0]?.message, /nftables inet filter input: "udp dport 694 on eth2 drop" drops heartbeat's UDP port 694 on eth2.* — accept it before the drop/);
});

t.test('a drop on an interface heartbeat does not use, or after an accept of the port: nothing', async (t) => {
  await nft(['-f', '-'], 'table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  udp dport 694 accept\n  iifname "eth9" udp dport 694 drop\n }\n}\n');
  t.same(await firewallFindings(), []);
});

t.test('iptables (nf_tables backend) REJECTs a port range: HA119 once, in iptables\' words (nft shows its multiport match as an opaque xt match)', async (t) => {
  await iptables(['-A', 'INPUT', '-p', 'udp', '-m', 'multiport', '--dports', '690:700', '-j', 'REJECT']);
  const f = await firewallFindings();
  t.same(f.map((x) => x.code), ['HA119'], JSON.stringify(f));
  t.match(f[0]?.message, /iptables filter INPUT: "-A INPUT -p udp -m multiport --dports 690:700 -j REJECT --reject-with icmp-port-unreachable"/);
});

t.test('iptables policy DROP with only ssh accepted: HA119', async (t) => {
  await iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
  await iptables(['-P', 'INPUT', 'DROP']);
  const f = await firewallFindings();
  t.same(f.map((x) => x.code), ['HA119']);
  t.match(f[0]?.message, /iptables filter INPUT: ":INPUT DROP \(policy\), no rule accepts udp port 694"/);
});

t.test('cannot tell: no nft or iptables-save on PATH, or not root (HA120, a warning)', async (t) => {
  const bin = `${work}/bin`;
  mkdirSync(bin, { recursive: true });
  symlinkSync('/usr/sbin/ip', `${bin}/ip`);
  const none = await firewallFindings({ PATH: bin });
  t.same(none.map((x) => x.code), ['HA120']);
  t.match(none[0]?.message, /cannot tell whether a firewall drops heartbeat's UDP port 694: neither nft nor iptables-save is installed/);
  const user = await firewallFindings({}, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
  t.same(user.map((x) => x.code), ['HA120']);
  t.match(user[0]?.message, /not run as root/);
});
