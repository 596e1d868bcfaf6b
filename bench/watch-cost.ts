// What `ha-agent watch` costs on a node (issue 20's target: at a 1 s
// interval at most 1 % of one core and 40 MiB RSS). A real watcher in the
// same private-root node test/cli/watch.test.ts builds: the stock heartbeat
// running (so `cl_status` is asked every sample), the group held (our
// IPaddr with its VIP, a shell init script), a namespace standing in for the
// LAN. CPU is the watcher's /proc/PID/stat utime+stime plus cutime+cstime
// (the children it reaped: arping, cl_status, the init script...), counted
// from the end of a warm-up to the end; RSS is VmRSS (sampled) and VmHWM.
// Usage: bun bench/watch-cost.ts [--minutes 10] [--interval 1] [--warmup 20]
//          [--peer] (the peer's address known and unheard: probed every sample)
//          [--agents DIR] [--out bench/results/watch-cost.md] [--label TEXT]
// Appends one row to --out (a Markdown table) and prints it.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { cliOptions } from './lib/args.ts';
import { Sandbox, ip, netnsAdd, netnsDelete } from '../test/rig/sandbox.ts';

const { ROOT, argv, opt } = cliOptions();
const MINUTES = Number(opt('--minutes', '10'));
const INTERVAL = Number(opt('--interval', '1'));
const WARMUP_S = Number(opt('--warmup', '20'));
const PEER_PROBED = argv.includes('--peer');
const AGENTS = opt('--agents', `${ROOT}/dist/resource.d`)!;
const OUT = opt('--out', `${ROOT}/bench/results/watch-cost.md`)!;
const LABEL = opt('--label', '')!;

const id = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
const ns = `hae-wc-${id}`;
const peerNs = `hae-wcp-${id}`;
const NET = '198.18.23';
const VIP = `${NET}.10`;
const PEER = `${NET}.2`;
const CLK_TCK = Number((await execa('getconf', ['CLK_TCK'])).stdout.trim()) || 100;

const flagScript = `#!/bin/sh
flag=/run/flag.$1
case "$2" in
  start) touch "$flag" ;;
  stop) rm -f "$flag" ;;
  status) if [ -e "$flag" ]; then echo "flag $1 is running"; else echo "flag $1 is not running"; exit 3; fi ;;
esac
`;
const HA_CF = `logfile /var/log/ha-log
logfacility none
keepalive 1
deadtime 5
initdead 5
udpport 694
bcast eth1
auto_failback on
node master1
node master2
crm no
`;

/** utime, stime, cutime, cstime (ticks) of /proc/PID/stat. */
function cpuTicks(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is 3 (index 0), utime 14 (index 11).
  return { self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

function memKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, test: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

let node: Sandbox | undefined;
let watcherPid = 0;
let launcher: ReturnType<typeof spawn> | undefined;
try {
  await netnsAdd(ns);
  await netnsAdd(peerNs);
  await execa('ip', ['link', 'add', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name', 'eth1p', 'netns', peerNs]);
  await ip(['addr', 'add', `${NET}.1/24`, 'dev', 'eth1'], ns);
  await ip(['link', 'set', 'eth1', 'up'], ns);
  await ip(['addr', 'add', `${PEER}/24`, 'dev', 'eth1p'], peerNs);
  await ip(['link', 'set', 'eth1p', 'up'], peerNs);
  node = await Sandbox.start({
    name: `wc-${id}`,
    hostname: 'master1',
    netns: ns,
    agentsDir: AGENTS,
    etc: {
      'ha.d/ha.cf': HA_CF,
      'ha.d/authkeys': { content: 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n', mode: 0o600 },
      'ha.d/haresources': `master1 IPaddr::${VIP}/24/eth1 flag::a\n`,
      'init.d/flag': { content: flagScript, mode: 0o755 },
      hosts: `127.0.0.1 localhost\n${NET}.1 master1\n${PEER_PROBED ? `${PEER} master2\n` : ''}`,
    },
  });
  const hb = await node.exec('/usr/libexec/heartbeat/heartbeat', [], { timeoutMs: 30_000 });
  if (hb.exitCode !== 0) throw new Error(`heartbeat did not start: ${hb.stderr}`);
  await until('heartbeat to settle', () => /local resource transition completed/.test(node!.readLog('ha-log')), 90_000);
  const take = await node.resourceManager(['takegroup', `IPaddr::${VIP}/24/eth1`]);
  if (take.exitCode !== 0) throw new Error(`takegroup failed: ${take.stderr}`);

  launcher = spawn('nsenter', [...node.nsenterArgs(), '--', '/usr/bin/env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    '/etc/ha.d/resource.d/ha-agent', 'watch', '--interval', String(INTERVAL), '--metrics-file', '/var/log/ha.prom'], { stdio: 'ignore' });
  await until('the watcher process', () => {
    try {
      const kids = readFileSync(`/proc/${launcher!.pid}/task/${launcher!.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      if (kids.length) watcherPid = Number(kids[0]);
    } catch { /* not yet */ }
    return watcherPid > 0;
  });
  await sleep(WARMUP_S * 1000);
  const t0 = performance.now();
  const c0 = cpuTicks(watcherPid);
  const rss: number[] = [];
  const endAt = t0 + MINUTES * 60_000;
  while (performance.now() < endAt) {
    await sleep(Math.min(10_000, endAt - performance.now()));
    if (!existsSync(`/proc/${watcherPid}`)) throw new Error('the watcher exited');
    rss.push(memKiB(watcherPid).rss);
  }
  const c1 = cpuTicks(watcherPid);
  const seconds = (performance.now() - t0) / 1000;
  const { hwm } = memKiB(watcherPid);
  const samples = seconds / INTERVAL;
  const selfMs = ((c1.self - c0.self) / CLK_TCK) * 1000;
  const childMs = ((c1.children - c0.children) / CLK_TCK) * 1000;
  const sorted = [...rss].sort((a, b) => a - b);
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const row = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    label: LABEL || '-',
    commit: (await execa('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { reject: false })).stdout.trim() || '?',
    minutes: (seconds / 60).toFixed(1),
    peer: PEER_PROBED ? 'probed' : 'heard',
    selfMsPerSample: (selfMs / samples).toFixed(1),
    childMsPerSample: (childMs / samples).toFixed(1),
    corePercent: (((selfMs + childMs) / 1000 / seconds) * 100).toFixed(2),
    rssMedian: mib(sorted[Math.floor(sorted.length / 2)] ?? NaN),
    hwm: mib(hwm),
    load: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
  };
  if (!existsSync(OUT)) {
    writeFileSync(OUT, '# ha-agent watch: cost (bench/watch-cost.ts)\n\n'
      + 'One watcher at the given interval in a private-root node (stock heartbeat running, group held: IPaddr + a shell init script, no DRBD).\n'
      + 'CPU: the watcher\'s utime+stime and its reaped children\'s cutime+cstime, per sample and as % of one core. RSS: VmRSS median of 10 s samples, VmHWM at the end. load: 1-min load average at the end (the machine is shared).\n\n'
      + '| date (UTC) | label | commit | minutes | peer | watcher ms/sample | children ms/sample | % of a core | RSS MiB | HWM MiB | load |\n'
      + '|---|---|---|---|---|---|---|---|---|---|---|\n');
  }
  const line = `| ${Object.values(row).join(' | ')} |\n`;
  appendFileSync(OUT, line);
  process.stdout.write(line);
} finally {
  if (watcherPid) try { process.kill(watcherPid, 'SIGTERM'); } catch { /* gone */ }
  await sleep(500);
  if (launcher?.pid && launcher.exitCode === null) try { process.kill(launcher.pid, 'SIGKILL'); } catch { /* gone */ }
  await node?.destroy();
  await netnsDelete(ns).catch(() => undefined);
  await netnsDelete(peerNs).catch(() => undefined);
}
