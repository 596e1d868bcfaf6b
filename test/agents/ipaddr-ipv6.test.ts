import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { runAgent, runOcf } from '../rig/agents.ts';
import { type Lan, createLan, neighbourMac } from '../rig/netns.ts';

// IPv6 through the same agent: the haresources "::" split and the expanded
// form, waiting out DAD, refusing on dadfailed, NA on takeover.

const VIP = 'fd00::10';
const EXPANDED = 'fd00:0:0:0:0:0:0:10';

let lan: Lan;
const env: Record<string, Record<string, string>> = {};
const dirs: string[] = [];

t.before(async () => {
  lan = await createLan('ip6', [
    { name: 'a', addresses: ['fd00::1/64'] },
    { name: 'b', addresses: ['fd00::2/64'] },
    { name: 'client', addresses: ['fd00::3/64'] },
  ]);
  for (const name of ['a', 'b']) {
    const dir = mkdtempSync(`${tmpdir()}/ipaddr6-${name}-`);
    dirs.push(dir);
    env[name] = { HA_RSCTMP: dir, HA_LOGFILE: `${dir}/ha-log` };
  }
});
t.teardown(async () => {
  await lan?.destroy();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const ipaddr = (node: string, args: string[]) => runAgent('IPaddr', args, { netns: lan.nodes[node]!.ns, env: env[node]! });
const ocf = (node: string, action: string, params: Record<string, string>) => runOcf('IPaddr', action, params, { netns: lan.nodes[node]!.ns, env: env[node]! });

/** Alive and not a zombie (an orphaned announcer is reaped by whatever init the container has). */
const running = (pid: number) => {
  try {
    return !/\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

interface Addr { local: string; prefixlen: number; tentative?: boolean; dadfailed?: boolean; nodad?: boolean }
async function held(node: string, ip = VIP): Promise<Addr[]> {
  const { stdout } = await lan.exec(node, 'ip', ['-j', '-6', 'addr', 'show', 'dev', 'eth1']);
  return ((JSON.parse(stdout)[0]?.addr_info ?? []) as Addr[]).filter((a) => a.local === ip);
}

t.test('haresources pieces and the expanded form: start, status, stop', async (t) => {
  // IPaddr::fd00::10/64/eth1 reaches us as `IPaddr fd00 10/64/eth1 ACTION`.
  const pieces = ['fd00', '10/64/eth1'];
  const status0 = await ipaddr('a', [...pieces, 'status']);
  t.equal(status0.exitCode, 3);
  t.equal(status0.stdout.trim(), 'stopped');
  t.equal((await ipaddr('a', [...pieces, 'stop'])).exitCode, 0, 'stop when stopped');

  const start = await ipaddr('a', [...pieces, 'start']);
  t.equal(start.exitCode, 0, `start (${start.stderr.trim()})`);
  const after = await held('a');
  t.equal(after.length, 1, 'added once');
  t.match(after[0], { prefixlen: 64 });
  t.notOk(after[0]?.tentative, 'start returned after DAD: no longer tentative');

  for (const args of [pieces, [`${EXPANDED}/64/eth1`], [VIP]]) {
    const status = await ipaddr('a', [...args, 'status']);
    t.equal(status.exitCode, 0, `status ${args.join(' ')}`);
    t.equal(status.stdout.trim(), `running (${VIP} on eth1)`);
  }
  t.equal((await ocf('a', 'monitor', { ip: EXPANDED })).exitCode, 0, 'OCF monitor, expanded');
  t.equal((await ipaddr('a', [`${EXPANDED}/64/eth1`, 'start'])).exitCode, 0, 'start when started (expanded form)');
  t.equal((await held('a')).length, 1, 'still once');
  t.equal((await ipaddr('b', [...pieces, 'status'])).stdout.trim(), 'stopped', 'b does not hold it');

  t.equal((await ipaddr('a', [`${EXPANDED}/64/eth1`, 'stop'])).exitCode, 0, 'stop (expanded form)');
  t.same(await held('a'), [], 'removed');
  t.equal((await ipaddr('a', [...pieces, 'status'])).exitCode, 3, 'status stopped');
  t.equal((await ocf('a', 'monitor', { ip: VIP })).exitCode, 7, 'OCF monitor: not running');
  t.equal((await ipaddr('a', [...pieces, 'stop'])).exitCode, 0, 'stop when stopped');
});

t.test('DAD: b refuses while a holds the address, names its MAC, and keeps nothing', async (t) => {
  t.equal((await ipaddr('a', [`${VIP}/64/eth1`, 'start'])).exitCode, 0);
  const refused = await ipaddr('b', ['fd00', '10/64/eth1', 'start']);
  t.equal(refused.exitCode, 1, 'start on b fails');
  t.equal(refused.stderr.trim().split('\n').length, 1, `one line: ${refused.stderr.trim()}`);
  t.match(refused.stderr, `refusing to start: ${VIP} already answers from ${lan.nodes.a!.macs.eth1} on eth1 (IPv6 duplicate address detection failed) — another node still holds it (split brain?)`);
  t.same(await held('b'), [], 'the dadfailed address was removed again');
  t.equal((await ipaddr('a', [`${VIP}/64/eth1`, 'stop'])).exitCode, 0);
});

t.test('takeover: neighbour advertisements move the client to b', async (t) => {
  const b = lan.nodes.b!.macs.eth1!;
  t.equal((await ipaddr('a', [`${VIP}/64/eth1`, 'start'])).exitCode, 0);
  await lan.exec('client', 'ping6', ['-c', '1', '-w', '2', VIP]);
  t.equal(await neighbourMac(lan, 'client', VIP), lan.nodes.a!.macs.eth1, "client learned a's MAC");
  t.equal((await ipaddr('a', [`${VIP}/64/eth1`, 'stop'])).exitCode, 0);
  const monitor = execa('ip', ['netns', 'exec', lan.nodes.client!.ns, 'ip', '-ts', 'monitor', 'neigh'], { reject: false, timeout: 60_000 });
  let events = '';
  monitor.stdout?.on('data', (chunk: Buffer) => { events += chunk.toString(); });
  t.teardown(() => { monitor.kill('SIGKILL'); });
  await new Promise((r) => setTimeout(r, 300));
  t.equal((await ipaddr('b', [`${VIP}/64/eth1`, 'start'])).exitCode, 0);
  const returned = Date.now();
  const line = new RegExp(`^\\[([0-9T:.-]+)\\] ${VIP} dev eth1 lladdr ${b}`, 'm');
  let match: RegExpExecArray | null = null;
  for (let i = 0; i < 200 && !(match = line.exec(events)); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(match, `the client saw ${VIP} move to b: ${JSON.stringify(events)}`);
  const changedAt = match ? new Date(match[1]!.slice(0, 23)).getTime() : Number.NaN;
  t.ok(changedAt - returned <= 200, `changed ${changedAt - returned} ms after start returned (bound: one arp_interval)`);
  t.equal(await neighbourMac(lan, 'client', VIP), b);
  t.equal((await ipaddr('b', [`${VIP}/64/eth1`, 'stop'])).exitCode, 0);
});

t.test('nodad=true adds without DAD; the announcer follows', async (t) => {
  t.equal((await ocf('a', 'start', { ip: 'fd00::11', nic: 'eth1', cidr_netmask: '64', nodad: 'true', arp_count: '50' })).exitCode, 0);
  const [address] = await held('a', 'fd00::11');
  t.ok(address?.nodad, 'added with nodad');
  const record = JSON.parse(readFileSync(`${env.a!.HA_RSCTMP}/ha-resource-agents/IPaddr.fd00__11.announcer`, 'utf8')) as { pid: number; argv: string[] };
  t.same(record.argv, ['/usr/libexec/heartbeat/send_ua', '-i', '200', '-c', '50', 'fd00::11', '64', 'eth1']);
  t.same(readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0').slice(0, -1), record.argv, 'send_ua running');
  t.equal((await ocf('a', 'stop', { ip: 'fd00::11' })).exitCode, 0);
  t.notOk(running(record.pid), 'send_ua ended by stop');
  t.same(await held('a', 'fd00::11'), []);
});

t.test('link-local: nic required; with it, start/status/stop', async (t) => {
  const without = await ocf('a', 'start', { ip: 'fe80::2' });
  t.equal(without.exitCode, 6);
  t.match(without.stderr, /nic is required for the link-local address fe80::2/);
  t.equal((await ocf('a', 'start', { ip: 'fe80::2', nic: 'eth1' })).exitCode, 0);
  t.equal((await held('a', 'fe80::2'))[0]?.prefixlen, 64, 'prefix from the fe80::/64 route of eth1');
  t.equal((await ocf('a', 'monitor', { ip: 'fe80::2', nic: 'eth1' })).exitCode, 0);
  t.equal((await ocf('a', 'stop', { ip: 'fe80::2', nic: 'eth1' })).exitCode, 0);
  t.same(await held('a', 'fe80::2'), []);
});
