// The agents' cold `status` with the CLI built in (bin/cli.ts, commander)
// against the binary without it: the same calls, interleaved round by round
// (order alternating), medians of wall time and of the child's CPU time
// (user + system, from its rusage: far less disturbed by other load on a
// shared machine). Also what `ha-agent --help` costs.
//   bun bench/cli-startup.ts --old DIR --new DIR [--rounds N] [--out FILE]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';

const arg = (name: string, fallback?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const oldDir = resolve(arg('old')!);
const newDir = resolve(arg('new', 'dist/resource.d')!);
const rounds = Number(arg('rounds', '40'));
const out = arg('out');

const state = mkdtempSync(`/tmp/hara-cli-bench-${process.pid}-`);
mkdirSync(`${state}/res/data`, { recursive: true });
writeFileSync(`${state}/res/data/nodes`, 'bench peer\n');
writeFileSync(`${state}/res/data/minor`, '1\n');
writeFileSync(`${state}/res/data/role.bench`, 'Secondary\n');
const env = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  DRBDADM: resolve('test/doubles/drbdadm'),
  DRBD_DOUBLE_STATE: state,
  DRBD_DOUBLE_NODE: 'bench',
  DRBD_DOUBLE_VERSION: '8.4',
  DRBD_PROC_FILE: `${state}/proc-drbd`,
};
writeFileSync(env.DRBD_PROC_FILE, '');

const cases: { row: string; name: string; args: string[] }[] = [
  { row: 'IPaddr status (released)', name: 'IPaddr', args: ['198.18.250.1/24/lo', 'status'] },
  { row: 'drbddisk status (released)', name: 'drbddisk', args: ['data', 'status'] },
];

interface Sample { wall: number; cpu: number }

function time(path: string, args: string[]): Sample {
  const t0 = process.hrtime.bigint();
  const r = Bun.spawnSync([path, ...args], { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.exitCode !== 3 && r.exitCode !== 0) throw new Error(`${path} ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return { wall, cpu: Number(r.resourceUsage.cpuTime.total) / 1000 };
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;

const load0 = loadavg()[0]!;
const lines = [
  `# ha-agent CLI: the agents' cold status before/after`,
  '',
  `${new Date().toISOString()}, \`bun bench/cli-startup.ts --old ${arg('old')} --new ${arg('new', 'dist/resource.d')} --rounds ${rounds}\`.`,
  `Machine: ${cpus().length} CPU, load average ${load0.toFixed(2)} at the start. Old = the build before bin/cli.ts (no commander in the binary);`,
  `new = with it. Each round runs old and new once per row, alternating which goes first; medians (min–max) of ${rounds} rounds:`,
  `wall time of spawn to exit as seen by the caller, and the child's CPU time (user + system, rusage). drbddisk runs on the drbdadm double.`,
  '',
  '| Row | Old wall | New wall | New/old | Old CPU | New CPU | New/old |',
  '|---|---|---|---|---|---|---|',
];
try {
  for (const c of cases) {
    const old: Sample[] = [];
    const now: Sample[] = [];
    for (let i = 0; i < 3; i++) { time(`${oldDir}/${c.name}`, c.args); time(`${newDir}/${c.name}`, c.args); }
    for (let i = 0; i < rounds; i++) {
      if (i % 2) { old.push(time(`${oldDir}/${c.name}`, c.args)); now.push(time(`${newDir}/${c.name}`, c.args)); }
      else { now.push(time(`${newDir}/${c.name}`, c.args)); old.push(time(`${oldDir}/${c.name}`, c.args)); }
    }
    const [ow, nw, oc, nc] = [old.map((x) => x.wall), now.map((x) => x.wall), old.map((x) => x.cpu), now.map((x) => x.cpu)];
    lines.push(`| ${c.row} | ${fmt(ow)} | ${fmt(nw)} | ${(median(nw) / median(ow)).toFixed(2)}× | ${fmt(oc)} | ${fmt(nc)} | ${(median(nc) / median(oc)).toFixed(2)}× |`);
  }
  const help: Sample[] = [];
  for (let i = 0; i < Math.min(rounds, 20); i++) help.push(time(`${newDir}/ha-agent`, ['--help']));
  lines.push('', `\`ha-agent --help\` (new only: commander loaded): wall ${fmt(help.map((x) => x.wall))}, CPU ${fmt(help.map((x) => x.cpu))}. Load average at the end: ${loadavg()[0]!.toFixed(2)}.`);
} finally {
  rmSync(state, { recursive: true, force: true });
}
const text = `${lines.join('\n')}\n`;
if (out) writeFileSync(out, text);
process.stdout.write(text);
