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
//          [--smaps] (print where the RSS is) [--profile DIR] (the watcher's CPU profile)
//          [--env NAME=VALUE]... (added to the watcher's environment)
//          [--agents DIR] [--out bench/results/watch-cost.md] [--label TEXT]
// Appends one row to --out (a Markdown table) and prints it.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { cliOptions } from './lib/args.ts';
import { Sandbox, netnsDelete } from '../test/rig/sandbox.ts';
import { FLAG_SCRIPT, childOf, lanPair } from '../test/rig/watch-node.ts';

const { ROOT, argv, opt } = cliOptions();
const MINUTES = Number(opt('--minutes', '10'));
const INTERVAL = Number(opt('--interval', '1'));
const WARMUP_S = Number(opt('--warmup', '20'));
const PEER_PROBED = argv.includes('--peer');
const AGENTS = opt('--agents', `${ROOT}/dist/resource.d`)!;
const OUT = opt('--out', `${ROOT}/bench/results/watch-cost.md`)!;
const LABEL = opt('--label', '')!;
// Extra environment for the watcher (e.g. BUN_OPTIONS=--smol), repeatable.
const WATCHER_ENV = argv.flatMap((a, i) => (a === '--env' && argv[i + 1] ? [argv[i + 1]!] : []));
// --profile DIR: the watcher's CPU profile (Bun's --cpu-prof, Markdown too) written to DIR on the host when it ends.
const PROFILE_DIR = opt('--profile', '');
if (PROFILE_DIR) {
  mkdirSync(PROFILE_DIR, { recursive: true });
  WATCHER_ENV.push(`BUN_OPTIONS=--cpu-prof --cpu-prof-md --cpu-prof-interval=250 --cpu-prof-dir=${PROFILE_DIR}`);
}

const id = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
const ns = `hae-wc-${id}`;
const peerNs = `hae-wcp-${id}`;
const NET = '198.18.23';
const VIP = `${NET}.10`;
const PEER = `${NET}.2`;
const CLK_TCK = Number((await execa('getconf', ['CLK_TCK'])).stdout.trim()) || 100;

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

/** utime+stime and cutime+cstime (ticks) of /proc/PID/stat. */
function statTicks(pid: number): { self: number; reaped: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is 3 (index 0), utime 14 (index 11).
  return { self: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

/**
 * The watcher's CPU, and its children's: those it reaped (cutime+cstime)
 * plus those still running (the kept arpings live for minutes: their CPU
 * reaches cutime only when they end).
 */
function cpuTicks(pid: number): { self: number; children: number } {
  const own = statTicks(pid);
  let live = 0;
  const walk = (p: number) => {
    let kids: string[] = [];
    try {
      kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch { /* gone */ }
    for (const k of kids) {
      try {
        const t = statTicks(Number(k));
        live += t.self + t.reaped;
      } catch { /* gone */ }
      walk(Number(k));
    }
  };
  walk(pid);
  return { self: own.self, children: own.reaped + live };
}

function memKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Where the RSS is: smaps_rollup, and the mappings holding the most (--smaps). */
function smapsSummary(pid: number): string {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const maps: { name: string; rss: number; anon: number }[] = [];
  let cur: { name: string; rss: number; anon: number } | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) maps.push(cur = { name: head[1] || '[anon]', rss: 0, anon: 0 });
    else if (cur && line.startsWith('Rss:')) cur.rss = Number(line.split(/\s+/)[1]);
    else if (cur && line.startsWith('Anonymous:')) cur.anon = Number(line.split(/\s+/)[1]);
  }
  const byName = new Map<string, { rss: number; anon: number; n: number }>();
  for (const m of maps) {
    const e = byName.get(m.name) ?? { rss: 0, anon: 0, n: 0 };
    e.rss += m.rss; e.anon += m.anon; e.n++;
    byName.set(m.name, e);
  }
  const top = [...byName].sort((a, b) => b[1].rss - a[1].rss).slice(0, 12).map(([n, e]) => `  ${String(e.rss).padStart(7)} KiB rss ${String(e.anon).padStart(7)} KiB anon ${String(e.n).padStart(4)} maps  ${n}`);
  return `${rollup}\n${top.join('\n')}\n`;
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
  await lanPair(ns, peerNs, NET);
  node = await Sandbox.start({
    name: `wc-${id}`,
    hostname: 'master1',
    netns: ns,
    agentsDir: AGENTS,
    etc: {
      'ha.d/ha.cf': HA_CF,
      'ha.d/authkeys': { content: 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n', mode: 0o600 },
      'ha.d/haresources': `master1 IPaddr::${VIP}/24/eth1 flag::a\n`,
      'init.d/flag': { content: FLAG_SCRIPT, mode: 0o755 },
      hosts: `127.0.0.1 localhost\n${NET}.1 master1\n${PEER_PROBED ? `${PEER} master2\n` : ''}`,
    },
    binds: PROFILE_DIR ? [{ host: PROFILE_DIR, inner: PROFILE_DIR }] : [],
  });
  const hb = await node.exec('/usr/libexec/heartbeat/heartbeat', [], { timeoutMs: 30_000 });
  if (hb.exitCode !== 0) throw new Error(`heartbeat did not start: ${hb.stderr}`);
  await until('heartbeat to settle', () => /local resource transition completed/.test(node!.readLog('ha-log')), 90_000);
  const take = await node.resourceManager(['takegroup', `IPaddr::${VIP}/24/eth1`]);
  if (take.exitCode !== 0) throw new Error(`takegroup failed: ${take.stderr}`);

  launcher = spawn('nsenter', [...node.nsenterArgs(), '--', '/usr/bin/env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...WATCHER_ENV,
    '/etc/ha.d/resource.d/ha-agent', 'watch', '--interval', String(INTERVAL), '--metrics-file', '/var/log/ha.prom'], { stdio: 'ignore' });
  await until('the watcher process', () => (watcherPid = childOf(launcher!.pid!)) > 0);
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
  if (argv.includes('--smaps')) process.stderr.write(smapsSummary(watcherPid));
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
      + 'CPU: the watcher\'s utime+stime and its children\'s (reaped: cutime+cstime; still running, e.g. the kept arpings: their own utime+stime), per sample and as % of one core. RSS: VmRSS median of 10 s samples, VmHWM at the end. load: 1-min load average at the end (the machine is shared).\n\n'
      + '| date (UTC) | label | commit | minutes | peer | watcher ms/sample | children ms/sample | % of a core | RSS MiB | HWM MiB | load |\n'
      + '|---|---|---|---|---|---|---|---|---|---|---|\n');
  }
  const line = `| ${Object.values(row).join(' | ')} |\n`;
  appendFileSync(OUT, line);
  process.stdout.write(line);
} finally {
  if (watcherPid) try { process.kill(watcherPid, 'SIGTERM'); } catch { /* gone */ }
  await sleep(PROFILE_DIR ? 3000 : 500);
  if (launcher?.pid && launcher.exitCode === null) try { process.kill(launcher.pid, 'SIGKILL'); } catch { /* gone */ }
  await node?.destroy();
  await netnsDelete(ns).catch(() => undefined);
  await netnsDelete(peerNs).catch(() => undefined);
}
