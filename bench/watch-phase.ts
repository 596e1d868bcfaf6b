// `ha-agent watch` rows (issue 20 targets), on the two-node rig with two
// heartbeat links and a watcher on each node (interval 1 s, a hook that
// appends to a file: test/rig/watch-alerts.ts):
//  - detection: from the fault to the alert delivered by the hook (the hook
//    reads the clock itself), for the heartbeat link cut (both nodes' alert),
//    heartbeat killed on the primary, a duplicate VIP on the standby, DRBD
//    split brain (StandAlone + the split-brain handler's file) and mysqld
//    killed under the held group; --runs rounds (default 5), medians;
//  - cost: the watcher on master1 (holding the group) over --minutes
//    (default 10): CPU % of one core (its own, and with the commands it
//    runs: cutime/cstime) and RSS (VmRSS sampled every 5 s).
// Writes bench/results/watch.md. No timing is asserted anywhere in tests.
// Usage (from run.sh): bun bench/watch-phase.ts --tmp DIR --agents DIR --id ID --out FILE [--quick] [--runs N] [--minutes M]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { stats, type Stats } from './lib/measure.ts';
import { phaseArgs } from './lib/args.ts';
import type { PhaseResult } from './lib/types.ts';
import { Cluster, DEFAULT_TIMINGS } from '../test/rig/cluster.ts';
import { startClusterWithWriter } from '../test/rig/split-brain.ts';
import { watchOptions } from '../test/rig/watch-alerts.ts';
import { runWatchFault, settle, SPLIT_BRAIN_HANDLER, WATCH_FAULTS } from '../test/rig/watch-faults.ts';

const { ROOT, opt, quick, TMP, AGENTS, OUT } = phaseArgs('watch.json');
const ID = opt('--id', `bw${process.pid}`)!;
const RUNS = Number(opt('--runs', quick ? '2' : '5'));
const MINUTES = Number(opt('--minutes', quick ? '1' : '10'));
const INTERVAL = 1;

/** The issue's targets, by fault name (ms; deadtime-relative ones computed). */
const deadtimeMs = DEFAULT_TIMINGS.deadtime * 1000;
const TARGETS: Record<string, { label: string; targetMs: number; target: string }> = {
  'the heartbeat link cut, both nodes alive': { label: 'heartbeat link cut (alert on both nodes)', targetMs: deadtimeMs + 1000, target: 'deadtime + 1 s' },
  'heartbeat killed on the primary, the node up': { label: 'heartbeat killed on the primary', targetMs: deadtimeMs + 1000, target: 'deadtime + 1 s' },
  'a duplicate VIP added by hand on the standby': { label: 'duplicate VIP', targetMs: 2000, target: '2 s' },
  'DRBD split brain (StandAlone, both Primary, the split-brain handler run)': { label: 'DRBD split brain', targetMs: 2000, target: '2 s' },
  'mysqld killed under a held group': { label: 'mysqld killed under a held group', targetMs: 2000, target: '2 s' },
};

const result: PhaseResult & { details: Record<string, unknown> } = { rows: [], rss: [], notes: [], details: {} };
const save = () => writeFileSync(OUT, JSON.stringify(result, null, 2));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (s?: Stats) => (s ? `**${(s.median / 1000).toFixed(2)} s** (min ${(s.min / 1000).toFixed(2)}, max ${(s.max / 1000).toFixed(2)}, n ${s.n})` : '—');

async function measureCost(cluster: Cluster, minutes: number) {
  const sb = cluster.nodes.master1!;
  const read = async () => {
    const r = await sb.sh('p=$(cat /run/ha-agent-watch.pid); cat /proc/$p/stat; grep VmRSS /proc/$p/status; getconf CLK_TCK; cat /proc/uptime');
    const [stat = '', rss = '', tck = '100', uptime = '0'] = r.stdout.trim().split('\n');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after the comm: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
    const hz = Number(tck);
    return { own: (Number(f[11]) + Number(f[12])) / hz, children: (Number(f[13]) + Number(f[14])) / hz, rssKiB: Number(/(\d+)/.exec(rss)?.[1] ?? 0), at: Number(uptime.split(' ')[0]) };
  };
  const first = await read();
  const rss: number[] = [first.rssKiB];
  const end = Date.now() + minutes * 60_000;
  while (Date.now() < end) {
    await sleep(5000);
    rss.push((await read()).rssKiB);
  }
  const last = await read();
  const wall = last.at - first.at;
  return {
    minutes: wall / 60,
    cpuOwnPct: (100 * (last.own - first.own)) / wall,
    cpuWithChildrenPct: (100 * (last.own - first.own + last.children - first.children)) / wall,
    rss: stats(rss)!,
  };
}

async function main() {
  const watch = watchOptions(INTERVAL);
  const cluster = await Cluster.create({ id: ID, agentsDir: AGENTS, workBase: TMP, secondLink: true, ...watch, extraEtc: { ...watch.extraEtc, 'drbd-split-brain.sh': { content: SPLIT_BRAIN_HANDLER, mode: 0o755 } } });
  const detection = new Map<string, number[]>();
  let cost: Awaited<ReturnType<typeof measureCost>> | undefined;
  try {
    await startClusterWithWriter(cluster);
    await settle(cluster);
    const faults = WATCH_FAULTS.filter((f) => TARGETS[f.name]);
    for (let run = 1; run <= RUNS; run++) {
      for (const fault of faults) {
        process.stderr.write(`bench: watch detection, run ${run}/${RUNS}: ${fault.name}\n`);
        const r = await runWatchFault(cluster, fault);
        if (r.error) result.notes.push(`run ${run}, ${fault.name}: ${r.error.split('\n')[0]!.slice(0, 300)}`);
        // "on both nodes": the fault is detected when the last expected alert is delivered.
        if (r.detectedMs.length === fault.expect.length) detection.set(fault.name, [...(detection.get(fault.name) ?? []), Math.max(...r.detectedMs.map((d) => d.ms))]);
        result.details[`${fault.name} #${run}`] = { detectedMs: r.detectedMs, clearedMs: r.clearedMs, raised: r.raised.map((a) => `${a.via} ${a.code} ${a.severity}`) };
        save();
      }
    }
    process.stderr.write(`bench: watch cost, ${MINUTES} min at --interval ${INTERVAL}\n`);
    cost = await measureCost(cluster, MINUTES);
    result.details.cost = cost;
  } finally {
    await cluster.destroy().catch((error: Error) => result.notes.push(`cluster teardown: ${error.message}`));
  }

  const md = [
    `## ha-agent watch: detection and cost (${new Date().toISOString().replace(/\.\d+Z$/, 'Z')})`,
    '',
    `Command: \`npm run bench\` (its watch phase; alone: \`bun bench/watch-phase.ts --tmp DIR [--runs N] [--minutes M]\`)${quick ? ', --quick' : ''}. ` +
      `The two-node rig with two heartbeat links, deadtime ${DEFAULT_TIMINGS.deadtime} s, keepalive ${DEFAULT_TIMINGS.keepalive}; ` +
      `\`ha-agent watch --interval ${INTERVAL} --clear-after 1\` on both nodes, each with a hook appending to a file (the hook reads the clock). ` +
      `${RUNS} run(s) of each fault, one after the other on one cluster (each healed and settled before the next); ` +
      `load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
    '',
    '### Detection: from the fault to the alert delivered by the hook',
    '',
    '| fault | alert(s) | median (min, max, runs) | target | met |',
    '|---|---|---|---|---|',
  ];
  for (const fault of WATCH_FAULTS.filter((f) => TARGETS[f.name])) {
    const t = TARGETS[fault.name]!;
    const s = stats(detection.get(fault.name) ?? []);
    md.push(`| ${t.label} | ${fault.expect.map((e) => `${e.code} (${e.via})`).join(', ')} | ${fmt(s)} | ${t.target} (${(t.targetMs / 1000).toFixed(1)} s) | ${s ? (s.median <= t.targetMs ? 'yes' : '**no**') : '—'} |`);
  }
  md.push('', `### Cost: the watcher on master1 (holding the group), --interval ${INTERVAL}`, '');
  if (cost) {
    md.push('| measured over | CPU, its own (% of one core) | CPU with the commands it runs | RSS median (min, max) | target |', '|---|---|---|---|---|');
    md.push(`| ${cost.minutes.toFixed(1)} min | **${cost.cpuOwnPct.toFixed(2)} %** | ${cost.cpuWithChildrenPct.toFixed(2)} % | **${(cost.rss.median / 1024).toFixed(1)} MiB** (${(cost.rss.min / 1024).toFixed(1)}, ${(cost.rss.max / 1024).toFixed(1)}) | ≤ 1 % and ≤ 40 MiB |`);
    md.push('', 'What a sample runs here: `cl_status listnodes -v` only after heartbeat\'s log grew (at least every 10 s); the addresses read from /proc (no `ip`); one kept `arping` per VIP held here (probing twice a second) and one for the peer only while heartbeat does not hear it; `drbdadm status` for the watcher and drbddisk\'s own status calls (here the drbdadm test double: bash scripts, each call several processes, dearer than the real drbdadm); our four agents\' `status` in the watcher\'s process (IPaddr, drbddisk, Filesystem, mysqld: mysqld\'s reads the option files and looks for the server in /proc). "With the commands it runs" counts every child, the kept arpings included; "its own" is the watcher\'s process alone.');
  } else md.push('not measured (the detection runs failed first)');
  md.push('', 'How to read it: detection includes `deadtime` for the heartbeat faults (heartbeat itself must first declare the peer dead), one sample interval at most for the others, plus the sample\'s own duration and the hook run.', '');
  if (result.notes.length) md.push('Run notes:', ...result.notes.map((n) => `- ${n}`), '');
  mkdirSync(`${ROOT}/bench/results`, { recursive: true });
  const file = `${ROOT}/bench/results/${quick ? 'watch-quick' : 'watch'}.md`;
  writeFileSync(file, md.join('\n'));
  process.stderr.write(`bench: wrote ${file.replace(`${ROOT}/`, '')}\n`);
}

await main().catch((error) => {
  result.notes.push(`watch phase: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
}).finally(save);
