// Merges the phases' JSON into bench/results/latest.{json,md} and prints the table.
// Usage (from run.sh): bun bench/report.ts --tmp DIR --agents DIR --seconds N [--quick]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { cliOptions } from './lib/args.ts';
import type { Stats } from './lib/measure.ts';
import { stats } from './lib/measure.ts';
import type { Machine, PhaseResult, Row, RssRow, Side } from './lib/types.ts';

const { ROOT, argv, opt } = cliOptions();
const TMP = opt('--tmp')!;
const AGENTS = opt('--agents', `${ROOT}/dist/resource.d`)!;
const quick = argv.includes('--quick');
const seconds = Number(opt('--seconds', '0'));

const out = (cmd: string, args: string[]) => String(spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '').trim();

function machine(stock: Record<string, string>): Machine {
  const cpuModel = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const binary = `${AGENTS}/ha-agent`;
  const size = existsSync(binary) ? `${(statSync(binary).size / 1048576).toFixed(0)} MiB` : '?';
  const buildLine = readFileSync(`${ROOT}/packaging/build.sh`, 'utf8').replace(/\\\n\s*/g, ' ').match(/bun build[^\n>]*/)?.[0]?.replace(/\s+/g, ' ').trim() ?? 'packaging/build.sh';
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: Number(out('nproc', [])),
    cpu: cpuModel,
    kernel: out('uname', ['-r']),
    hostname: hostname(),
    agents: AGENTS,
    agentsBuild: `${buildLine} (${size} executable)`,
    bun: out(`${ROOT}/node_modules/.bin/bun`, ['--version']),
    hyperfine: out('hyperfine', ['--version']),
    stock,
  };
}

interface SplitSample { totalMs: number; heartbeatMs: number; scripts: Record<string, number>; clientMs: number; mysqlServerMs?: number; firstAcceptAt?: number }
function read(file: string): (PhaseResult & { stock?: Record<string, string>; floor?: { crash?: number[] }; splits?: Record<string, Partial<Record<Side, SplitSample[]>>> }) | undefined {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

const agents = read(`${TMP}/agents.json`);
const cluster = read(`${TMP}/cluster.json`);
const splitBrain = read(`${TMP}/split-brain.json`);
const rows: Row[] = [...(agents?.rows ?? []), ...(cluster?.rows ?? []), ...(splitBrain?.rows ?? [])];
const rss: RssRow[] = [...(agents?.rss ?? []), ...(cluster?.rss ?? [])];
const notes: string[] = [...(agents?.notes ?? []), ...(cluster?.notes ?? []), ...(splitBrain?.notes ?? [])];
if (!agents) notes.push('per-agent phase wrote no results (see the run output)');
const m = machine({ ...(agents?.stock ?? {}), ...(cluster?.stock ?? {}), ...(splitBrain?.stock ?? {}) });

// Targets beside the ratios (goals, not asserts). Issue 9: status against the
// tutorial's scripts. Issue 17: against the tuned shell group, and the group
// against both.
const TARGETS: Record<string, { stock?: number; tuned?: number }> = {
  'status.IPaddr.held': { stock: 0.5 }, 'status.IPaddr.released': { stock: 0.5 },
  'status.Filesystem.held': { stock: 0.5 }, 'status.Filesystem.released': { stock: 0.5 },
  'status.mysqld.held': { stock: 0.5 }, 'status.mysqld.released': { stock: 0.5 },
  'status.drbddisk.held': { stock: 1.0 }, 'status.drbddisk.released': { stock: 1.0 },
  'group.take.IPaddr': { tuned: 1.0 }, 'group.take.drbddisk': { tuned: 1.0 },
  'group.takegive': { stock: 0.35, tuned: 0.7 },
  'failover.graceful': { tuned: 0.8 }, 'failover.failback': { tuned: 0.8 }, 'failover.rejoin': { tuned: 0.8 },
};
/** Crash takeover: at most heartbeat's own floor (no-op scripts) + 0.3 s. */
const floorCrash = cluster?.floor?.crash?.length ? stats(cluster.floor.crash)!.median : undefined;

function fmt(value: number, unit: 'ms' | 's'): string {
  if (unit === 's') return `${(value / 1000).toFixed(2)} s`;
  return value < 100 ? `${value.toFixed(1)} ms` : `${value.toFixed(0)} ms`;
}
function cell(s: Stats | undefined, unit: 'ms' | 's'): string {
  if (!s) return '—';
  return `**${fmt(s.median, unit)}** (${fmt(s.min, unit).replace(/ m?s$/, '')}–${fmt(s.max, unit)})`;
}
const esc = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function ratioCell(row: Row, side: 'stock' | 'tuned'): string {
  const other = row[side];
  if (!row.ours || !other) return '—';
  const r = row.ours.median / other.median;
  const target = TARGETS[row.id]?.[side];
  return target === undefined ? `${r.toFixed(2)}×` : `${r.toFixed(2)}× (target ≤ ${target.toFixed(2)} ${r <= target ? '✓' : '✗'})`;
}

function notesCell(row: Row): string {
  const parts: string[] = [];
  if (row.pending) parts.push(`**pending**: ${row.note ?? ''}`);
  else if (row.note) parts.push(row.note);
  if (row.id === 'failover.crash' && row.ours && floorCrash !== undefined) {
    const bound = floorCrash + 300;
    parts.push(`target: ≤ heartbeat's floor + 0.3 s = ${(bound / 1000).toFixed(2)} s ${row.ours.median <= bound ? '✓' : `✗ (${((row.ours.median - bound) / 1000).toFixed(2)} s over)`}`);
  }
  if (row.oursNote) parts.push(`ours: ${row.oursNote}`);
  if (row.stockNote) parts.push(`stock: ${row.stockNote}`);
  if (row.tunedNote && !row.tunedSameAsStock) parts.push(`tuned: ${row.tunedNote}`);
  return esc(parts.join('; '));
}

const lines: string[] = [];
lines.push(`## Bench: ours vs stock (${m.date})`);
lines.push('');
lines.push(`Machine: ${m.nproc} CPU (${m.cpu}), kernel ${m.kernel}. Ours: ${m.agentsBuild}. hyperfine ${m.hyperfine.replace(/^hyperfine /, '')}, bun ${m.bun}.`);
const loadEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const busy = Math.max(...[opt('--load-start', '0')!, loadEnd].map((l) => Number(l.split(' ')[0]))) > m.nproc;
lines.push(`Load average (1/5/15 min) at start ${opt('--load-start', '?')}, at end ${loadEnd}${busy ? ` — **above ${m.nproc} CPUs: other work competed; compare ratios (interleaved), not absolute times**` : ''}.`);
lines.push(`Command: \`npm run bench\`${quick ? ' (this run: `--quick`, small samples: rough numbers)' : ''}; bench run time ${seconds} s.`);
lines.push('Cells: **median** (min–max). Ratios = ours median / that column\'s median (lower is better for ours). Stock = the tutorial\'s group (stock IPaddr, Filesystem, drbddisk and its mysql.server, which sleeps 1 s per check); tuned = the same stock IPaddr, Filesystem and drbddisk with a readiness-polling LSB mysqld (`bench/stock/mysqld-tuned`): the stronger baseline. Where the tuned group uses the stock script, its cell repeats the stock number (=).');
lines.push('');
lines.push('| Row | Ours | Stock (tutorial) | Tuned shell group | n (ours/stock/tuned) | Ours/stock | Ours/tuned | Notes |');
lines.push('|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  const n = `${row.ours?.n ?? 0}/${row.stock?.n ?? 0}/${row.tunedSameAsStock ? '=' : (row.tuned?.n ?? 0)}`;
  const tunedCell = row.tunedSameAsStock ? (row.tuned ? '= stock' : '—') : cell(row.tuned, row.unit);
  lines.push(`| ${row.label} | ${cell(row.ours, row.unit)} | ${cell(row.stock, row.unit)} | ${tunedCell} | ${n} | ${ratioCell(row, 'stock')} | ${ratioCell(row, 'tuned')} | ${notesCell(row)} |`);
}
const splits = cluster?.splits ?? {};
if (Object.keys(splits).length) {
  lines.push('');
  lines.push('Where the time goes (medians per part over the samples, from the rig\'s millisecond timeline: ResourceManager\'s "Acquiring/Releasing resource group" and "... done. RC=" lines on both nodes, the client\'s records). A script\'s part = its phases in givegroup and takegroup on both nodes (status call included); the MySQL server\'s share is known for ours only (our mysqld logs when it spawned mariadbd and when it answered, when it sent SIGTERM and when the server was gone); client = takegroup done → first committed write through the VIP (ARP, TCP, first commit); heartbeat = the rest (detection, messages, ResourceManager between phases). Parts are medians each, so they need not add up to the total.');
  lines.push('');
  lines.push('| Scenario | Side | n | Total | Heartbeat + RM | IPaddr | drbddisk | Filesystem | mysqld | of which MySQL server (ours) | Client |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const med = (xs: number[]) => (xs.length ? `${Math.round(stats(xs)!.median)} ms` : '—');
  for (const [scenario, bySide] of Object.entries(splits)) {
    for (const side of ['ours', 'stock', 'tuned'] as Side[]) {
      const xs = bySide[side];
      if (!xs?.length) continue;
      const part = (name: string) => med(xs.map((x) => x.scripts[name] ?? 0));
      const server = xs.filter((x) => x.mysqlServerMs !== undefined).map((x) => x.mysqlServerMs!);
      lines.push(`| ${scenario} | ${side} | ${xs.length} | ${med(xs.map((x) => x.totalMs))} | ${med(xs.map((x) => x.heartbeatMs))} | ${part('IPaddr')} | ${part('drbddisk')} | ${part('Filesystem')} | ${part('mysqld')} | ${med(server)} | ${med(xs.map((x) => x.clientMs))} |`);
    }
  }
}
lines.push('');
lines.push('Peak RSS of one process (GNU time `%M`; for the shell agents, the largest process of the script\'s tree):');
lines.push('');
lines.push('| Call | Ours | Stock | Notes |');
lines.push('|---|---|---|---|');
const mib = (kib?: number) => (kib === undefined ? '—' : `${(kib / 1024).toFixed(1)} MiB`);
for (const r of rss) {
  const target = r.oursKiB === undefined ? '' : r.oursKiB / 1024 <= 40 ? ' (≤ 40 MiB ✓)' : ' (> 40 MiB ✗)';
  lines.push(`| ${r.label} | ${mib(r.oursKiB)}${target} | ${mib(r.stockKiB)} | ${esc(r.note ?? '')} |`);
}
lines.push('');
lines.push('Stock side: ' + Object.entries(m.stock).map(([k, v]) => `${k} = ${v}`).join('; ') + '.');
if (notes.length) {
  lines.push('');
  lines.push('Run notes:');
  for (const n of notes) lines.push(`- ${esc(n)}`);
}
const md = lines.join('\n') + '\n';

// A --quick (smoke) run does not replace the latest full results.
const base = quick ? 'quick' : 'latest';
mkdirSync(`${ROOT}/bench/results`, { recursive: true });
writeFileSync(`${ROOT}/bench/results/${base}.md`, md);
writeFileSync(`${ROOT}/bench/results/${base}.json`, JSON.stringify({ machine: m, quick, seconds, rows, rss, notes, splits, floor: cluster?.floor }, null, 2) + '\n');
process.stdout.write(md);
process.stderr.write(`bench: wrote bench/results/${base}.md and ${base}.json\n`);
