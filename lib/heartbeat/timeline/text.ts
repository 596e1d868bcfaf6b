// The timeline as text: one block per incident, in time order.
import type { Analysis, Call, Incident, LineRef } from './analyze.ts';

const p2 = (n: number, w = 2) => String(n).padStart(w, '0');

/** hh:mm:ss.mmm, or hh:mm:ss for a whole-second stamp: no invented milliseconds. */
export function clockOf(t: number, coarse: boolean): string {
  const d = new Date(t);
  const base = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return coarse ? `${base}    ` : `${base}.${p2(d.getMilliseconds(), 3)}`;
}

export function dateOf(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
}

/** A duration honest about its resolution. */
export function durationText(ms: number | undefined, coarse: boolean): string {
  if (ms === undefined) return 'still running at the end of the log';
  if (coarse) return ms < 1000 ? '< 1 s' : `~${Math.round(ms / 1000)} s`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(3)} s` : `${(ms / 1000).toFixed(1)} s`;
}

export const TRIGGER_TEXT: Record<string, (i: Incident) => string> = {
  'node-dead': (i) => `${i.trigger.subject} declared dead by ${i.trigger.node}`,
  shutdown: (i) => `shutdown of heartbeat on ${i.trigger.subject}`,
  'link-dead': (i) => `heartbeat link to ${i.trigger.subject} dead (seen by ${i.trigger.node})`,
  partition: (i) => `partition: ${i.trigger.subject} lost by ${i.trigger.node} while it kept running`,
  standby: (i) => `standby request by ${i.trigger.subject}`,
  'node-back': (i) => `${i.trigger.subject} back (heartbeat restarted there)`,
  start: (i) => `heartbeat started on ${i.trigger.subject}`,
  unknown: () => 'trigger not in the logs',
};

export function incidentTitle(i: Incident): string {
  return (TRIGGER_TEXT[i.trigger.kind] ?? TRIGGER_TEXT.unknown!)(i);
}

const short = (text: string) => text.replace(/\/etc\/ha\.d\/+resource\.d\/+/g, '').replace(/\/usr\/share\/heartbeat\//g, '');

function lineText(l: LineRef, width: number): string {
  return `${clockOf(l.t, l.coarse)}  ${l.node.padEnd(width)}  ${l.tag.replace(/\[\d+\]$/, '').padEnd(16)} ${short(l.text)}`;
}

function callText(c: Call, width: number): string {
  const rc = c.rc === undefined ? '' : `, rc ${c.rc}${c.rc ? ' (failed)' : ''}`;
  const dur = c.endInferred && c.durationMs !== undefined ? `≤ ${durationText(c.durationMs, c.coarse).replace(/^[~<] ?/, '')} (end not logged: up to the next line)` : durationText(c.durationMs, c.coarse);
  return `${clockOf(c.start, c.startCoarse)}  ${c.node.padEnd(width)}  ${'CALL'.padEnd(16)} ${c.action} ${c.resource}: ${dur}${rc}`;
}

export function outcomeText(i: Incident): string {
  const byNode = new Map<string, string[]>();
  const nobody: string[] = [];
  for (const o of i.outcome) {
    if (!o.holders.length) nobody.push(o.resource + (o.unknown.length ? ` (unknown on ${o.unknown.join(', ')})` : ''));
    for (const h of o.holders) byNode.set(h, [...(byNode.get(h) ?? []), o.resource]);
  }
  const parts = [...byNode.entries()].map(([n, rs]) => `${n} holds ${rs.length === i.outcome.length && rs.length > 1 ? `the group (${rs.join(' ')})` : rs.join(' ')}`);
  if (nobody.length) parts.push(`nobody holds ${nobody.join(' ')}`);
  return parts.join('; ') || 'no resource seen';
}

export function gapText(i: Incident): string | undefined {
  const g = i.gap;
  if (!g) return undefined;
  if (g.to === undefined) return `service down from ${clockOf(g.from, g.coarse).trim()}, ${g.note}`;
  return `${durationText(g.ms, g.coarse)} (${clockOf(g.from, g.coarse).trim()} → ${clockOf(g.to, g.coarse).trim()}), ${g.note}`;
}

export function renderText(a: Analysis, problems: readonly string[] = []): string {
  const out: string[] = [];
  writeText(a, problems, (line) => out.push(line));
  return `${out.join('\n')}\n`;
}

/**
 * The text, one line at a time (no newline): `ha-agent timeline` writes it as
 * it goes instead of holding the whole report as one string.
 */
export function writeText(a: Analysis, problems: readonly string[], emit: (line: string) => void): void {
  const out = { push: emit };
  const width = Math.max(7, ...a.nodes.map((n) => n.length));
  if (!a.range) {
    out.push(`no heartbeat log lines${a.nodes.length ? '' : ' (no readable file)'}`);
  } else {
    out.push(`${a.nodes.length} node(s): ${a.nodes.join(', ')}; ${dateOf(a.range.from)} ${clockOf(a.range.from, true).trim()} .. ${dateOf(a.range.to)} ${clockOf(a.range.to, true).trim()}; ${a.incidents.length} incident(s)`);
    for (const o of a.offsets) {
      if (o.source === 'reference' && a.nodes.length > 1) out.push(`clock: ${o.node} is the reference`);
      else if (o.source !== 'reference') out.push(`clock: ${o.node} ${o.ms >= 0 ? '+' : ''}${o.ms} ms${o.uncertaintyMs !== undefined ? ` ±${o.uncertaintyMs} ms` : ''} against ${a.nodes[0]} (${o.note})${o.appliedMs ? `; its times below are in ${a.nodes[0]}'s clock` : ''}`);
    }
    out.push(`resolution: heartbeat's own lines to the second (shown without .mmm); ResourceManager and agents: ${a.resolution.fineLines} line(s) to the ms, ${a.resolution.coarseLines} to the second`);
    if (a.resolution.hint) out.push(`hint: ${a.resolution.hint}`);
  }
  for (const i of a.incidents) {
    out.push('');
    out.push(`incident ${i.id}: ${incidentTitle(i)} — ${dateOf(i.start)} ${clockOf(i.start, true).trim()} .. ${clockOf(i.end, true).trim()}`);
    const rows: { t: number; text: string; sub?: string[] }[] = [];
    for (const d of i.decisions) rows.push({ t: d.t, text: lineText(d, width) });
    for (const c of i.calls) {
      const sub = [...c.steps.map((s) => `      ${lineText(s, width)}`), ...c.refusals.map((s) => `   !! ${lineText(s, width)}`)].sort();
      rows.push({ t: c.start, text: callText(c, width), sub });
    }
    for (const s of i.steps) rows.push({ t: s.t, text: lineText(s, width) });
    for (const s of i.refusals) rows.push({ t: s.t, text: `${lineText(s, width)}   <- refused` });
    rows.sort((x, y) => x.t - y.t);
    for (const r of rows) {
      out.push(`  ${r.text}`);
      for (const s of r.sub ?? []) out.push(`  ${s}`);
    }
    for (const n of i.notes) out.push(`  note: ${n}`);
    out.push(`  outcome: ${outcomeText(i)}`);
    const gap = gapText(i);
    if (gap) out.push(`  service gap: ${gap}`);
  }
  if (problems.length) {
    out.push('');
    for (const p of problems) out.push(`skipped: ${p}`);
  }
}
