// From the nodes' log lines to incidents, resource calls, swimlanes and the
// clock offset between the nodes. Pure: the reader (read.ts) hands over the
// lines that mean something (classify.ts), in each node's own file order.
import { classify, pairMarks, type Meaning, type PairMark, type TriggerKind } from './classify.ts';
import type { LogLine } from './parse.ts';

/** A line the reader keeps, before it is classified: where it came from as its file and line number. */
export interface EventLine extends Omit<LogLine, 'source'> {
  file: string;
  line: number;
}

/**
 * A line that means something. Its LineRef fields are its own, so the
 * incidents, calls and lanes point at the event itself instead of a copy per
 * use; what only the analysis needs, and its source (built when printed),
 * are private: as JSON it is the LineRef { node, t, coarse, tag, text, source }.
 * On 1 GiB of ha-debug (43 k events) that, with a leaner outcome sweep, took
 * the peak RSS from 123 to 109 MiB (bench/results/timeline.md).
 */
export class Event implements LineRef {
  node: string;
  t: number;
  coarse: boolean;
  tag: string;
  text: string;
  readonly #prog: string;
  readonly #file: string;
  readonly #line: number;
  readonly #meaning: Meaning | undefined;
  readonly #pairs: PairMark[] | undefined;

  constructor(line: EventLine, meaning: Meaning | undefined, pairs: PairMark[] | undefined) {
    this.node = line.node;
    this.t = line.t;
    this.coarse = line.coarse;
    this.tag = line.tag;
    this.text = line.text;
    this.#prog = line.prog;
    this.#file = line.file;
    this.#line = line.line;
    this.#meaning = meaning;
    this.#pairs = pairs;
  }

  get prog(): string {
    return this.#prog;
  }

  get meaning(): Meaning | undefined {
    return this.#meaning;
  }

  get pairs(): PairMark[] | undefined {
    return this.#pairs;
  }

  /** "FILE:LINE" */
  get source(): string {
    return `${this.#file}:${this.#line}`;
  }

  /** The same line at another time (in the reference clock). */
  at(t: number): Event {
    return new Event({ node: this.node, t, coarse: this.coarse, prog: this.#prog, tag: this.tag, text: this.text, file: this.#file, line: this.#line }, this.#meaning, this.#pairs);
  }

  toJSON(): LineRef {
    return { node: this.node, t: this.t, coarse: this.coarse, tag: this.tag, text: this.text, source: this.source };
  }
}

/** Classifies a line; undefined when it is noise (the reader drops it). */
export function toEvent(line: EventLine, meanings?: Meanings): Event | undefined {
  const [meaning, pairs] = meanings ? meanings.of(line.prog, line.text, line.node) : meaningOf(line.prog, line.text, line.node);
  if (!meaning && !pairs) return undefined;
  return new Event(line, meaning, pairs);
}

type Understood = [Meaning | undefined, PairMark[] | undefined];

function meaningOf(prog: string, text: string, node: string): Understood {
  const pairs = prog === 'heartbeat' ? pairMarks(text, node) : [];
  return [classify(prog, text), pairs.length ? pairs : undefined];
}

/**
 * What a message means, shared by every line with the same program, text and
 * node (read-only for the analysis): a node logs the same messages on every
 * takeover, and a Meaning per line was ~100 bytes of the 1 GiB log's events.
 * At most `max` distinct messages are remembered.
 */
export class Meanings {
  /** node → prog → text: no key string built per line. */
  readonly #seen = new Map<string, Map<string, Map<string, Understood>>>();
  #size = 0;
  constructor(readonly max: number) {}

  of(prog: string, text: string, node: string): Understood {
    let byProg = this.#seen.get(node);
    if (!byProg) this.#seen.set(node, (byProg = new Map()));
    let byText = byProg.get(prog);
    if (!byText) byProg.set(prog, (byText = new Map()));
    let m = byText.get(text);
    if (!m) {
      m = meaningOf(prog, text, node);
      if (this.#size < this.max) {
        byText.set(text, m);
        this.#size++;
      }
    }
    return m;
  }
}

export interface ClockOffset {
  node: string;
  /** This node's clock minus the reference node's, ms (estimated or given). */
  ms: number;
  /** What is subtracted from its stamps: 0 when the estimate is within its own uncertainty. */
  appliedMs: number;
  /** Half the width of what the paired messages allow (undefined: not estimated). */
  uncertaintyMs?: number;
  source: 'reference' | 'given' | 'estimated' | 'none';
  pairs: number;
  note: string;
}

const RES = (coarse: boolean) => (coarse ? 1000 : 1);
/** Without messages both ways, a message is assumed delivered within this. */
const ONE_WAY_MS = 1000;

/**
 * The clock of `node` against `ref` from heartbeat's paired messages: a
 * message ref → node bounds node's offset from above (it cannot arrive
 * before it left), one node → ref from below. Whole-second stamps widen
 * each bound by a second.
 */
export function estimateOffset(ref: Event[], node: Event[], nodeName: string, refName: string): ClockOffset {
  const o = estimateRaw(ref, node, nodeName, refName);
  return { ...o, appliedMs: o.ms };
}

function estimateRaw(ref: Event[], node: Event[], nodeName: string, refName: string): Omit<ClockOffset, 'appliedMs'> {
  // Real bounds (causality) and, for one direction only, bounds that assume delivery within ONE_WAY_MS.
  let lower = -Infinity;
  let upper = Infinity;
  let lowerAssumed = -Infinity;
  let upperAssumed = Infinity;
  let pairs = 0;
  type Mark = { key: string; t: number; coarse: boolean };
  const sends = (events: Event[]): Mark[] => events.flatMap((e) => (e.pairs ?? []).filter((p) => p.side === 'send').map((p) => ({ key: p.key, t: e.t, coarse: e.coarse })));
  const recvs = (events: Event[], sender: string): Mark[] => events.flatMap((e) => (e.pairs ?? []).filter((p) => p.side === 'recv' && (p.sender === undefined || p.sender === sender)).map((p) => ({ key: p.key, t: e.t, coarse: e.coarse })));
  const match = (from: Mark[], to: Mark[], bound: (s: Mark, r: Mark) => void) => {
    for (const r of to) {
      let best: Mark | undefined;
      for (const s of from) if (s.key === r.key && (!best || Math.abs(r.t - s.t) < Math.abs(r.t - best.t))) best = s;
      // Ten minutes: beyond that it is another occasion of the same message.
      if (best && Math.abs(r.t - best.t) <= 600_000) {
        bound(best, r);
        pairs++;
      }
    }
  };
  // ref → node: node's clock reads the receipt at r.t; off = r − s − delivery.
  match(sends(ref), recvs(node, refName), (s, r) => {
    upper = Math.min(upper, r.t - s.t + RES(r.coarse));
    lowerAssumed = Math.max(lowerAssumed, r.t - s.t - RES(s.coarse) - ONE_WAY_MS);
  });
  // node → ref: off = s − r + delivery.
  match(sends(node), recvs(ref, nodeName), (s, r) => {
    lower = Math.max(lower, s.t - r.t - RES(r.coarse));
    upperAssumed = Math.min(upperAssumed, s.t - r.t + RES(s.coarse) + ONE_WAY_MS);
  });
  const base = { node: nodeName, pairs };
  if (!pairs) return { ...base, ms: 0, source: 'none', note: `no paired messages between ${refName} and ${nodeName}: their clocks are taken as they are (give --offset ${nodeName}=±MS if you know better)` };
  const oneWay = lower === -Infinity || upper === Infinity;
  const lo = lower === -Infinity ? lowerAssumed : lower;
  const hi = upper === Infinity ? upperAssumed : upper;
  if (lo > hi) {
    return { ...base, ms: Math.round((lo + hi) / 2), uncertaintyMs: Math.round((lo - hi) / 2), source: 'estimated', note: `uncertain: the paired messages disagree (${fmtMs(hi)} .. ${fmtMs(lo)}; a clock stepped during the logs?)` };
  }
  const unc = Math.round((hi - lo) / 2);
  const ms = Math.round((lo + hi) / 2);
  if (oneWay) return { ...base, ms, uncertaintyMs: unc, source: 'estimated', note: `uncertain: messages one way only (${lower === -Infinity ? `${refName} → ${nodeName}` : `${nodeName} → ${refName}`}), assumed delivered within ${ONE_WAY_MS} ms` };
  return { ...base, ms, uncertaintyMs: unc, source: 'estimated', note: `from ${pairs} paired message(s)${unc >= 1000 ? ' (heartbeat stamps its lines to the second: no closer than that)' : ''}` };
}

const fmtMs = (ms: number) => `${ms >= 0 ? '+' : ''}${ms} ms`;

export type LaneState = 'held' | 'starting' | 'stopping' | 'refused' | 'unknown';

export interface LineRef {
  node: string;
  t: number;
  coarse: boolean;
  tag: string;
  text: string;
  source: string;
}

export interface Call {
  node: string;
  resource: string;
  script: string;
  action: string;
  start: number;
  /** undefined: still running when the log ends. */
  end?: number;
  /** A boundary is stamped to the second only. */
  coarse: boolean;
  /** The start's own stamp is to the second only. */
  startCoarse: boolean;
  /** The end is the next line of ResourceManager or heartbeat, not a "done" line (HA_debug off). */
  endInferred: boolean;
  durationMs?: number;
  /** undefined: not logged (no "done. RC=" line, no "Return code" error). */
  rc?: number;
  lines: LineRef[];
  steps: LineRef[];
  refusals: LineRef[];
}

export interface Segment {
  state: LaneState;
  from: number;
  to: number;
  coarse: boolean;
  lines: LineRef[];
  note?: string;
}

export interface Lane {
  node: string;
  resource: string;
  segments: Segment[];
}

export interface Incident {
  id: number;
  start: number;
  end: number;
  trigger: { kind: TriggerKind | 'unknown'; node: string; subject: string; t: number; coarse: boolean; text: string };
  /** heartbeat's own lines in the incident: triggers and decisions. */
  decisions: LineRef[];
  calls: Call[];
  /** Agent steps and refusals not inside a call ResourceManager logged. */
  steps: LineRef[];
  refusals: LineRef[];
  outcome: { resource: string; holders: string[]; unknown: string[] }[];
  gap?: { from: number; to?: number; ms?: number; coarse: boolean; note: string };
  notes: string[];
}

export interface Analysis {
  nodes: string[];
  offsets: ClockOffset[];
  range?: { from: number; to: number };
  incidents: Incident[];
  lanes: Lane[];
  resolution: { fineLines: number; coarseLines: number; hint?: string };
}

export const MS_HINT = 'heartbeat stamps its own lines to the second; for milliseconds on ResourceManager\'s and the agents\' lines put HA_DATEFMT=\'%Y/%m/%d_%T.%3N \'; export HA_DATEFMT (and HA_debug=1; export HA_debug for each call\'s start and end) at the end of /etc/ha.d/shellfuncs on every node';

/** An event as the line behind a call, a bar or a decision: itself (its JSON is the LineRef). */
const ref = (e: Event): LineRef => e;

/** Lines that end a group's run: what follows the last call of a takegroup/givegroup. */
const GROUP_END = /resource acquisition completed|HA resource release completed|All HA resources relinquished|takeover complete|foreign resources acquired|Initial resource acquisition complete|Standby resource acquisition done/;
const SETTLED = /takeover complete|Initial resource acquisition complete|Other node completed standby takeover|Standby resource acquisition done|Heartbeat shutdown complete/;

/** ResourceManager's calls on one node, with the agents' lines inside each. */
function buildCalls(events: Event[]): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, Call>();
  const close = (c: Call, end: number, coarse: boolean, inferred: boolean) => {
    c.end = end;
    c.endInferred = inferred;
    c.coarse ||= coarse;
    c.durationMs = end - c.start;
  };
  const closeAll = (t: number, coarse: boolean) => {
    for (const [k, c] of open) {
      close(c, t, coarse, true);
      open.delete(k);
    }
  };
  for (const e of events) {
    const m = e.meaning;
    const isRm = e.prog === 'ResourceManager';
    if (m?.kind === 'call') {
      const current = open.get(e.tag);
      if (current && current.resource === m.resource && current.action === m.action && m.debug && current.lines.length === 1) {
        // "debug: Starting" right after "info: Running": the call itself begins here.
        current.start = e.t;
        current.coarse = e.coarse;
        current.startCoarse = e.coarse;
        current.lines.push(ref(e));
        continue;
      }
      if (current) {
        close(current, e.t, e.coarse, true);
        open.delete(e.tag);
      }
      const c: Call = { node: e.node, resource: m.resource, script: m.script, action: m.action, start: e.t, coarse: e.coarse, startCoarse: e.coarse, endInferred: false, lines: [ref(e)], steps: [], refusals: [] };
      calls.push(c);
      open.set(e.tag, c);
    } else if (m?.kind === 'done') {
      const c = open.get(e.tag);
      if (c && c.resource === m.resource) {
        c.lines.push(ref(e));
        c.rc = m.rc;
        close(c, e.t, e.coarse, false);
        open.delete(e.tag);
      }
    } else if (m?.kind === 'rc') {
      const c = findLast(calls, (x) => x.script === m.script);
      if (c) {
        c.rc = m.rc;
        c.lines.push(ref(e));
      }
    } else if (m?.kind === 'step' || m?.kind === 'refusal') {
      const c = [...open.values()].find((x) => x.script === m.script) ?? findLast(calls, (x) => x.script === m.script && x.end !== undefined && x.end >= e.t, 8);
      if (c) {
        (m.kind === 'step' ? c.steps : c.refusals).push(ref(e));
        c.lines.push(ref(e));
      }
    } else if (isRm) {
      // Another line of ResourceManager: the call before it is over (HA_debug off: no "done" line).
      closeAll(e.t, e.coarse);
    } else if (GROUP_END.test(e.text) || /Giving up all HA resources|give up \w+ HA resources/.test(e.text)) {
      closeAll(e.t, e.coarse);
    }
  }
  return calls;
}

/** The lanes of one node from its calls; `lost` cuts what it held when another node declared it dead. */
function buildLanes(node: string, calls: Call[], lost: { from: number; until: number }[], end: number): Lane[] {
  const lanes = new Map<string, Lane>();
  const held = new Map<string, Segment>();
  const lane = (resource: string) => {
    let l = lanes.get(resource);
    if (!l) lanes.set(resource, (l = { node, resource, segments: [] }));
    return l;
  };
  const timeline = [...calls].sort((a, b) => a.start - b.start);
  let li = 0;
  const applyLoss = (until: number) => {
    while (li < lost.length && lost[li]!.from <= until) {
      const loss = lost[li++]!;
      for (const [resource, seg] of held) {
        seg.to = Math.max(seg.from, loss.from);
        held.delete(resource);
        const u: Segment = { state: 'unknown', from: seg.to, to: loss.until, coarse: true, lines: [], note: `${node} was declared dead; what it held is not in its log until it speaks again` };
        lane(resource).segments.push(u);
      }
    }
  };
  for (const c of timeline) {
    applyLoss(c.start);
    const l = lane(c.resource);
    const callEnd = c.end ?? end;
    const h = held.get(c.resource);
    if (h) {
      h.to = c.start;
      h.lines.push(c.lines[0]!);
      held.delete(c.resource);
    }
    // An unknown stretch (declared dead) ends where the node acts on the resource again.
    for (const s of l.segments) if (s.state === 'unknown' && s.to > c.start) s.to = c.start;
    if (c.action === 'start') {
      const failed = c.rc !== undefined && c.rc !== 0;
      l.segments.push({ state: failed ? 'refused' : 'starting', from: c.start, to: callEnd, coarse: c.coarse, lines: c.lines });
      if (!failed && c.end !== undefined) {
        const seg: Segment = { state: 'held', from: callEnd, to: end, coarse: c.coarse, lines: [c.lines.at(-1)!] };
        l.segments.push(seg);
        held.set(c.resource, seg);
      }
    } else {
      l.segments.push({ state: 'stopping', from: c.start, to: callEnd, coarse: c.coarse, lines: c.lines });
      if (c.rc !== undefined && c.rc !== 0) l.segments.push({ state: 'unknown', from: callEnd, to: end, coarse: c.coarse, lines: c.lines, note: `stop failed (rc ${c.rc})` });
    }
  }
  applyLoss(Infinity);
  return [...lanes.values()];
}

function stateAt(lane: Lane, t: number): LaneState | undefined {
  let state: LaneState | undefined;
  for (const s of lane.segments) if (s.from <= t && t < s.to) state = s.state;
  return state;
}

export interface AnalyzeOptions {
  /** Node → its clock minus the reference's, ms (--offset). */
  offsets?: Record<string, number>;
  since?: number;
  until?: number;
  /**
   * Called between the phases (the CLI passes a full collection): Bun let
   * each phase's garbage pile up under the next, ~+10 MiB peak RSS on 1 GiB
   * of ha-debug (bench/results/timeline.md).
   */
  between?: () => void;
}

/**
 * Everything the renderers show. `byNode`: each node's events in its own
 * order and clock (several files of one node already merged).
 */
export function analyze(byNode: Map<string, Event[]>, options: AnalyzeOptions = {}): Analysis {
  const nodes = [...byNode.keys()].sort();
  const offsets: ClockOffset[] = [];
  const refName = nodes[0];
  for (const node of nodes) {
    const given = options.offsets?.[node];
    if (given !== undefined) offsets.push({ node, ms: given, appliedMs: given, source: 'given', pairs: 0, note: 'given with --offset' });
    else if (node === refName) offsets.push({ node, ms: 0, appliedMs: 0, source: 'reference', pairs: 0, note: 'the reference clock' });
    else {
      const o = estimateOffset(byNode.get(refName!)!, byNode.get(node)!, node, refName!);
      // An estimate no bigger than its uncertainty could as well be 0: the stamps stay as written.
      if (o.uncertaintyMs !== undefined && Math.abs(o.ms) <= o.uncertaintyMs) offsets.push({ ...o, appliedMs: 0, note: `${o.note}; within its uncertainty, so times are left as written` });
      else offsets.push(o);
    }
  }
  // Every node in the reference clock; then the --since/--until window.
  const shifted = new Map<string, Event[]>();
  for (const node of nodes) {
    const off = offsets.find((o) => o.node === node)!.appliedMs;
    const list = byNode.get(node)!.map((e) => (off ? e.at(e.t - off) : e)).filter((e) => (options.since === undefined || e.t >= options.since) && (options.until === undefined || e.t <= options.until));
    shifted.set(node, list);
  }
  const all = [...shifted.values()].flat().sort((a, b) => a.t - b.t);
  let fine = 0;
  let coarse = 0;
  for (const e of all) if (e.prog !== 'heartbeat') e.coarse ? coarse++ : fine++;
  const resolution: Analysis['resolution'] = { fineLines: fine, coarseLines: coarse };
  if (!fine) resolution.hint = MS_HINT;
  if (!all.length) return { nodes, offsets, incidents: [], lanes: [], resolution };
  const range = { from: all[0]!.t, to: all.at(-1)!.t };

  options.between?.();
  const calls = new Map<string, Call[]>();
  for (const node of nodes) calls.set(node, buildCalls(shifted.get(node)!));

  options.between?.();
  // Incidents: a trigger opens one unless it follows from the current one.
  type Open = Incident & { settled: boolean; last: number };
  const incidents: Open[] = [];
  let cur: Open | undefined;
  const IDLE_MS = 10_000;
  for (const e of all) {
    const m = e.meaning;
    if (!m) continue;
    if (m.kind === 'trigger') {
      const subject = m.peer ?? e.node;
      // The other node declaring a node dead after that node shut down belongs to its shutdown, even when the node is already starting again.
      const shutdownOf = (m.trigger === 'node-dead' || m.trigger === 'link-dead') ? incidents.slice(-2).reverse().find((i) => i !== cur && i.trigger.kind === 'shutdown' && i.trigger.subject === subject && e.t - i.last < IDLE_MS) : undefined;
      if (shutdownOf) {
        shutdownOf.decisions.push(ref(e));
        shutdownOf.last = shutdownOf.end = e.t;
        continue;
      }
      const follows = !!cur && e.t - cur.last < IDLE_MS && followsFrom(cur, m.trigger, subject, e.node, !!m.peer);
      if (!follows) {
        cur = { id: incidents.length + 1, start: e.t, end: e.t, trigger: { kind: m.trigger, node: e.node, subject, t: e.t, coarse: e.coarse, text: e.text }, decisions: [], calls: [], steps: [], refusals: [], outcome: [], notes: [], settled: false, last: e.t };
        incidents.push(cur);
      }
      cur!.decisions.push(ref(e));
    } else {
      if (!cur || e.t - cur.last >= IDLE_MS * 3) {
        cur = { id: incidents.length + 1, start: e.t, end: e.t, trigger: { kind: 'unknown', node: e.node, subject: e.node, t: e.t, coarse: e.coarse, text: 'no trigger in the logs (they begin, or the window opens, in the middle of it)' }, decisions: [], calls: [], steps: [], refusals: [], outcome: [], notes: [], settled: false, last: e.t };
        incidents.push(cur);
      }
      if (m.kind === 'decision') cur.decisions.push(ref(e));
      if (SETTLED.test(e.text)) cur.settled = true;
    }
    cur!.last = e.t;
    cur!.end = e.t;
  }

  // Calls, steps and refusals into the incident they began in.
  const incidentAt = (t: number) => {
    let lo = 0;
    let hi = incidents.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (incidents[mid]!.start <= t) lo = mid;
      else hi = mid - 1;
    }
    return incidents[lo];
  };
  for (const list of calls.values()) {
    for (const c of list) {
      const inc = incidentAt(c.start);
      if (!inc) continue;
      inc.calls.push(c);
      if (c.end !== undefined) inc.end = Math.max(inc.end, c.end);
    }
  }
  // The steps and refusals already inside a call (the same FILE:LINE is the same line: a file given twice counts once).
  const inCall = new Set<string>();
  for (const list of calls.values()) for (const c of list) for (const l of [c.steps, c.refusals].flat()) inCall.add(l.source);
  for (const e of all) {
    if ((e.meaning?.kind === 'step' || e.meaning?.kind === 'refusal') && !inCall.has(e.source)) {
      const inc = incidentAt(e.t);
      if (inc) (e.meaning.kind === 'step' ? inc.steps : inc.refusals).push(ref(e));
    }
  }
  inCall.clear();
  for (const inc of incidents) inc.calls.sort((a, b) => a.start - b.start);

  options.between?.();
  // A node declared dead while its own log goes on was cut off, not down: a partition.
  const lost = new Map<string, { from: number; until: number }[]>(nodes.map((n) => [n, []]));
  for (const inc of incidents) {
    for (const d of inc.decisions) {
      const m = /node (\S+): is dead/.exec(d.text);
      if (!m || !shifted.has(m[1]!)) continue;
      const dead = m[1]!;
      const own = shifted.get(dead)!;
      const shutdown = inc.trigger.kind === 'shutdown' && inc.trigger.subject === dead;
      // findLast, not filter().at(-1): no copy of the node's events per dead declaration.
      const before = findLast(own, (e) => e.t <= d.t + 1000);
      // Its last sign of life: a whole-second stamp may stand for any moment in that second.
      const lastSeen = before ? Math.min(d.t, before.t + (before.coarse ? 999 : 0)) : d.t;
      const after = own.find((e) => e.t > d.t + 1000);
      // Both nodes declaring each other dead: they lost each other, neither stopped.
      const declares = new RegExp(`node ${escapeRe(d.node)}: is dead|returning after partition`);
      const talking = own.some((e) => Math.abs(e.t - d.t) <= 30_000 && declares.test(e.text));
      if (!shutdown && talking && inc.trigger.kind === 'node-dead') {
        inc.trigger.kind = 'partition';
        inc.notes.push(`${dead} also declared ${d.node} dead: the nodes lost each other (partition, split brain), neither stopped`);
      } else if (!shutdown && !talking && !inc.notes.some((n) => n.includes('partition'))) lost.get(dead)!.push({ from: lastSeen, until: after?.t ?? range.to + 1000 });
    }
  }
  const lanes = nodes.flatMap((n) => buildLanes(n, calls.get(n)!, lost.get(n)!, range.to + 1000));
  const order = new Map([...new Set(lanes.map((l) => l.resource))].map((r) => [r, laneOrder(r, lanes)]));
  lanes.sort((a, b) => a.node.localeCompare(b.node) || order.get(a.resource)! - order.get(b.resource)!);

  options.between?.();
  // Outcome and service gap per incident.
  const resources = [...new Set(lanes.map((l) => l.resource))];
  // Service up/down over time, swept once: up while some node holds every resource.
  const bounds = new Set<number>();
  for (const l of lanes) for (const s of l.segments) bounds.add(s.from).add(s.to);
  const cuts = [...bounds].sort((a, b) => a - b);
  const heldBy = new Map<string, Segment[]>();
  for (const l of lanes) heldBy.set(`${l.node}\0${l.resource}`, l.segments.filter((s) => s.state === 'held').sort((x, y) => x.from - y.from));
  const holds = (segs: Segment[] | undefined, t: number) => {
    if (!segs) return false;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segs[mid]!;
      if (t < s.from) hi = mid - 1;
      else if (t >= s.to) lo = mid + 1;
      else return true;
    }
    return false;
  };
  const heldOf = nodes.map((n) => resources.map((r) => heldBy.get(`${n}\0${r}`)));
  const up = (t: number) => resources.length > 0 && heldOf.some((segsOf) => segsOf.every((segs) => holds(segs, t)));
  const upAt = cuts.map((c) => up(c));
  const downs: { from: number; to?: number }[] = [];
  for (let k = 1; k < cuts.length; k++) {
    if (!upAt[k] && upAt[k - 1]) downs.push({ from: cuts[k]! });
    else if (upAt[k] && !upAt[k - 1] && downs.length && downs.at(-1)!.to === undefined) downs.at(-1)!.to = cuts[k]!;
  }
  const boundaryCoarse = new Map<number, boolean>();
  for (const l of lanes) {
    for (const s of l.segments) {
      if (!boundaryCoarse.has(s.from)) boundaryCoarse.set(s.from, s.coarse);
      if (!boundaryCoarse.has(s.to)) boundaryCoarse.set(s.to, s.coarse);
    }
  }
  const lostFrom = new Set([...lost.values()].flat().map((l) => l.from));
  for (const inc of incidents) {
    const at = inc.end + 1;
    inc.outcome = resources.map((r) => {
      const here = lanes.filter((l) => l.resource === r);
      return { resource: r, holders: here.filter((l) => stateAt(l, at) === 'held').map((l) => l.node), unknown: here.filter((l) => stateAt(l, at) === 'unknown').map((l) => l.node) };
    });
    for (const o of inc.outcome) if (o.holders.length > 1) inc.notes.push(`${o.resource} held by ${o.holders.join(' and ')} at once`);
    // The gap: the service going down after the previous incident and up again (or not) by this one's end.
    const prev = incidents[inc.id - 2];
    const d = downs.find((x) => x.from > (prev ? prev.end : -Infinity) && x.from <= inc.end + 1);
    if (d) {
      const back = d.to !== undefined && d.to <= inc.end + 1 ? d.to : undefined;
      const fromLost = lostFrom.has(d.from);
      inc.gap = {
        from: d.from,
        ...(back !== undefined ? { to: back, ms: back - d.from } : {}),
        coarse: fromLost || !!boundaryCoarse.get(d.from) || (back !== undefined && !!boundaryCoarse.get(back)),
        note: back === undefined ? 'service not restored by the end of the incident' : fromLost ? 'from the dead node\'s last log line (it failed some time after that) to the last start on the new holder' : 'from the first stop to the last start of the group',
      };
    }
  }
  options.between?.();
  return { nodes, offsets, range, incidents: incidents.map(({ settled: _s, last: _l, ...rest }): Incident => rest), lanes, resolution };
}

/** Lanes in the group's order (the order ResourceManager starts them). */
function laneOrder(resource: string, lanes: Lane[]): number {
  let first = Infinity;
  for (const l of lanes) if (l.resource === resource) for (const s of l.segments) if (s.state === 'starting' || s.state === 'held') first = Math.min(first, s.from);
  return first === Infinity ? Number.MAX_SAFE_INTEGER : first;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a trigger is part of the incident under way rather than a new one. */
function followsFrom(cur: { trigger: Incident['trigger']; settled: boolean }, kind: TriggerKind, subject: string, node: string, fromPeer: boolean): boolean {
  const k = cur.trigger.kind;
  switch (kind) {
    // Consequences: the other node hears of it, asks for standby, sees it back.
    case 'standby':
    case 'node-back':
      return true;
    case 'shutdown':
      return fromPeer || (k === 'shutdown' && !cur.settled);
    case 'start':
      return k === 'start' && !cur.settled;
    case 'node-dead':
    case 'link-dead':
      return ['shutdown', 'link-dead', 'node-dead', 'partition'].includes(k) && (subject === cur.trigger.subject || node === cur.trigger.subject);
    case 'partition':
      return k === 'partition' && !cur.settled;
  }
}

/** The last element matching, looking back at most `depth` elements. */
function findLast<T>(list: T[], pick: (x: T) => boolean, depth = Infinity): T | undefined {
  for (let i = list.length - 1; i >= 0 && list.length - i <= depth; i--) if (pick(list[i]!)) return list[i];
  return undefined;
}
