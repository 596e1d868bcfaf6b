// Split-brain rows (issue 15): the tutorial's last section on the e2e rig,
// stock resource.d and ours side by side. master2 stops hearing master1
// (heartbeat link down; or every process of master1 killed, the node up),
// declares it dead after deadtime and runs takegroup for a group master1
// still holds. Measured: how long the VIP was configured on both nodes
// (`ip monitor` in each node's namespace, every add and delete), whether
// master2 became Primary / mounted / ran mysqld, the client's longest write
// gap while the fault lasted, and committed rows lost after the heal.
// The two sides run at the same time, each in its own cluster.
// Usage (from run.sh): bun bench/split-brain-phase.ts --tmp DIR --agents DIR --id ID --out FILE [--quick]
//   --kinds heartbeat-link,processes-killed   scenarios (default both; --quick: heartbeat-link)
//   --hold-ms N                                fault duration (default deadtime + 40 s)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { stats } from './lib/measure.ts';
import { phaseArgs } from './lib/args.ts';
import { makeStockResourceDir } from './lib/stock.ts';
import type { PhaseResult, Row, Side } from './lib/types.ts';
import { Cluster, DEFAULT_TIMINGS } from '../test/rig/cluster.ts';
import { SPLIT_BRAIN_TRIGGERS, runSplitBrain, startClusterWithWriter, type SplitBrainKind, type SplitBrainResult } from '../test/rig/split-brain.ts';

const { ROOT, opt, quick, TMP, AGENTS, OUT } = phaseArgs('split-brain.json');
const ID = opt('--id', `sb${process.pid}`)!;
const KINDS = opt('--kinds', quick ? 'heartbeat-link' : 'heartbeat-link,processes-killed')!.split(',') as SplitBrainKind[];
const HOLD_MS = Number(opt('--hold-ms', String(DEFAULT_TIMINGS.deadtime * 1000 + 40_000)));
const SIDES = ['ours', 'stock'] as const satisfies readonly Side[];

const result: PhaseResult & { details: Record<string, unknown> } = { rows: [], rss: [], notes: [], details: {} };
const save = () => writeFileSync(OUT, JSON.stringify(result, null, 2));

/** Longest stretch without an acknowledged write between two instants. */
function longestWriteGap(cluster: Cluster, from: number, to: number): number {
  const ok = cluster.writes.filter((w) => w.ok !== undefined && w.t >= from && w.t <= to).map((w) => w.t);
  const points = [from, ...ok, to];
  return Math.max(...points.slice(1).map((t, i) => t - points[i]!));
}

const what = (r: SplitBrainResult) => {
  const held = Object.entries(r.ever.master2).filter(([, v]) => v).map(([k]) => k);
  return held.length ? `master2 held ${held.join(', ')}` : 'master2 held nothing';
};

async function runSide(side: Side, kind: SplitBrainKind, agentsDir: string, n: number) {
  const cluster = await Cluster.create({ id: `${ID}-${n}${side === 'ours' ? 'o' : 's'}`, agentsDir, workBase: TMP });
  try {
    await startClusterWithWriter(cluster);
    const r = await runSplitBrain(cluster, kind, { holdMs: HOLD_MS });
    return { r, writeGapMs: longestWriteGap(cluster, r.triggerAt, r.healAt ?? r.endAt) };
  } finally {
    await cluster.destroy().catch((error: Error) => result.notes.push(`${side} ${kind} cluster teardown: ${error.message}`));
  }
}

async function main() {
  const stock = makeStockResourceDir(TMP, ROOT);
  // The tuned shell group runs the same stock IPaddr as the stock side: its duplicate-VIP window is the stock one.
  const dirs: Record<(typeof SIDES)[number], string> = { ours: AGENTS, stock: stock.dir };
  const md: string[] = [];
  for (const [n, kind] of KINDS.entries()) {
    process.stderr.write(`bench: split brain (${kind}), ours and stock at once\n`);
    const runs = await Promise.allSettled(SIDES.map((side) => runSide(side, kind, dirs[side], n)));
    const label = `split brain: ${SPLIT_BRAIN_TRIGGERS[kind]} for ${(HOLD_MS / 1000).toFixed(0)} s`;
    const dup: Row = { id: `splitbrain.${kind}.dupvip`, section: 'failover', label: `${label} — VIP on both nodes`, unit: 's' };
    const gap: Row = { id: `splitbrain.${kind}.writegap`, section: 'failover', label: `${label} — client's longest write gap while it lasts`, unit: 's' };
    md.push(`### ${label}`, '', '| | ours | stock |', '|---|---|---|');
    const cells: Record<string, Partial<Record<Side, string>>> = {};
    const put = (key: string, side: Side, text: string) => { (cells[key] ??= {})[side] = text; };
    for (const [i, side] of SIDES.entries()) {
      const run = runs[i]!;
      const noteKey = side === 'ours' ? 'oursNote' : 'stockNote';
      if (run.status === 'rejected') {
        const why = String((run.reason as Error)?.message ?? run.reason).split('\n')[0]!.slice(0, 300);
        dup[noteKey] = gap[noteKey] = `failed: ${why}`;
        result.notes.push(`${side} ${kind}: ${why}`);
        put('error', side, why);
        continue;
      }
      const { r, writeGapMs } = run.value;
      dup[side] = stats([r.duplicateVipMs]);
      gap[side] = stats([writeGapMs]);
      dup[noteKey] = `${what(r)}; master2 ran ${r.master2Runs.map((x) => `${x.script} ${x.action}`).join(', ') || 'nothing'}`;
      gap[noteKey] = `after the heal: ${r.holder ?? 'no single holder'}, ${r.committedRows} rows committed, ${r.missingRows.length} missing${r.error ? `; ${r.error.split('\n')[0]!.slice(0, 200)}` : ''}`;
      result.details[`${kind}.${side}`] = {
        duplicateVipMs: r.duplicateVipMs, duplicateVipSampledMs: r.duplicateVipSampledMs, vipIntervals: r.vipIntervals, triggerAt: r.triggerAt, healAt: r.healAt,
        declaredDeadAfterMs: r.declaredDeadAfterMs, master2Runs: r.master2Runs, ever: r.ever, bothSampled: r.bothSampled, samples: r.samples.length,
        sampleGapMs: r.sampleGapMs, writeGapMs, writeGapAfterHealMs: r.writeGapAfterHealMs, holder: r.holder, committedRows: r.committedRows,
        missingRows: r.missingRows.length, writesServedByMaster2: r.writesServedByMaster2, stubCalls: r.stubCalls, error: r.error,
        refusal: r.master2LogDuringOutage.filter((l) => /IPaddr.*(ERROR|refus|already)/i.test(l)).slice(0, 3),
      };
      const onMaster2 = r.vipIntervals.master2;
      const added = onMaster2[0]?.from;
      const removed = onMaster2.at(-1)?.to;
      put('VIP on both nodes (ip monitor: every add/delete)', side, `**${(r.duplicateVipMs / 1000).toFixed(2)} s**` +
        (added !== undefined && removed !== undefined ? ` (master2 first added it ${((added - r.triggerAt) / 1000).toFixed(2)} s after the trigger, last removed it ${((removed - r.triggerAt) / 1000).toFixed(2)} s after; ${onMaster2.length} add/delete pairs)` : ''));
      put('VIP on both nodes (samples)', side, `${(r.duplicateVipSampledMs / 1000).toFixed(2)} s (${r.samples.length} samples, gap median ${r.sampleGapMs.median} ms, max ${r.sampleGapMs.max} ms)`);
      put('master2 declared master1 dead after', side, r.declaredDeadAfterMs === undefined ? '—' : `${(r.declaredDeadAfterMs / 1000).toFixed(1)} s`);
      put('master2 Primary / mounted / mysqld (sampled, ever)', side, `${r.ever.master2.primary ? 'yes' : 'no'} / ${r.ever.master2.mounted ? 'yes' : 'no'} / ${r.ever.master2.mysqld ? 'yes' : 'no'}`);
      put('master2 ran', side, r.master2Runs.map((x) => `${x.script} ${x.action}`).join(', ') || 'nothing');
      put('what master2 logged about the VIP', side, (result.details[`${kind}.${side}`] as { refusal: string[] }).refusal.map((l) => `\`${l.replace(/^.*?(IPaddr)/, '$1').replace(/\|/g, '\\|').slice(0, 220)}\``).join('<br>') || '—');
      put("client's longest write gap while the fault lasted", side, `${(writeGapMs / 1000).toFixed(2)} s`);
      put('writes served by master2', side, String(r.writesServedByMaster2));
      put('after the heal', side, `${r.holder ?? 'no single holder'}; ${r.committedRows} rows committed, ${r.missingRows.length} missing; longest write gap after the heal ${r.writeGapAfterHealMs === undefined ? '—' : `${(r.writeGapAfterHealMs / 1000).toFixed(1)} s`}`);
      put('reboot/pkill stub calls', side, String(r.stubCalls.master1.length + r.stubCalls.master2.length));
      if (r.error) put('error', side, r.error.split('\n')[0]!.slice(0, 300));
    }
    for (const [key, v] of Object.entries(cells)) md.push(`| ${key} | ${v.ours ?? '—'} | ${v.stock ?? '—'} |`);
    md.push('');
    dup.note = 'total time the VIP was configured on both nodes (ip monitor in each node\'s namespace); ours and stock ran at the same time, one cluster each';
    result.rows.push(dup, gap);
    save();
  }
  const header = [
    `## Split brain: ours vs stock (${new Date().toISOString().replace(/\.\d+Z$/, 'Z')})`,
    '',
    `Command: \`npm run bench\` (its split-brain phase; alone: \`bun bench/split-brain-phase.ts --tmp DIR\`)${quick ? ', --quick' : ''}. ` +
      `deadtime ${DEFAULT_TIMINGS.deadtime} s, keepalive ${DEFAULT_TIMINGS.keepalive}; the fault lasts ${(HOLD_MS / 1000).toFixed(0)} s, then heals. ` +
      'A client writes a row through the VIP every 100 ms all along. One run per side (a scenario takes about two minutes); ' +
      `load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
    '',
    `Stock side: ${stock.description}.`,
    '',
  ];
  const reading = [
    'How to read it:',
    '- Stock IPaddr adds the VIP without asking the LAN whether someone answers for it and announces it by gratuitous ARP; stock drbddisk then',
    '  retries `drbdadm primary` (refused: the peer is Primary and DRBD, replicating over the LAN, is still connected) for ~5 s and fails,',
    '  and ResourceManager gives the group up, removing the VIP: those seconds are the duplicate-VIP window.',
    '- The client\'s ARP entry followed the gratuitous ARP to master2 and kept pointing there after master2 dropped the VIP, until the kernel',
    '  found the entry stale (tens of seconds): with stock, writes stopped although master1 was healthy all along. Ours never adds the VIP',
    '  (`refusing to start: … already answers from <MAC> …`), so the client never moves.',
    '- "after the heal": heartbeat link back up, or (processes killed) `heartbeat` started again on master1 by the operator. After a',
    '  partition heartbeat v1 has both nodes give up all resources and restart, so a ~20 s gap follows the heal with either agent set.',
    '- With every process of master1 killed nothing serves writes until heartbeat is started there again (mysqld is gone, the VIP is not).',
    '',
  ];
  mkdirSync(`${ROOT}/bench/results`, { recursive: true });
  const file = `${ROOT}/bench/results/${quick ? 'split-brain-quick' : 'split-brain'}.md`;
  writeFileSync(file, [...header, ...md, ...reading, ...(result.notes.length ? ['Run notes:', ...result.notes.map((n) => `- ${n}`), ''] : [])].join('\n'));
  process.stderr.write(`bench: wrote ${file.replace(`${ROOT}/`, '')}\n`);
}

await main().catch((error) => {
  result.notes.push(`split-brain phase: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
}).finally(save);
