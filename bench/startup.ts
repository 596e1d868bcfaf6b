// The build choice (issue 2 item 7, issue 9): the same agent code packaged
// as a Bun-compiled executable (with and without --minify/--bytecode) and as
// a Node single-executable application (with and without the code cache),
// plus `node bundle.cjs` as Node's floor; cold `meta-data` and `status`
// calls, median ms and peak RSS. Writes bench/STARTUP.md and
// bench/results/startup.json.
// Usage (from bench/startup.sh): bun bench/startup.ts --tmp DIR [--postject PATH] [--quick]
import { existsSync, mkdirSync, copyFileSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hyperfineInterleaved, peakRssKiB, sh, stats, type Stats } from './lib/measure.ts';

const ROOT = resolve(import.meta.dir, '..');
const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const TMP = opt('--tmp')!;
const POSTJECT = opt('--postject');
const BUN = `${ROOT}/node_modules/.bin/bun`;
const NODE = sh('sh', ['-c', 'command -v node']).stdout.trim();
const DIR = `${TMP}/startup`;
mkdirSync(DIR, { recursive: true });
mkdirSync(`${TMP}/rsctmp`, { recursive: true });

interface Variant {
  id: string;
  label: string;
  /** argv prefix that runs the multi-call executable. */
  exec: string[];
  file: string;
  note?: string;
  /** Not our program: a floor to compare against (ignores the call). */
  reference?: boolean;
}

const variants: Variant[] = [];
const notes: string[] = [];

function bunCompile(id: string, flags: string[], label: string) {
  const out = `${DIR}/${id}`;
  try {
    sh(BUN, ['build', '--compile', ...flags, `${ROOT}/bin/ha-agent.ts`, '--outfile', out], { cwd: ROOT });
    variants.push({ id, label, exec: [out], file: out });
  } catch (error) {
    notes.push(`${label}: build failed: ${(error as Error).message.split('\n')[0]}`);
  }
}

const current = readFileSync(`${ROOT}/packaging/build.sh`, 'utf8').replace(/\\\n\s*/g, '').match(/bun build (--compile[^\n]*?) bin\/ha-agent\.ts/)?.[1] ?? '';
bunCompile('bun-min-bc-ext', ['--minify', '--bytecode', '--external', 'execa'], '`bun build --compile --minify --bytecode --external execa`');
bunCompile('bun-min-bc', ['--minify', '--bytecode'], '`bun build --compile --minify --bytecode`');
bunCompile('bun-min', ['--minify'], '`bun build --compile --minify`');
bunCompile('bun-bc', ['--bytecode'], '`bun build --compile --bytecode`');
bunCompile('bun-plain', [], '`bun build --compile`');

// Floors: what any program pays before our code runs. Two Bun one-liners
// print the same line: with write(2), as the agents do (lib/system/stdio.ts), and
// through process.stdout, whose stream layer alone costs about as much again.
{
  const floors = [
    { id: 'bun-floor', source: "import { writeSync } from 'node:fs';\nwriteSync(1, 'running\\n');\n", label: 'reference: a one-line program printing with write(2), same Bun build' },
    { id: 'bun-floor-stream', source: "process.stdout.write('running\\n');\n", label: 'reference: the same line through `process.stdout` (Node\'s stream layer), same Bun build' },
  ];
  for (const floor of floors) {
    const src = `${DIR}/${floor.id}.ts`;
    writeFileSync(src, floor.source);
    const out = `${DIR}/${floor.id}`;
    try {
      sh(BUN, ['build', '--compile', '--minify', '--bytecode', src, '--outfile', out]);
      variants.push({ id: floor.id, label: floor.label, exec: [out], file: out, reference: true });
    } catch (error) {
      notes.push(`${floor.id}: build failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  variants.push({ id: 'sh-floor', label: 'reference: `/bin/sh -c :` (dash, what a shell agent pays to start)', exec: ['/bin/sh', '-c', ':'], file: '/bin/sh', reference: true });
}

// Node: one CommonJS bundle (Bun's bundler, target node), then a SEA blob.
const bundle = `${DIR}/bundle.cjs`;
sh(BUN, ['build', `${ROOT}/bin/ha-agent.ts`, '--target=node', '--format=cjs', '--outfile', bundle], { cwd: ROOT });
variants.push({ id: 'node-bundle', label: '`node bundle.cjs` (Node floor, needs node installed)', exec: [NODE, bundle], file: bundle });
const nodeVersion = sh(NODE, ['--version']).stdout.trim();
if (POSTJECT && existsSync(POSTJECT)) {
  for (const codeCache of [false, true]) {
    const id = codeCache ? 'node-sea-cc' : 'node-sea';
    const config = `${DIR}/${id}.json`;
    const blob = `${DIR}/${id}.blob`;
    const out = `${DIR}/${id}`;
    try {
      writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: codeCache }));
      sh(NODE, ['--experimental-sea-config', config]);
      copyFileSync(NODE, out);
      sh(POSTJECT, [out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']);
      variants.push({ id, label: `Node ${nodeVersion} SEA${codeCache ? ' + useCodeCache' : ''}`, exec: [out], file: out });
    } catch (error) {
      notes.push(`Node SEA${codeCache ? ' + code cache' : ''}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  notes.push('Node SEA `useSnapshot` not measured: it needs an entry written for v8.startupSnapshot (no dynamic agent loading at run time), a different program from the one shipped.');
} else {
  notes.push('Node SEA not measured: postject unavailable (npm install postject failed); `node bundle.cjs` is the lower bound for Node\'s start-up.');
}

const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HA_RSCTMP: `${TMP}/rsctmp`, LANG: 'C' };
const calls: { id: string; label: string; args: string[] }[] = [
  { id: 'meta-data', label: '`IPaddr meta-data`', args: ['--agent', 'IPaddr', 'meta-data'] },
  // Released status: a read of /proc/self/mountinfo and the per-resource lock, no child process under Bun.
  { id: 'status', label: '`Filesystem /dev/null DIR ext3 status` (released)', args: ['--agent', 'Filesystem', '/dev/null', `${TMP}/nothing-here`, 'ext3', 'status'] },
];

// Sanity: every variant gives the same answers.
for (const v of [...variants]) {
  if (v.reference) continue;
  const md = sh(v.exec[0]!, [...v.exec.slice(1), ...calls[0]!.args], { env, allowFailure: true });
  const st = sh(v.exec[0]!, [...v.exec.slice(1), ...calls[1]!.args], { env, allowFailure: true });
  if (md.code !== 0 || !md.stdout.includes('<resource-agent') || st.code !== 3 || !st.stdout.startsWith('stopped')) {
    notes.push(`${v.label}: wrong answers (meta-data exit ${md.code}, status exit ${st.code} "${st.stdout.trim()}"), not measured`);
    variants.splice(variants.indexOf(v), 1);
  }
}

const rounds = quick ? 1 : 4;
const runs = quick ? 3 : 4;
const results: Record<string, Record<string, { ms?: Stats; rssKiB?: number }>> = {};
// One interleaved batch over every (build, call) pair, so columns compare as well as rows.
process.stderr.write(`startup: ${variants.length} builds x ${calls.length} calls\n`);
const commands = variants.flatMap((v) => calls.map((call) => ({ name: `${v.id}|${call.id}`, argv: [...v.exec, ...call.args] })));
const times = hyperfineInterleaved(commands, { rounds, runsPerRound: runs, env, scratch: DIR });
for (const v of variants) {
  for (const call of calls) {
    const rss: number[] = [];
    for (let i = 0; i < (quick ? 1 : 5); i++) {
      const kib = peakRssKiB(v.exec[0]!, [...v.exec.slice(1), ...call.args], { env }, DIR);
      if (kib !== undefined) rss.push(kib);
    }
    (results[v.id] ??= {})[call.id] = { ms: stats(times[`${v.id}|${call.id}`] ?? []), rssKiB: stats(rss)?.median };
  }
}

// ---------------------------------------------------------------- report
const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? '?';
const machine = `${sh('nproc', []).stdout.trim()} CPU (${cpu}), kernel ${sh('uname', ['-r']).stdout.trim()}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end`;
const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const size = (f: string) => `${(statSync(f).size / 1048576).toFixed(1)} MiB`;
const ms = (s?: Stats) => (s ? `**${s.median.toFixed(1)}** (${s.min.toFixed(1)}–${s.max.toFixed(1)})` : '—');
const mib = (k?: number) => (k === undefined ? '—' : `${(k / 1024).toFixed(1)}`);

const byMedian = (callId: string) =>
  variants.filter((v) => !v.reference && results[v.id]?.[callId]?.ms).sort((a, b) => results[a.id]![callId]!.ms!.median - results[b.id]![callId]!.ms!.median);
const bestStatus = byMedian('status')[0];
const bestNode = byMedian('status').find((v) => v.id.startsWith('node'));
const currentId = variants.find((v) => v.id === 'bun-min-bc-ext')?.id;

const lines: string[] = [];
lines.push('# Start-up: how the agents are built');
lines.push('');
lines.push('Heartbeat runs a fresh agent process for every `status`, `start` and `stop`, so the');
lines.push('packaging decides most of a cold call\'s cost. The same code (`bin/ha-agent.ts`, all four');
lines.push('agents, lazy agent loading) is built each way below and timed on the same two calls.');
lines.push('Generated by `bash bench/startup.sh` (also `bash bench/run.sh --startup`); do not edit the table by hand.');
lines.push('');
lines.push(`Run: ${date}; ${machine}; bun ${sh(BUN, ['--version']).stdout.trim()}, node ${nodeVersion}; hyperfine, every cell in one batch, ${rounds} rounds (order flipped each round) × ${runs} runs per cell${quick ? ' (`--quick`: rough)' : ''}; peak RSS = median of ${quick ? 1 : 5} runs of GNU time \`%M\`.`);
lines.push(`Current packaging/build.sh: \`bun build ${current}\`.`);
lines.push('');
lines.push(`| Build | Size | ${calls.map((c) => `${c.label} ms, median (min–max)`).join(' | ')} | ${calls.map((c) => `${c.id} peak RSS MiB`).join(' | ')} |`);
lines.push(`|---|---|${calls.map(() => '---|').join('')}${calls.map(() => '---|').join('')}`);
for (const v of variants) {
  const r = results[v.id] ?? {};
  lines.push(`| ${v.label}${v.id === currentId ? ' (current)' : ''} | ${size(v.file)} | ${calls.map((c) => ms(r[c.id]?.ms)).join(' | ')} | ${calls.map((c) => mib(r[c.id]?.rssKiB)).join(' | ')} |`);
}
lines.push('');
if (bestStatus) {
  const cur = currentId ? results[currentId]?.status?.ms?.median : undefined;
  const best = results[bestStatus.id]!.status!.ms!.median;
  lines.push(`Fastest on \`status\`: ${bestStatus.label} (${best.toFixed(1)} ms median)` +
    (cur !== undefined ? `; the current build: ${cur.toFixed(1)} ms (${(cur / best).toFixed(2)}× the fastest).` : '.'));
  if (bestNode) {
    const n = results[bestNode.id]!.status!.ms!.median;
    lines.push(`Best Node option: ${bestNode.label} at ${n.toFixed(1)} ms, ${(n / best).toFixed(2)}× the fastest.`);
  }
  lines.push('');
}
const floor = results['bun-floor']?.status?.ms?.median;
if (floor !== undefined && currentId && results[currentId]?.status?.ms) {
  const cur = results[currentId]!.status!.ms!.median;
  lines.push(`Of the current build's ${cur.toFixed(1)} ms \`status\`, ${floor.toFixed(1)} ms is what a one-line Bun program built the same way costs; the agent code adds ${(cur - floor).toFixed(1)} ms.`);
  const stream = results['bun-floor-stream']?.status?.ms?.median;
  if (stream !== undefined) lines.push(`Printing that one line through \`process.stdout\` instead of write(2) costs ${(stream - floor).toFixed(1)} ms more: why lib/system/stdio.ts exists.`);
  lines.push('');
}
lines.push('Notes:');
lines.push('- Under Node the per-resource lock (lib/system/lock.ts) spawns `flock(1)` (Node has no flock(2)); under Bun it calls flock(2) through bun:ffi. That extra process is part of the Node rows\' `status` time, as it would be in production.');
lines.push('- SEA executables were made with Node\'s documented recipe: `node --experimental-sea-config` then `postject` (npm, run from a temporary prefix, not a project dependency).');
lines.push('- Timings on a shared, loaded machine are noisy; compare within one run (rows are interleaved), not across runs.');
for (const n of notes) lines.push(`- ${n}`);
writeFileSync(`${ROOT}/bench/STARTUP.md`, lines.join('\n') + '\n');
mkdirSync(`${ROOT}/bench/results`, { recursive: true });
writeFileSync(`${ROOT}/bench/results/startup.json`, JSON.stringify({ date, machine, variants: variants.map((v) => ({ ...v, size: statSync(v.file).size })), results, notes }, null, 2) + '\n');
process.stdout.write(lines.join('\n') + '\n');
