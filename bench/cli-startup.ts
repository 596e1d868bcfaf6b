// The agents' cold `status` with the CLI built in (bin/cli.ts, commander)
// against the binary without it: the same calls, interleaved round by round
// (order alternating), medians. Also what `ha-agent --help` costs.
//   bun bench/cli-startup.ts --old DIR --new DIR [--rounds N] [--out FILE]
import { spawnSync } from 'node:child_process';
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

function time(path: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 3 && r.status !== 0) throw new Error(`${path} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
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
  `new = with it. Each round runs old and new once per row, alternating which goes first; medians (min–max) of ${rounds} rounds,`,
  `wall time of spawn to exit as seen by the caller. drbddisk runs on the drbdadm double (test/doubles/drbdadm).`,
  '',
  '| Row | Old | New | New/old |',
  '|---|---|---|---|',
];
try {
  for (const c of cases) {
    const old: number[] = [];
    const now: number[] = [];
    for (let i = 0; i < 3; i++) { time(`${oldDir}/${c.name}`, c.args); time(`${newDir}/${c.name}`, c.args); }
    for (let i = 0; i < rounds; i++) {
      if (i % 2) { old.push(time(`${oldDir}/${c.name}`, c.args)); now.push(time(`${newDir}/${c.name}`, c.args)); }
      else { now.push(time(`${newDir}/${c.name}`, c.args)); old.push(time(`${oldDir}/${c.name}`, c.args)); }
    }
    lines.push(`| ${c.row} | ${fmt(old)} | ${fmt(now)} | ${(median(now) / median(old)).toFixed(2)}× |`);
  }
  const help: number[] = [];
  for (let i = 0; i < Math.min(rounds, 20); i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(`${newDir}/ha-agent`, ['--help'], { env, stdio: 'ignore' });
    help.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  lines.push('', `\`ha-agent --help\` (new only: commander loaded): ${fmt(help)}. Load average at the end: ${loadavg()[0]!.toFixed(2)}.`);
} finally {
  rmSync(state, { recursive: true, force: true });
}
const text = `${lines.join('\n')}\n`;
if (out) writeFileSync(out, text);
process.stdout.write(text);
