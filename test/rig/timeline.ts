// The takeover timeline to the millisecond, from the nodes' ha-debug files
// and the client's records. With the cluster's `timeline` option each node's
// /etc/ha.d/shellfuncs sets HA_DATEFMT="%Y/%m/%d_%T.%3N " and HA_debug=1
// (the heartbeat daemon forces its own HA_DATEFMT on its children;
// ResourceManager then sources shellfuncs): ResourceManager's "Acquiring /
// Releasing resource group", "Starting X ... start" and "X ... start done.
// RC=0" lines, the stock agents' lines (date +%3N) and ours (lib/system/log.ts)
// carry milliseconds. The daemon's own lines ("node master1: is dead",
// "Received shutdown notice") are stamped by heartbeat to the second only,
// syslog style ("Nov 28 19:00:56 master2 heartbeat: [88]: WARN: ...").

import { rmMeaning } from '../../lib/heartbeat/timeline/classify.ts';
import { parseLogText } from '../../lib/heartbeat/timeline/parse.ts';
import type { NodeName, WriterRecord } from './cluster.ts';

export interface TimelineLine {
  node: NodeName;
  /** Epoch ms. */
  t: number;
  /** true: heartbeat's own stamp, whole seconds only. */
  coarse: boolean;
  /** Program and pid, e.g. "ResourceManager[812]", "IPaddr[900]", "heartbeat[77]". */
  tag: string;
  text: string;
}

/**
 * ha-debug lines (ha_log / ha_debug of the shell functions and
 * lib/system/log.ts, and the daemon's syslog-style lines), parsed by the
 * product's parser (lib/heartbeat/timeline/parse.ts, `ha-agent timeline`).
 * `year`: for the daemon's stamps, which carry none (default this year).
 */
export function parseHaDebug(text: string, node: NodeName, year = new Date().getFullYear()): TimelineLine[] {
  return parseLogText(text, node, { hint: { year, month: 11 } }).map((l) => ({ node, t: l.t, coarse: l.coarse, tag: l.tag, text: l.text }));
}

export const RESOURCE_SCRIPTS = ['IPaddr', 'drbddisk', 'Filesystem', 'mysqld'] as const;
export type ResourceScript = (typeof RESOURCE_SCRIPTS)[number];

/** One resource's phase in takegroup or givegroup, as ResourceManager runs it. */
export interface ResourcePhase {
  node: NodeName;
  script: string;
  action: 'start' | 'stop';
  /** End of the previous step (the group line or the previous resource's call): the status call, if any, is inside. */
  from: number;
  /** ResourceManager's "Starting ..." line: the call itself begins. */
  callFrom: number;
  /** "... done. RC=N" (or the end of the window for a call still running: rc -1). */
  to: number;
  rc: number;
}

/**
 * takegroup / givegroup phases from ResourceManager's lines: each resource's
 * phase runs from the end of the previous one (or the "Acquiring / Releasing
 * resource group" line) to its "done. RC=" line, so it holds the status call
 * ResourceManager makes first in takegroup (we_own_resource) and its own
 * bookkeeping: the phase as heartbeat runs it.
 */
export function resourcePhases(lines: TimelineLine[], openUntil?: number): ResourcePhase[] {
  const phases: ResourcePhase[] = [];
  let mark: number | undefined;
  let starting: { t: number; script: string; action: string } | undefined;
  for (const l of lines) {
    if (!/^ResourceManager\b/.test(l.tag) || l.coarse) continue;
    // ResourceManager's lines as the product reads them (lib/heartbeat/timeline/classify.ts).
    const m = rmMeaning(l.text);
    if (m?.kind === 'group') {
      mark = l.t;
      continue;
    }
    if (m?.kind === 'call' && m.debug) {
      starting = { t: l.t, script: m.script, action: m.action };
      continue;
    }
    if (m?.kind === 'done' && mark !== undefined) {
      const callFrom = starting && starting.script === m.script ? starting.t : l.t;
      phases.push({ node: l.node, script: m.script, action: m.action as 'start' | 'stop', from: mark, callFrom, to: l.t, rc: m.rc });
      mark = l.t;
      starting = undefined;
    }
  }
  // A call still running (no "done" line yet) when the window closes: a
  // script that sleeps out its poll after the server already took the write.
  if (starting && mark !== undefined && openUntil !== undefined) {
    const node = lines.at(-1)!.node;
    phases.push({ node, script: starting.script, action: starting.action as 'start' | 'stop', from: mark, callFrom: starting.t, to: Math.max(starting.t, openUntil), rc: -1 });
  }
  return phases;
}

export interface ScenarioSplit {
  totalMs: number;
  /** Heartbeat daemon and ResourceManager: detection, messages, and everything between the resource phases. */
  heartbeatMs: number;
  /** Per resource script: its phases (status + call) on both nodes inside the scenario. */
  scripts: Record<string, number>;
  /** From the new holder's takegroup end (mysqld started) to the first committed write (VIP, client, MySQL's first commit). */
  clientMs: number;
  /**
   * Our mysqld only (its lines say it): the MySQL server's own share of the
   * mysqld part — mariadbd spawned → accepts connections, SIGTERM → gone.
   */
  mysqlServerMs?: number;
  /** From the last TCP connect that served the first write to that write. */
  firstAcceptAt?: number;
  phases: ResourcePhase[];
}

/**
 * Splits trigger → first committed write into heartbeat / each script /
 * client. Only phases inside the window count; whatever is not a resource
 * phase or the client's tail is heartbeat's (daemon + ResourceManager).
 */
export function splitScenario(lines: TimelineLine[], trigger: number, firstWrite: WriterRecord, connects: number[]): ScenarioSplit {
  const end = firstWrite.t;
  // One node's ResourceManager lines at a time: the two nodes' steps interleave.
  // A phase still running at the first write (a script that returns after the
  // server already accepts writes, e.g. sleeping out its poll interval)
  // counts up to that write.
  const phases = (['master1', 'master2'] as NodeName[])
    .flatMap((node) => {
      const own = lines.filter((l) => l.node === node && l.t >= trigger - 5).sort((a, b) => a.t - b.t);
      return own.length ? resourcePhases(own, end) : [];
    })
    .filter((p) => p.from <= end)
    .map((p) => (p.to > end ? { ...p, to: end } : p))
    .sort((a, b) => a.to - b.to);
  const scripts: Record<string, number> = {};
  for (const p of phases) scripts[p.script] = (scripts[p.script] ?? 0) + (p.to - p.from);
  const lastStart = phases.filter((p) => p.action === 'start').at(-1);
  const clientMs = lastStart ? end - lastStart.to : 0;
  const inScripts = Object.values(scripts).reduce((a, b) => a + b, 0);
  const totalMs = end - trigger;
  const firstAcceptAt = connects.filter((c) => c <= end && c >= trigger).at(-1);
  return { totalMs, heartbeatMs: totalMs - inScripts - clientMs, scripts, clientMs, mysqlServerMs: mysqlServerShare(lines, trigger, end), firstAcceptAt, phases };
}

/** Our mysqld's "starting ... → accepts connections" and "stopping mysqld ... → stop: exit" spans inside the window. */
function mysqlServerShare(lines: TimelineLine[], trigger: number, end: number): number | undefined {
  let total: number | undefined;
  const open = new Map<string, number>();
  for (const l of lines) {
    // The two nodes are separate PID namespaces: the same tag can name two processes.
    const key = `${l.node} ${l.tag}`;
    if (!/^mysqld\[/.test(l.tag) || l.t < trigger || l.t > end || l.coarse) continue;
    if (/^INFO: (starting \S+ on |stopping mysqld \(pid)/.test(l.text)) open.set(key, l.t);
    else if (/^INFO: mysqld \(pid \d+\) accepts connections|^DEBUG: stop: exit/.test(l.text) && open.has(key)) {
      total = (total ?? 0) + l.t - open.get(key)!;
      open.delete(key);
    }
  }
  for (const from of open.values()) total = (total ?? 0) + end - from;
  return total;
}

/** Lines worth a place in a human timeline (the demo's): heartbeat's decisions, ResourceManager, the agents. */
export function isTimelineWorthy(l: TimelineLine): boolean {
  if (/^ResourceManager\b/.test(l.tag)) return /resource group|debug: Starting|done\. RC=|ERROR|CRIT/.test(l.text);
  if (l.tag.startsWith('heartbeat[')) return /is dead|shutdown notice|Heartbeat restart|resource acquisition|takeover complete|wants to go standby|foreign resources|local resources|Giving up|Comm_now_up|Link .* (up|dead)/.test(l.text);
  // The agents: every line but the "running X" half of each spawn (the "ran X: ... in N ms" half says it).
  if (/^DEBUG: running /.test(l.text)) return false;
  return /^(INFO|WARNING|ERROR|CRIT|DEBUG): /.test(l.text) || /^(info|debug|warn|error)/i.test(l.text);
}

/** hh:mm:ss.mmm (local time); heartbeat's whole-second stamps show as hh:mm:ss.~ */
export function clock(t: number, coarse = false): string {
  const d = new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${coarse ? '~  ' : p(d.getMilliseconds(), 3)}`;
}

/**
 * `ha-agent timeline --html` over the rig's logs (the product's command, not
 * a copy): the page of one window, for the demo and the bench. Returns the
 * incidents' one-line summaries.
 */
export async function writeTimelinePage(inputs: string[], file: string, options: { from?: number; to?: number; title?: string } = {}): Promise<string[]> {
  const { buildTimeline } = await import('../../lib/heartbeat/timeline/command.ts');
  const { renderHtml } = await import('../../lib/heartbeat/timeline/html.ts');
  const { incidentTitle, outcomeText, gapText } = await import('../../lib/heartbeat/timeline/text.ts');
  const { writeFileSync } = await import('node:fs');
  const r = await buildTimeline(inputs, { ...(options.from !== undefined ? { since: String(Math.floor(options.from)) } : {}), ...(options.to !== undefined ? { until: String(Math.ceil(options.to)) } : {}) });
  writeFileSync(file, renderHtml(r.analysis, options.title));
  return r.analysis.incidents.map((i) => `${incidentTitle(i)}: ${outcomeText(i)}${gapText(i) ? `; service gap ${gapText(i)}` : ''}`);
}
