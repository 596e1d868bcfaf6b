import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { type Lan, createLan } from '../rig/netns.ts';
import { type Bind, agentsDirWith, arpingBinds, hiddenProcNet, iputilsArping, ipBinds, ipsUnderTest, noJsonIp } from '../rig/old-tools.ts';

// IPaddr, `ha-agent check`, `status` and `watch --once` with the tools of older
// systems in place of this machine's, for the agents' processes only
// (test/rig/old-tools.ts binds them in a private mount namespace per call):
//  - ip without JSON: always a wrapper over this machine's ip that refuses
//    -j as iproute2 before 4.14 does (its text is the real ip's); with
//    HARA_OLD_IP_DIR=/tmp/old-ip every ip-VERSION there as well (README,
//    "Systems × agents");
//  - arping: Habets' (Debian's `arping`), iputils' (RHEL/CentOS; extracted
//    from Debian's iputils-arping .deb), and none at all (a node with only
//    resource-agents' send_arp), each with the address taken and free.
// Node a runs the agents; node b answers for the duplicates.

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const work = mkdtempSync(`/tmp/hara-old-tools-${process.pid}-`);
let lan: Lan;

t.before(async () => {
  lan = await createLan('old', [
    { name: 'a', addresses: ['198.18.0.1/24', 'fd00::1/64'] },
    { name: 'b', addresses: ['198.18.0.2/24', 'fd00::2/64'] },
  ]);
});
t.teardown(async () => {
  await lan?.destroy();
  rmSync(work, { recursive: true, force: true });
});

interface Node {
  agents: string;
  env: Record<string, string>;
  dir: string;
}

function node(name: string, binds: readonly Bind[]): Node {
  const dir = `${work}/${name.replace(/[^A-Za-z0-9.-]/g, '_')}`;
  mkdirSync(dir, { recursive: true });
  return { agents: agentsDirWith(dir, binds), dir, env: { PATH, HA_RSCTMP: `${dir}/rsc`, HA_LOGFILE: `${dir}/ha-log` } };
}

async function run(n: Node, name: string, args: readonly string[], extraEnv: Record<string, string> = {}) {
  const r = await execa('ip', ['netns', 'exec', lan.nodes.a!.ns, `${n.agents}/${name}`, ...args], { env: { ...n.env, ...extraEnv }, extendEnv: false, reject: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
const ocf = (n: Node, action: string, params: Record<string, string>) =>
  run(n, 'IPaddr', [action], Object.fromEntries([['OCF_ROOT', '/usr/lib/ocf'], ...Object.entries(params).map(([k, v]) => [`OCF_RESKEY_${k}`, v])]));

interface Addr { family: string; local: string; prefixlen: number; label?: string }
async function held(address: string): Promise<Addr[]> {
  const { stdout } = await lan.exec('a', 'ip', ['-j', 'addr', 'show', 'dev', 'eth1']);
  return ((JSON.parse(stdout)[0]?.addr_info ?? []) as Addr[]).filter((x) => x.local === address);
}
const memory = (n: Node, key: string) => {
  const path = `${n.env.HA_RSCTMP}/ha-resource-agents/tool-${key}`;
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n')[1] : undefined;
};

let vipIndex = 10;

for (const ip of ipsUnderTest(`${work}/ip`)) {
  t.test(`ip: ${ip.name}`, async (t) => {
    const n = node(`ip-${ip.name}`, ipBinds(ip.path));
    const vip = `198.18.0.${vipIndex}`;
    const vip6 = `fd00::${vipIndex}`;
    const vipMissing = `198.18.1.${vipIndex}`;
    vipIndex++;

    // v1 without netmask or nic: the interface and prefix come from the routes (findif).
    const started = await run(n, 'IPaddr', [vip, 'start']);
    t.equal(started.exitCode, 0, `start: ${started.stderr}`);
    t.same((await held(vip)).map((x) => [x.prefixlen, x.label]), [[24, 'eth1:0']], 'added with the route\'s /24 as eth1:0');
    t.equal(memory(n, 'ip-dialect'), ip.json ? undefined : 'text', ip.json ? 'JSON ip: nothing remembered' : 'the refusal of -j is remembered');
    const status = await run(n, 'IPaddr', [vip, 'status']);
    t.equal(status.exitCode, 0);
    t.match(status.stdout, new RegExp(`running \\(${vip.replace(/\./g, '\\.')} on eth1:0\\)`));
    t.equal((await run(n, 'IPaddr', [vip, 'start'])).exitCode, 0, 'start again: already there');
    t.equal((await held(vip)).length, 1, 'still once');

    // ha-agent status: ResourceManager's view of the group through this ip.
    const haDir = `${n.dir}/ha.d`;
    mkdirSync(haDir, { recursive: true });
    writeFileSync(`${haDir}/haresources`, `a IPaddr::${vip}/24/eth1\n`);
    if (!existsSync(`${haDir}/resource.d`)) symlinkSync(n.agents, `${haDir}/resource.d`);
    const groupHeld = await run(n, 'ha-agent', ['status', '--ha-dir', haDir, '--node', 'a', '--json']);
    t.equal(groupHeld.exitCode, 0, `ha-agent status: ${groupHeld.stderr}`);
    t.equal(JSON.parse(groupHeld.stdout).groups[0].verdict, 'ALL');

    // ha-agent check: its interface list and routes come from this ip.
    const root = `${n.dir}/root`;
    mkdirSync(`${root}/etc/ha.d`, { recursive: true });
    writeFileSync(`${root}/etc/ha.d/ha.cf`, 'keepalive 1\ndeadtime 10\nbcast eth1\nauto_failback on\nnode a\nnode b\n');
    writeFileSync(`${root}/etc/ha.d/authkeys`, 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n', { mode: 0o600 });
    writeFileSync(`${root}/etc/ha.d/haresources`, `a IPaddr::${vip}/24/eth1\nb IPaddr::${vipMissing}/24/eth9\nb IPaddr::198.19.77.1\n`);
    const check = await run(n, 'ha-agent', ['check', '--root', root, '--node', 'a', '--json']);
    const findings = (JSON.parse(check.stdout || '{"findings":[]}') as { findings: { code: string; message: string }[] }).findings;
    t.ok(findings.some((f) => f.code === 'HA310' && f.message.includes('eth9')), 'eth9 does not exist here (HA310)');
    t.ok(findings.some((f) => f.code === 'HA311' && f.message.includes('198.19.77.1')), '198.19.77.1 is on no network here (HA311)');
    t.same(findings.filter((f) => /^HA31[01]$/.test(f.code) && f.message.includes(`IPaddr::${vip}/`)), [], 'eth1 and its network are seen');

    t.equal((await run(n, 'IPaddr', [vip, 'stop'])).exitCode, 0, 'stop');
    t.same(await held(vip), [], 'removed');
    const stopped = await run(n, 'IPaddr', [vip, 'status']);
    t.equal(stopped.exitCode, 3);
    t.match(stopped.stdout, /^stopped/);
    t.equal((await run(n, 'IPaddr', [vip, 'stop'])).exitCode, 0, 'stop again: nothing to do');
    const groupReleased = await run(n, 'ha-agent', ['status', '--ha-dir', haDir, '--node', 'a', '--json']);
    t.equal(JSON.parse(groupReleased.stdout).groups[0].verdict, 'NONE', 'ha-agent status: released');

    // IPv6 (OCF): DAD waited for through /proc; a failed DAD names the holder from the neighbour table (ip neigh).
    t.equal((await ocf(n, 'start', { ip: vip6, nic: 'eth1', cidr_netmask: '64' })).exitCode, 0, 'IPv6 start');
    t.equal((await ocf(n, 'monitor', { ip: vip6, nic: 'eth1' })).exitCode, 0, 'IPv6 monitor');
    t.equal((await ocf(n, 'stop', { ip: vip6, nic: 'eth1' })).exitCode, 0, 'IPv6 stop');
    t.equal((await ocf(n, 'monitor', { ip: vip6, nic: 'eth1' })).exitCode, 7, 'IPv6 monitor: not running');
    const taken = await ocf(n, 'start', { ip: 'fd00::2', nic: 'eth1', cidr_netmask: '64' });
    t.equal(taken.exitCode, 1, 'IPv6 address held by b: refused');
    t.match(taken.stderr, new RegExp(`already answers from (${lan.nodes.b!.macs.eth1}|another host)`), 'names b (or says it could not)');
    t.same(await held('fd00::2'), [], 'and removed again');
  });
}

interface WatchJson { sample: { vips: { ip: string; heldHere: boolean; nic?: string }[]; problems: { part: string; message: string }[] } }

// ha-agent watch reads addresses from /proc; where /proc cannot be read it
// asks ip, through the same JSON-or-text path as the agents. /proc/net is
// hidden from it here, so --once must learn the VIP from this ip.
for (const ip of ipsUnderTest(`${work}/ip-watch`)) {
  t.test(`ha-agent watch --once, /proc/net hidden, ip: ${ip.name}`, async (t) => {
    const n = node(`watch-${ip.name}`, [...ipBinds(ip.path), hiddenProcNet(`${work}/empty`)]);
    const vip = `198.18.0.${vipIndex++}`;
    const haDir = `${n.dir}/ha.d`;
    mkdirSync(haDir, { recursive: true });
    writeFileSync(`${haDir}/ha.cf`, 'keepalive 1\ndeadtime 10\nbcast eth1\nauto_failback on\nnode a\nnode b\n');
    writeFileSync(`${haDir}/haresources`, `a IPaddr::${vip}/24/eth1\n`);
    if (!existsSync(`${haDir}/resource.d`)) symlinkSync(n.agents, `${haDir}/resource.d`);
    await lan.exec('a', 'ip', ['addr', 'add', `${vip}/24`, 'dev', 'eth1', 'label', 'eth1:0']);
    t.teardown(() => lan.exec('a', 'ip', ['addr', 'del', `${vip}/24`, 'dev', 'eth1']).catch(() => undefined));
    const r = await run(n, 'ha-agent', ['watch', '--once', '--json', '--ha-dir', haDir, '--node', 'a']);
    t.not(r.exitCode, 3, `a verdict, not UNKNOWN (${r.stderr})`);
    const { sample } = JSON.parse(r.stdout) as WatchJson;
    t.same(sample.problems.filter((p) => p.part === 'ip'), [], `ip answered (${JSON.stringify(sample.problems)})`);
    t.match(sample.vips, [{ ip: vip, heldHere: true, nic: 'eth1' }], 'the VIP seen held, from ip');
    t.equal(memory(n, 'ip-dialect'), ip.json ? undefined : 'text', ip.json ? 'JSON ip: nothing remembered' : 'the refusal of -j learnt and remembered');
    const again = await run(n, 'ha-agent', ['watch', '--once', '--json', '--ha-dir', haDir, '--node', 'a']);
    t.match((JSON.parse(again.stdout) as WatchJson).sample.vips, [{ ip: vip, heldHere: true }], 'again, with the remembered dialect');
  });
}

t.test('the common path: JSON ip costs one process per listing, nothing remembered', async (t) => {
  const log = `${work}/json-calls`;
  const n = node('json-logged', ipBinds(noJsonIp(`${work}/ip-logged`, { log, refuseJson: false })));
  t.equal((await run(n, 'IPaddr', ['198.18.0.1/24/eth1', 'status'])).exitCode, 0);
  t.equal((await run(n, 'IPaddr', ['198.18.0.1/24/eth1', 'status'])).exitCode, 0);
  t.same(readFileSync(log, 'utf8').trim().split('\n'), ['-j -4 addr show to 198.18.0.1', '-j -4 addr show to 198.18.0.1'], 'one ip -j per status');
  t.equal(memory(n, 'ip-dialect'), undefined);
});

t.test('ip without JSON: one refused -j, then text only, on every later cold call', async (t) => {
  const log = `${work}/text-calls`;
  const n = node('text-logged', ipBinds(noJsonIp(`${work}/ip-text-logged`, { log })));
  for (let i = 0; i < 3; i++) t.equal((await run(n, 'IPaddr', ['198.18.0.1/24/eth1', 'status'])).exitCode, 0);
  t.same(readFileSync(log, 'utf8').trim().split('\n'), ['-j -4 addr show to 198.18.0.1', '-4 addr show to 198.18.0.1', '-4 addr show to 198.18.0.1', '-4 addr show to 198.18.0.1']);
  // A different ip binary (an upgrade) is asked afresh: the memory names the binary it was learnt from.
  const upgraded = { ...n, agents: agentsDirWith(`${work}/text-upgraded`, []) };
  t.equal((await run(upgraded, 'IPaddr', ['198.18.0.1/24/eth1', 'status'])).exitCode, 0, 'the real ip, with the old memory in place');
  t.equal(memory(n, 'ip-dialect'), 'text', 'left as it was (only a refusal is written)');
});

const ARPINGS: { name: string; binds: () => Promise<Bind[]>; dialect?: string }[] = [
  { name: 'Habets arping', binds: async () => [] },
  { name: 'iputils arping', binds: async () => arpingBinds(await iputilsArping(`${work}/iputils`)), dialect: 'iputils' },
];

let arpIndex = 60;
for (const arping of ARPINGS) {
  t.test(`duplicate check with ${arping.name}`, async (t) => {
    const n = node(arping.name, await arping.binds());
    const taken = await run(n, 'IPaddr', ['198.18.0.2/24/eth1', 'start']);
    t.equal(taken.exitCode, 1, 'taken by b: refused');
    t.match(taken.stderr, new RegExp(`refusing to start: 198\\.18\\.0\\.2 already answers from ${lan.nodes.b!.macs.eth1} on eth1`));
    t.same(await held('198.18.0.2'), [], 'nothing added');
    t.equal(memory(n, 'arping-dialect'), arping.dialect, arping.dialect ? 'iputils learnt from its refusal of -0' : 'Habets: nothing remembered');
    for (let i = 0; i < 2; i++) {
      const free = `198.18.0.${arpIndex++}`;
      const started = await run(n, 'IPaddr', [`${free}/24/eth1`, 'start']);
      t.equal(started.exitCode, 0, `free ${free}: started (${started.stderr.trim()})`);
      t.equal((await held(free)).length, 1);
      t.equal((await run(n, 'IPaddr', [`${free}/24/eth1`, 'stop'])).exitCode, 0);
    }
    const again = await run(n, 'IPaddr', ['198.18.0.2/24/eth1', 'start']);
    t.equal(again.exitCode, 1, 'taken, with the remembered dialect: still refused');
  });
}

t.test('no arping at all (only send_arp): the default adds without the check and says so; run_arping=true fails', async (t) => {
  const n = node('no-arping', arpingBinds('/dev/null'));
  const free = `198.18.0.${arpIndex++}`;
  const started = await run(n, 'IPaddr', [`${free}/24/eth1`, 'start']);
  t.equal(started.exitCode, 0, 'v1 start (run_arping defaulted)');
  t.match(readFileSync(n.env.HA_LOGFILE!, 'utf8'), new RegExp(`WARNING: arping not found: adding ${free.replace(/\./g, '\\.')} without the duplicate check`));
  t.equal((await held(free)).length, 1);
  t.ok(existsSync(`${n.env.HA_RSCTMP}/ha-resource-agents/IPaddr.${free}.announcer`), 'send_arp announces it');
  t.equal((await run(n, 'IPaddr', [`${free}/24/eth1`, 'stop'])).exitCode, 0);
  const asked = await ocf(n, 'start', { ip: free, nic: 'eth1', cidr_netmask: '24', run_arping: 'true' });
  t.equal(asked.exitCode, 5, 'run_arping=true without arping: not installed');
  t.match(asked.stderr, /arping not found; install arping/);
  t.same(await held(free), [], 'nothing added');
  t.equal((await ocf(n, 'start', { ip: free, nic: 'eth1', cidr_netmask: '24', run_arping: 'false' })).exitCode, 0, 'run_arping=false: no warning needed');
  t.equal((await ocf(n, 'stop', { ip: free, nic: 'eth1' })).exitCode, 0);
});
