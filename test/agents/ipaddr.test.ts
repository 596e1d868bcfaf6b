import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { runAgent, runOcf } from '../rig/agents.ts';
import { type Lan, createLan, neighbourMac } from '../rig/netns.ts';
import { resourceManagerReadsAsHeld } from '../../lib/contract/status-text.ts';

// IPv4 VIP behaviour on a namespace LAN: nodes a and b (the two heartbeat
// nodes) and a client, all on one bridge. Each node has its own HA_RSCTMP,
// as two hosts would.
//
// The client sets arp_accept=1. Linux updates an *existing* neighbour entry
// from a gratuitous ARP even with arp_accept=0, but only creates one from
// it when arp_accept=1; with 1 the test does not depend on whether the
// client's entry has been garbage-collected between the two owners.

const VIP = '198.18.0.100';

interface Node {
  name: string;
  env: Record<string, string>;
}

let lan: Lan;
const nodes: Record<string, Node> = {};
const dirs: string[] = [];

t.before(async () => {
  lan = await createLan('ipa', [
    { name: 'a', addresses: ['198.18.0.1/24'], unplugged: ['eth2'] },
    { name: 'b', addresses: ['198.18.0.2/24'] },
    { name: 'client', addresses: ['198.18.0.3/24'], sysctls: { 'net.ipv4.conf.all.arp_accept': '1', 'net.ipv4.conf.default.arp_accept': '1' } },
    // A client with the kernel default arp_accept=0: it must follow too, because its entry exists.
    { name: 'client0', addresses: ['198.18.0.4/24'] },
  ]);
  for (const name of ['a', 'b']) {
    const dir = mkdtempSync(`${tmpdir()}/ipaddr-${name}-`);
    dirs.push(dir);
    nodes[name] = { name, env: { HA_RSCTMP: dir, HA_LOGFILE: `${dir}/ha-log` } };
  }
});
t.teardown(async () => {
  await lan?.destroy();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const ipaddr = (node: string, args: string[]) => runAgent('IPaddr', args, { netns: lan.nodes[node]!.ns, env: nodes[node]!.env });
const ocf = (node: string, action: string, params: Record<string, string>) => runOcf('IPaddr', action, params, { netns: lan.nodes[node]!.ns, env: nodes[node]!.env });

interface Addr { local: string; prefixlen: number; label?: string; broadcast?: string }
async function addresses(node: string, nic = 'eth1'): Promise<Addr[]> {
  const { stdout } = await lan.exec(node, 'ip', ['-j', '-4', 'addr', 'show', 'dev', nic]);
  return (JSON.parse(stdout)[0]?.addr_info ?? []) as Addr[];
}
const holds = async (node: string, ip: string, nic = 'eth1') => (await addresses(node, nic)).filter((a) => a.local === ip);

async function announcerPid(node: string, ip: string): Promise<number | undefined> {
  try {
    return (JSON.parse(readFileSync(`${nodes[node]!.env.HA_RSCTMP}/ha-resource-agents/IPaddr.${ip}.announcer`, 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

t.test('idempotency matrix (v1 and OCF)', async (t) => {
  const spec = `${VIP}/24/eth1`;
  const expectStopped = async (when: string) => {
    const status = await ipaddr('a', [spec, 'status']);
    t.equal(status.exitCode, 3, `status exit 3 ${when}`);
    t.equal(status.stdout.trim(), 'stopped', `status says stopped ${when}`);
    t.notOk(resourceManagerReadsAsHeld(status.stdout), `ResourceManager reads not held ${when}`);
    t.equal((await ocf('a', 'monitor', { ip: VIP, nic: 'eth1' })).exitCode, 7, `monitor 7 ${when}`);
  };
  const expectRunning = async (when: string) => {
    const status = await ipaddr('a', [spec, 'status']);
    t.equal(status.exitCode, 0, `status exit 0 ${when}`);
    t.equal(status.stdout.trim(), `running (${VIP} on eth1:0)`, `status names the label ${when}`);
    t.ok(resourceManagerReadsAsHeld(status.stdout), `ResourceManager reads held ${when}`);
    t.equal((await ocf('a', 'monitor', { ip: VIP, nic: 'eth1' })).exitCode, 0, `monitor 0 ${when}`);
    t.equal((await holds('a', VIP)).length, 1, `exactly one ${VIP} ${when}`);
  };
  await expectStopped('before anything');
  t.equal((await ipaddr('a', [spec, 'stop'])).exitCode, 0, 'stop when stopped');
  await expectStopped('after stop when stopped');
  t.equal((await ipaddr('a', [spec, 'start'])).exitCode, 0, 'start');
  await expectRunning('after start');
  t.equal((await ipaddr('a', [spec, 'start'])).exitCode, 0, 'start when started');
  t.equal((await ocf('a', 'start', { ip: VIP, nic: 'eth1', cidr_netmask: '24' })).exitCode, 0, 'OCF start when started');
  await expectRunning('after start when started');
  t.equal((await holds('b', VIP)).length, 0, 'b is untouched');
  const status = await ipaddr('b', [spec, 'status']);
  t.equal(status.stdout.trim(), 'stopped', 'status on b: the VIP answers on the LAN, but b does not hold it');
  t.equal((await ipaddr('a', [spec, 'stop'])).exitCode, 0, 'stop');
  await expectStopped('after stop');
  t.equal((await ocf('a', 'stop', { ip: VIP })).exitCode, 0, 'OCF stop when stopped');
  t.equal((await ipaddr('a', [spec, 'stop'])).exitCode, 0, 'stop again');
});

t.test('takeover: the client follows the VIP to b without sending anything', async (t) => {
  const { a, b } = { a: lan.nodes.a!.macs.eth1!, b: lan.nodes.b!.macs.eth1! };
  t.equal((await ipaddr('a', [`${VIP}/24/eth1`, 'start'])).exitCode, 0, 'a takes the VIP');
  await lan.exec('client', 'ping', ['-c', '1', '-w', '2', VIP]);
  await lan.exec('client0', 'ping', ['-c', '1', '-w', '2', VIP]);
  t.equal(await neighbourMac(lan, 'client', VIP), a, "the client learned a's MAC");
  t.equal(await neighbourMac(lan, 'client0', VIP), a, "client0 (arp_accept=0) learned a's MAC");
  t.equal((await ipaddr('a', [`${VIP}/24/eth1`, 'stop'])).exitCode, 0, 'a releases it');
  t.equal(await neighbourMac(lan, 'client', VIP), a, "the client still has a's MAC");

  // The client's kernel timestamps the change itself (`ip -ts monitor neigh`),
  // so polling and process start-up in this test do not count against b.
  const monitor = execa('ip', ['netns', 'exec', lan.nodes.client!.ns, 'ip', '-ts', 'monitor', 'neigh'], { reject: false, buffer: true, timeout: 60_000 });
  let events = '';
  monitor.stdout?.on('data', (chunk: Buffer) => { events += chunk.toString(); });
  t.teardown(() => { monitor.kill('SIGKILL'); });
  await new Promise((r) => setTimeout(r, 300)); // the monitor is listening
  const started = await ipaddr('b', [`${VIP}/24/eth1`, 'start']);
  const returned = Date.now();
  t.equal(started.exitCode, 0, 'b takes the VIP');
  const arpInterval = 200; // the default; the requirement: the client has b's MAC within one arp_interval
  const line = new RegExp(`^\\[([0-9T:.-]+)\\] ${VIP.replace(/\./g, '\\.')} dev eth1 lladdr ${b}`, 'm');
  let match: RegExpExecArray | null = null;
  for (let i = 0; i < 200 && !(match = line.exec(events)); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(match, `the client saw ${VIP} move to b's MAC: ${JSON.stringify(events)}`);
  const changedAt = match ? new Date(match[1]!.slice(0, 23)).getTime() : Number.NaN;
  t.ok(changedAt - returned <= arpInterval, `changed ${changedAt - returned} ms after start returned (bound: one arp_interval, ${arpInterval} ms)`);
  t.equal(await neighbourMac(lan, 'client', VIP), b, "the client's neighbour entry shows b's MAC");
  t.equal(await neighbourMac(lan, 'client0', VIP), b, 'client0 (arp_accept=0) follows too: a gratuitous ARP updates an existing entry');
  t.equal((await ipaddr('b', [`${VIP}/24/eth1`, 'stop'])).exitCode, 0, 'b releases it');
});

t.test('duplicate check: b refuses while a holds the VIP, and adds nothing', async (t) => {
  t.equal((await ipaddr('a', [`${VIP}/24/eth1`, 'start'])).exitCode, 0);
  const refused = await ipaddr('b', [`${VIP}/24/eth1`, 'start']);
  t.equal(refused.exitCode, 1, 'start on b fails');
  t.equal(refused.stderr.trim().split('\n').length, 1, 'one line');
  t.match(refused.stderr, new RegExp(`refusing to start: ${VIP.replace(/\./g, '\\.')} already answers from ${lan.nodes.a!.macs.eth1} on eth1 — another node still holds it \\(split brain\\?\\)`), "names a's MAC and says split brain");
  t.same(await holds('b', VIP), [], 'b has no such address');
  t.equal(await announcerPid('b', VIP), undefined, 'b announced nothing');
  const ocfRefused = await ocf('b', 'start', { ip: VIP });
  t.equal(ocfRefused.exitCode, 1, 'OCF start refuses too');
  t.match(ocfRefused.stderr, /^ocf-exit-reason:refusing to start: .* already answers from /m);
  t.same(await holds('b', VIP), []);
  // With the check disabled, b does add it (the operator asked for it).
  t.equal((await ocf('b', 'start', { ip: VIP, nic: 'eth1', cidr_netmask: '24', run_arping: 'false', arp_count: '0' })).exitCode, 0, 'run_arping=false skips the check');
  t.equal((await holds('b', VIP)).length, 1);
  t.equal((await ocf('b', 'stop', { ip: VIP })).exitCode, 0);
  t.equal((await ipaddr('a', [`${VIP}/24/eth1`, 'stop'])).exitCode, 0);
});

t.test('labels, netmask forms and broadcast as given', async (t) => {
  const cases: [string[], string, Partial<Addr>][] = [
    [['198.18.0.101/24/eth1:web/198.18.0.127'], '198.18.0.101', { prefixlen: 24, label: 'eth1:web', broadcast: '198.18.0.127' }],
    [['198.18.0.102/255.255.255.0/eth1'], '198.18.0.102', { prefixlen: 24, label: 'eth1:0', broadcast: '198.18.0.255' }],
    [['198.18.0.103/24/198.18.0.255'], '198.18.0.103', { prefixlen: 24, label: 'eth1:1', broadcast: '198.18.0.255' }],
    [['198.18.0.104'], '198.18.0.104', { prefixlen: 24, label: 'eth1:2' }],
    [['198.18.0.105/28/eth1'], '198.18.0.105', { prefixlen: 28, label: 'eth1:3', broadcast: '198.18.0.111' }],
  ];
  for (const [args, ip, expected] of cases) {
    const result = await ipaddr('a', [...args, 'start']);
    t.equal(result.exitCode, 0, `${args[0]} start`);
    t.match(await holds('a', ip), [expected], `${args[0]} added as ${JSON.stringify(expected)}`);
  }
  t.equal((await ocf('a', 'start', { ip: '198.18.0.106', cidr_netmask: '24', broadcast: '-' })).exitCode, 0, 'OCF broadcast "-"');
  t.match(await holds('a', '198.18.0.106'), [{ label: 'eth1:4', broadcast: '198.18.0.0' }], 'ip(8) "-": host bits cleared');
  t.equal((await ocf('a', 'stop', { ip: '198.18.0.106' })).exitCode, 0);
  const status = await ipaddr('a', ['198.18.0.101/24/eth1:web/198.18.0.127', 'status']);
  t.equal(status.stdout.trim(), 'running (198.18.0.101 on eth1:web)');
  for (const [args, ip] of cases) {
    t.equal((await ipaddr('a', [...args, 'stop'])).exitCode, 0, `${args[0]} stop`);
    t.same(await holds('a', ip), [], `${ip} removed`);
  }
  t.same((await addresses('a')).map((a) => a.local), ['198.18.0.1'], 'only the base address is left');
});

t.test('the announcer runs in the background and stop ends it', async (t) => {
  const params = { ip: VIP, nic: 'eth1', cidr_netmask: '24', arp_count: '100', arp_interval: '200' };
  const before = Date.now();
  t.equal((await ocf('a', 'start', params)).exitCode, 0);
  t.ok(Date.now() - before < 100 * 200, 'start did not wait for 100 announcements');
  const pid = await announcerPid('a', VIP);
  t.ok(pid && alive(pid), 'announcer running after start returned');
  t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'), ['/usr/libexec/heartbeat/send_arp', '-i', '200', '-r', '100']);
  t.equal((await ocf('a', 'stop', params)).exitCode, 0);
  // stop returns once the SIGKILLed announcer has lost its memory (it can send
  // nothing more); the kernel then closes its packet socket, tens of ms.
  const cmdline = (() => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } })();
  t.equal(cmdline, '', 'announcer exiting when stop returned');
  let gone = !alive(pid!);
  for (let i = 0; i < 100 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gone = !alive(pid!);
  }
  t.ok(gone, 'announcer ended by stop (long before its 100 × 200 ms)');
  t.equal(await announcerPid('a', VIP), undefined, 'state file removed');
});

t.test('stop leaves a process alone whose PID the state file names but whose cmdline differs', async (t) => {
  t.equal((await ocf('a', 'start', { ip: VIP, nic: 'eth1', cidr_netmask: '24', arp_count: '1' })).exitCode, 0);
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => {
    try { process.kill(other.pid!, 'SIGKILL'); } catch { /* gone */ }
  });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${nodes.a!.env.HA_RSCTMP}/ha-resource-agents/IPaddr.${VIP}.announcer`, JSON.stringify({ pid: other.pid, argv: ['/usr/libexec/heartbeat/send_arp', '-i', '200'] }));
  t.equal((await ocf('a', 'stop', { ip: VIP })).exitCode, 0, 'stop succeeds');
  t.ok(alive(other.pid!), 'the unrelated process still runs');
  t.same(await holds('a', VIP), []);
});

t.test('the interface gone: stop succeeds, status says stopped', async (t) => {
  t.equal((await ipaddr('a', ['198.18.2.10/24/eth2', 'start'])).exitCode, 0, 'start on eth2 (nic and netmask given, no route needed)');
  t.equal((await holds('a', '198.18.2.10', 'eth2')).length, 1);
  await lan.exec('a', 'ip', ['link', 'del', 'eth2']);
  const status = await ipaddr('a', ['198.18.2.10/24/eth2', 'status']);
  t.equal(status.exitCode, 3);
  t.equal(status.stdout.trim(), 'stopped');
  t.equal((await ipaddr('a', ['198.18.2.10/24/eth2', 'stop'])).exitCode, 0, 'stop succeeds');
  t.equal((await ocf('a', 'monitor', { ip: '198.18.2.10', nic: 'eth2' })).exitCode, 7, 'monitor: not running');
});
