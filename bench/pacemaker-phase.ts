// Pacemaker rows (issue 16): the three-node rig of test/rig/pacemaker.ts
// with our agents (configured from `ha-agent crm-config`) and with Debian's
// stock OCF agents, every scenario of test/rig/pacemaker-scenarios.ts,
// rounds alternating between the two (one cluster at a time, so neither
// slows the other); plus the CPU time of one recurring monitor call per
// agent, since Pacemaker calls monitors for as long as the cluster runs.
// Writes bench/results/pacemaker.md (pacemaker-quick.md with --quick) and
// the JSON to --out.
// Usage (from run.sh): bun bench/pacemaker-phase.ts --tmp DIR --agents DIR --out FILE [--quick] [--pacemaker-rounds N]
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { phaseArgs } from './lib/args.ts';
import { stats, type Stats } from './lib/measure.ts';
import { PacemakerCluster, STOCK_GROUP_CRM, crmConfigOfHaresources, fencingCrm, type Flavour } from '../test/rig/pacemaker.ts';
import { runPacemakerScenarios, type PcmkScenarioResult } from '../test/rig/pacemaker-scenarios.ts';

const { ROOT, opt, quick, TMP, AGENTS, OUT } = phaseArgs('pacemaker.json');
const ROUNDS = Number(opt('--pacemaker-rounds', quick ? '1' : '2'));
const MONITOR_CALLS = quick ? 10 : 30;
const ID = opt('--id', `bp${process.pid}`)!;
const FLAVOURS: readonly Flavour[] = ['ours', 'stock'];

interface PcmkRow {
  id: string;
  label: string;
  ours: number[];
  stock: number[];
}

const ROWS: { id: string; label: string; value: (r: PcmkScenarioResult) => number | undefined }[] = [
  { id: 'start', label: 'start: group configured (crm configure load update) → first write via VIP', value: (r) => r.firstWriteAfterMs },
  { id: 'monitor-mysqld.detect', label: 'kill -9 mariadbd → failure counted (monitor every 10 s)', value: (r) => r.detectedAfterMs },
  { id: 'monitor-mysqld', label: 'kill -9 mariadbd: failure counted → first write after the restart in place', value: (r) => delta(r) },
  { id: 'monitor-vip', label: 'VIP removed by hand: failure counted → first write after the group restarted in place', value: (r) => delta(r) },
  { id: 'monitor-fs', label: '/data unmounted by hand (umount -l): failure counted → first write after fs + mysqld restarted', value: (r) => delta(r) },
  { id: 'move', label: 'crm resource move to another node → first write via VIP there', value: (r) => r.firstWriteAfterMs },
  { id: 'move-back', label: 'crm resource move back → first write via VIP', value: (r) => r.firstWriteAfterMs },
  { id: 'crash', label: 'crash of the holder → fenced → first write via VIP on another node', value: (r) => r.firstWriteAfterMs },
  { id: 'partition', label: 'holder loses its LAN link → fenced by the majority → first write via VIP on another node', value: (r) => r.firstWriteAfterMs },
];

function delta(r: PcmkScenarioResult): number | undefined {
  return r.firstWriteAfterMs !== undefined && r.detectedAfterMs !== undefined ? r.firstWriteAfterMs - r.detectedAfterMs : undefined;
}

const samples: Record<string, Record<Flavour, number[]>> = {};
const monitorCpu: Record<string, Record<Flavour, { agent: string; cpuMs: number[]; wallMs: number[] }>> = {};
const problems: string[] = [];
let safetySamples = 0;
let longestGap = 0;

async function oneRun(flavour: Flavour, round: number): Promise<void> {
  const say = (line: string) => console.error(`bench pacemaker ${flavour}#${round}: ${line}`);
  const cluster = await PacemakerCluster.create({ id: `${ID}${flavour[0]}${round}`, agentsDir: AGENTS, workBase: TMP });
  try {
    await cluster.start();
    const group = flavour === 'ours' ? await crmConfigOfHaresources(AGENTS, cluster.base) : STOCK_GROUP_CRM;
    const results = await runPacemakerScenarios(cluster, {
      crm: `${fencingCrm(cluster.nodeNames)}${group}`,
      onResult: (r) => say(`${r.name}: ${r.error ? `FAILED ${r.error}` : `first write ${r.firstWriteAfterMs} ms`}`),
      afterStart: async (holder, names) => {
        for (const role of ['vip', 'drbd', 'fs', 'db'] as const) {
          const cost = await cluster.monitorCost(names[role], holder, MONITOR_CALLS);
          const prim = await cluster.primitive(names[role], holder);
          if (cost.firstRc !== 0) problems.push(`${flavour} ${role} monitor returned ${cost.firstRc} on the holder`);
          const slot = ((monitorCpu[role] ??= { ours: { agent: '', cpuMs: [], wallMs: [] }, stock: { agent: '', cpuMs: [], wallMs: [] } })[flavour]);
          slot.agent = `ocf:${prim.provider}:${prim.type}`;
          slot.cpuMs.push(cost.cpuMs);
          slot.wallMs.push(cost.wallMs);
          say(`monitor ${slot.agent}: ${cost.cpuMs.toFixed(1)} ms CPU, ${cost.wallMs.toFixed(1)} ms wall per call`);
        }
      },
    });
    for (const r of results) if (r.error) problems.push(`${flavour} round ${round} ${r.name}: ${r.error}`);
    for (const row of ROWS) {
      const r = results.find((x) => x.name === row.id.replace(/\.detect$/, ''));
      const v = r && !r.error ? row.value(r) : undefined;
      if (v !== undefined) ((samples[row.id] ??= { ours: [], stock: [] })[flavour]).push(v);
    }
    for (const v of cluster.violations) problems.push(`${flavour} round ${round}: two holders: ${v}`);
    const gaps = cluster.sampleGaps();
    safetySamples += gaps.samples;
    longestGap = Math.max(longestGap, gaps.max);
  } finally {
    await cluster.destroy();
  }
}

const fmt = (s?: Stats) => (s ? `**${(s.median / 1000).toFixed(2)} s** (${(s.min / 1000).toFixed(2)}–${(s.max / 1000).toFixed(2)})` : '-');
const fmtMs = (s?: Stats) => (s ? `**${s.median.toFixed(1)} ms** (${s.min.toFixed(1)}–${s.max.toFixed(1)})` : '-');
const ratio = (a?: Stats, b?: Stats) => (a && b && b.median > 0 ? `${(a.median / b.median).toFixed(2)}×` : '-');

const started = Date.now();
const loadStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
for (let round = 0; round < ROUNDS; round++) {
  // Alternate who goes first, so a trend in the machine's load favours neither.
  const order = round % 2 ? [...FLAVOURS].reverse() : FLAVOURS;
  for (const flavour of order) {
    try {
      await oneRun(flavour, round);
    } catch (error) {
      problems.push(`${flavour} round ${round}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
const loadEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const rows: PcmkRow[] = ROWS.map((r) => ({ id: r.id, label: r.label, ours: samples[r.id]?.ours ?? [], stock: samples[r.id]?.stock ?? [] }));
const lines = [
  `# Pacemaker rows (${quick ? 'quick run, rough numbers' : 'full run'})`,
  '',
  `Run ${new Date().toISOString()}, \`bun bench/pacemaker-phase.ts\` (from \`npm run bench\`), ${ROUNDS} round(s) per side, ours and stock alternating, one cluster at a time; ${Math.round((Date.now() - started) / 1000)} s.`,
  `Machine: ${cpus().length} CPU (${cpus()[0]?.model ?? '?'}), load average ${loadStart} at the start, ${loadEnd} at the end. Pacemaker 2.1.5, Corosync 3.1.7 (knet, token 500 ms), crmsh 4.4.1, three nodes (test/rig/pacemaker.ts), fencing by fence_hara through the host.`,
  'Ours: `ocf:hara:IPaddr`, `drbddisk`, `Filesystem`, `mysqld`, configured from `ha-agent crm-config` on the tutorial\'s haresources line.',
  'Stock: Debian\'s resource-agents 4.12 `ocf:heartbeat:IPaddr2`, `Filesystem`, `mysql` (binary=mariadbd), and our `drbddisk` on both sides (`ocf:linbit:drbd` needs the DRBD kernel module).',
  'Same monitor interval (10 s), timeouts, location preference and stickiness on both sides. Times: from the trigger to the first row the client committed through the VIP on the node that then held the group; medians (min–max).',
  '',
  '| Scenario | Ours | Stock | n | Ours/stock |',
  '|---|---|---|---|---|',
  ...rows.map((r) => {
    const [o, s] = [stats(r.ours), stats(r.stock)];
    return `| ${r.label} | ${fmt(o)} | ${fmt(s)} | ${o?.n ?? 0}/${s?.n ?? 0} | ${ratio(o, s)} |`;
  }),
  '',
  'Detection ("failure counted") is mostly where the 10 s monitor cycle happened to be when the trigger came (uniform over 0–10 s), not the agent; the recovery rows start when Pacemaker counted the failure and end at the first write after the client\'s outage.',
  '',
  `Monitor cost per call (CPU ms, user + system of the agent and everything it runs; ${MONITOR_CALLS} calls in a loop on the holder, OCF environment as Pacemaker's executor sets it):`,
  '',
  '| Resource | Ours | Stock | Ours/stock | wall per call, ours / stock |',
  '|---|---|---|---|---|',
  ...Object.entries(monitorCpu).map(([role, sides]) => {
    const [o, s] = [stats(sides.ours.cpuMs), stats(sides.stock.cpuMs)];
    const [ow, sw] = [stats(sides.ours.wallMs), stats(sides.stock.wallMs)];
    return `| ${role}: \`${sides.ours.agent}\` vs \`${sides.stock.agent}\` | ${fmtMs(o)} | ${fmtMs(s)} | ${ratio(o, s)} | ${ow?.median.toFixed(1) ?? '-'} / ${sw?.median.toFixed(1) ?? '-'} ms |`;
  }),
  '',
  `Safety: ${safetySamples} samples (VIP, /data, DRBD Primary, mysqld on every node, every 100 ms; longest gap ${longestGap} ms), ${problems.filter((p) => p.includes('two holders')).length} moments with two holders.`,
  ...(problems.length ? ['', 'Problems:', ...problems.map((p) => `- ${p}`)] : []),
  '',
];
const md = lines.join('\n');
writeFileSync(`${ROOT}/bench/results/${quick ? 'pacemaker-quick' : 'pacemaker'}.md`, md);
writeFileSync(OUT, JSON.stringify({ rows, monitorCpu, problems, safetySamples, longestGap }, null, 2));
console.log(md);
