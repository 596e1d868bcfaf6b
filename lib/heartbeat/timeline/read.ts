// Reading the nodes' log files: streamed line by line (read(2) into one
// reused buffer, gunzip for .gz), never read whole, so a 1 GiB ha-debug costs
// only the lines that mean something. Rotated sets (ha-log.2.gz, ha-log.1,
// ha-log) are one stream, oldest first.
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Meanings, toEvent, type Event } from './analyze.ts';
import { classify, pairMarks } from './classify.ts';
import { MONTHS, packStamp, parseLine, stampTime, unpackStamp, YearTracker, type ParsedLine } from './parse.ts';

export interface InputSpec {
  /** NODE= given on the command line. */
  node?: string;
  path: string;
}

/** "master1=/var/log/ha-log" or a path (a path that exists wins over NODE=). */
export function parseInputArg(arg: string, exists: (p: string) => boolean): InputSpec {
  const m = /^([A-Za-z0-9][\w.-]*)=(.+)$/.exec(arg);
  if (m && !exists(arg)) return { node: m[1]!, path: m[2]! };
  return { path: arg };
}

/** ha-log.2.gz → { base: "ha-log", generation: 2 }; dateext (ha-log-20261207.gz) sorts by date. */
export function rotation(path: string): { base: string; generation: number } {
  const name = basename(path).replace(/\.(gz|bz2|xz)$/, '');
  let m = /^(.*)\.(\d+)$/.exec(name);
  if (m) return { base: `${dirname(path)}/${m[1]}`, generation: Number(m[2]) };
  m = /^(.*)-(\d{8})$/.exec(name);
  // dateext: newer dates are younger; map to a negative-of-date generation so that older sorts first.
  if (m) return { base: `${dirname(path)}/${m[1]}`, generation: 1e9 - Number(m[2]) };
  return { base: `${dirname(path)}/${name}`, generation: 0 };
}

/** Groups inputs into rotated sets, each ordered oldest first (highest generation first). */
export function rotatedSets(inputs: InputSpec[]): InputSpec[][] {
  const sets = new Map<string, InputSpec[]>();
  for (const i of inputs) {
    const key = `${i.node ?? ''}\0${rotation(i.path).base}`;
    if (!sets.has(key)) sets.set(key, []);
    sets.get(key)!.push(i);
  }
  return [...sets.values()].map((set) => set.sort((a, b) => rotation(b.path).generation - rotation(a.path).generation));
}

export interface FileReport {
  path: string;
  node?: string;
  lines: number;
  logLines: number;
  kept: number;
  /** One line for the operator when the file could not be (fully) used. */
  problem?: string;
}

export interface SourceResult {
  /** The node the set belongs to (given, syslog's host, or inferred from heartbeat's lines). */
  node?: string;
  /** Nodes the set's heartbeat names as its peers. */
  peers: Set<string>;
  events: Event[];
  files: FileReport[];
}

function isBinary(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return false;
    return buf.subarray(0, n).includes(0);
  } finally {
    closeSync(fd);
  }
}

function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    return readSync(fd, buf, 0, 2, 0) === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

const PEER = /(?:Link (\S+?):\S+ (?:up|dead)|Status update for node (\S+?):|node (\S+?): is dead|Heartbeat restart on node (\S+)|Received shutdown notice from '([^']+)'|Resources being acquired from (\S+?)\.?$)/;

/**
 * Reads one rotated set of one node, oldest file first, as one stream: the
 * year of syslog stamps carries over file boundaries. Lines that mean
 * nothing are dropped as they stream by.
 */
/** A string of its own (not a slice sharing the memory of the chunk readline cut it from). */
const own = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** Bun.gc when running under Bun (the shipped executable), else nothing. */
export const collect = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc;

/**
 * A kept line until its set's node and base year are known: numbers and
 * shared strings only. As a parsed line plus a "FILE:LINE" string it cost
 * ~450 bytes; 1 GiB of ha-debug keeps 43 k of them (bench/results/timeline.md).
 */
interface Kept {
  /** packStamp of its stamp. */
  stamp: number;
  /** The YearTracker's wrap. */
  wrap: number;
  /** Index of its file in the set, and its line number there: the event's source. */
  file: number;
  line: number;
  prog: string;
  tag: string;
  text: string;
  /** The stamp's own epoch ms (a time zone in it), else undefined. */
  absolute: number | undefined;
}

/**
 * Shares equal strings as fresh copies (a slice of a line keeps its whole
 * chunk alive): a node's log repeats the same programs, tags and messages
 * on every takeover. At most `max` distinct ones are remembered.
 */
export function interner(max: number): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    let v = seen.get(s);
    if (v === undefined) {
      v = own(s);
      if (seen.size < max) seen.set(v, v);
    }
    return v;
  };
}

export async function readSet(set: InputSpec[]): Promise<SourceResult> {
  let sinceGc = 0;
  const years = new YearTracker();
  const pending: Kept[] = [];
  const intern = interner(INTERN_MAX);
  const hosts = new Map<string, number>();
  const peers = new Set<string>();
  const selfLinks = new Set<string>();
  const files: FileReport[] = [];
  let hint: { year: number; month: number } | undefined;
  for (const [fileIndex, spec] of set.entries()) {
    const report: FileReport = { path: spec.path, lines: 0, logLines: 0, kept: 0 };
    files.push(report);
    let mtime: Date;
    try {
      const st = statSync(spec.path);
      if (!st.isFile()) {
        report.problem = `${spec.path}: not a regular file; skipped`;
        continue;
      }
      mtime = st.mtime;
      if (isBinary(spec.path)) {
        report.problem = `${spec.path}: a binary file, not a heartbeat log; skipped`;
        continue;
      }
    } catch (error) {
      report.problem = `${spec.path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; skipped`;
      continue;
    }
    // The newest file's last write bounds the year of its last line.
    hint = { year: mtime.getFullYear(), month: mtime.getMonth() };
    let truncated = 0;
    let firstTruncated = 0;
    let binaryLines = 0;
    try {
      let source: AsyncIterable<Buffer> | Iterable<Buffer>;
      if (isGzip(spec.path)) {
        const raw = createReadStream(spec.path, { highWaterMark: 1 << 18 });
        const gunzip = raw.pipe(createGunzip({ chunkSize: 1 << 18 }));
        raw.on('error', (error) => gunzip.destroy(error));
        source = gunzip;
      } else source = fileChunks(spec.path, CHUNK);
      // Lines cut from each chunk as it comes (no readline: its per-line events and buffering cost
      // more than the parse); the chunk is pulled only as fast as its lines are handled.
      await eachLine(source, (line) => {
        report.lines++;
        // Bun's collector lets dead line strings and chunks pile up between its own collections:
        // a full one every GC_EVERY bytes read bounds that.
        if ((sinceGc += line.length + 1) > GC_EVERY) {
          sinceGc = 0;
          collect?.(true);
        }
        // The bulk of a busy ha-debug is debug chatter the timeline drops anyway: known by a
        // substring, it skips the full parse (only its month is needed, for the year).
        if (isChatter(line)) {
          report.logLines++;
          const month = MONTH_INDEX[line.slice(0, 3)];
          if (month !== undefined) years.feed({ month, day: 0, hour: 0, minute: 0, second: 0, ms: 0, coarse: true });
          return;
        }
        const r = parseLine(line);
        if (!r.ok) {
          if (line.includes('\0')) binaryLines++;
          else if (r.truncated) {
            truncated++;
            firstTruncated ||= report.lines;
          }
          return;
        }
        report.logLines++;
        const p = r.line;
        const wrap = years.feed(p.stamp);
        if (p.host) {
          const n = hosts.get(p.host);
          if (n === undefined) hosts.set(own(p.host), 1);
          else hosts.set(p.host, n + 1);
        }
        if (p.prog === 'heartbeat') {
          const m = PEER.exec(p.text);
          if (m) {
            const peer = m.slice(1).find((x) => x !== undefined)!;
            if (/^Link /.test(p.text) && / up\.?$/.test(p.text)) {
              if (!selfLinks.has(peer)) selfLinks.add(own(peer));
            } else if (!peers.has(peer)) peers.add(own(peer));
          }
        }
        // Keep only lines that mean something (the node, known at the end, only refines the pairs).
        if (keepable(p) && (classify(p.prog, p.text) || (p.prog === 'heartbeat' && pairMarks(p.text, '').length))) {
          pending.push({ stamp: packStamp(p.stamp), wrap, file: fileIndex, line: report.lines, prog: intern(p.prog), tag: intern(p.tag), text: intern(p.text), absolute: p.stamp.absolute });
          report.kept++;
        }
      });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      report.problem = `${spec.path}: ${e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' ? 'a damaged gzip file' : `read error: ${e.code ?? e.message}`}; used the ${report.logLines} log line(s) before it`;
      continue;
    }
    if (!report.logLines) report.problem = `${spec.path}: not a heartbeat log (no line of heartbeat, ResourceManager or an agent in ${report.lines} line(s)); skipped`;
    else if (truncated) report.problem = `${spec.path}: ${truncated} truncated line(s) skipped (first at line ${firstTruncated})`;
    else if (binaryLines) report.problem = `${spec.path}: ${binaryLines} line(s) with binary data skipped`;
  }
  // The lines read since the last collection are garbage: collected before the events are built next to them.
  collect?.(true);
  // The node: NODE=, else syslog's host, else the one name the set's heartbeat uses for itself.
  let node = set[0]!.node;
  if (!node && hosts.size) node = [...hosts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  if (!node) {
    // heartbeat logs "Link NODE:if up" for every node, its own included; the others also appear as peers.
    const self = [...selfLinks].filter((n) => !peers.has(n));
    if (self.length === 1) node = self[0];
  }
  for (const f of files) if (node) f.node = node;
  const base = years.baseYear(hint ?? { year: new Date().getFullYear(), month: new Date().getMonth() });
  const events: Event[] = [];
  const meanings = new Meanings(INTERN_MAX);
  // From the last kept line back, each dropped as its event is made, with a collection every
  // CONVERT_GC lines: the kept lines and the events never all live together (both were ~10 MiB more RSS there on 1 GiB).
  for (let n = 1; pending.length; n++) {
    const k = pending.pop()!;
    const stamp = unpackStamp(k.stamp);
    if (k.absolute !== undefined) stamp.absolute = k.absolute;
    const e = toEvent({ node: node ?? '?', t: stampTime(stamp, base + k.wrap), coarse: stamp.coarse, prog: k.prog, tag: k.tag, text: k.text, file: set[k.file]!.path, line: k.line }, meanings);
    if (e) events.push(e);
    if (n % CONVERT_GC === 0) collect?.(true);
  }
  events.reverse();
  // The last kept lines are garbage now; collected before the next set or the analysis grows the heap further.
  collect?.(true);
  for (const n of selfLinks) if (n !== node) peers.add(n);
  if (node) peers.delete(node);
  return { node, peers, events, files };
}

const MONTH_INDEX: Record<string, number> = Object.fromEntries(MONTHS.map((m, i) => [m, i]));

/**
 * Bytes per read(2). Each chunk is decoded to one string, dead by the next collection: 64 KiB
 * keep less of them alive between collections than 256 KiB (1 GiB --json: 87-91 vs 91-93 MiB
 * peak RSS, the same CPU; 1 MiB: 99-105 MiB; bench/results/timeline.md).
 */
const CHUNK = 1 << 16;
const CONVERT_GC = 10_000;
/** Distinct strings the reader shares per set (a few MiB at most when every message differs). */
const INTERN_MAX = 50_000;
/**
 * A full collection every 16 MiB read. With the kept lines ~450 bytes each, every 4 MiB cost twice
 * the CPU of every 64 for the same peak (the kept lines and the analysis made it); with them compact
 * the heap is small, a collection cheap, and the dead chunks between collections were the peak:
 * 1 GiB --json 102-108 MiB at 64, 94-95 at 32, 93 at 16, for +0.1-0.3 s CPU (bench/results/timeline.md).
 */
const GC_EVERY = 16 << 20;

/**
 * A plain file's bytes, read(2) into one buffer reused for every chunk: an fs
 * stream allocates a fresh buffer per chunk, which under Bun piled up as RSS
 * between collections (bench/results/timeline.md). The caller must not keep
 * a chunk past the next one.
 */
export function* fileChunks(path: string, size: number): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(size);
    for (;;) {
      const n = readSync(fd, buf, 0, size, null);
      if (!n) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `onLine` for each line of a byte stream, as readline with crlfDelay
 * Infinity would: "\n", "\r\n" and a lone "\r" end a line; a last line
 * without its newline counts when not empty.
 */
export async function eachLine(source: Readable | AsyncIterable<Buffer> | Iterable<Buffer>, onLine: (line: string) => void): Promise<void> {
  let rest = '';
  let cr = false;
  const cut = (text: string, final: boolean): void => {
    let i = 0;
    const n = text.length;
    // A "\n" right after a "\r" that ended the previous chunk's last line is that line's end.
    if (cr && n && text.charCodeAt(0) === 10) i = 1;
    cr = false;
    // Where the next "\r" is, found once per chunk and again only after passing it (logs rarely have any).
    let nextCr = text.indexOf('\r', i);
    for (;;) {
      let j = text.indexOf('\n', i);
      const atCr = nextCr >= 0 && (j < 0 || nextCr < j);
      if (atCr) j = nextCr;
      if (j < 0) break;
      onLine(text.slice(i, j));
      i = j + 1;
      if (atCr) {
        if (i < n && text.charCodeAt(i) === 10) i++;
        else if (i === n) cr = true;
        nextCr = text.indexOf('\r', i);
      }
    }
    rest = i < n ? text.slice(i) : '';
    if (final && rest) onLine(rest);
  };
  // Each chunk is decoded up to its last "\n" (never inside a UTF-8 sequence); the bytes after it wait for the next.
  let carry: Buffer | undefined;
  // The carried bytes and the next chunk joined in one buffer reused for every chunk: a
  // Buffer.concat per chunk was 16 MiB of dead buffers between two collections (bench/results/timeline.md).
  let joined = Buffer.alloc(0);
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let bytes = chunk;
    if (carry) {
      const n = carry.length + chunk.length;
      if (joined.length < n) joined = Buffer.allocUnsafe(Math.max(n, joined.length * 2));
      carry.copy(joined, 0);
      chunk.copy(joined, carry.length);
      bytes = joined.subarray(0, n);
    }
    const last = bytes.lastIndexOf(10);
    if (last < 0) {
      // A chunk without a newline: kept whole (a copy: the source and `joined` reuse their buffers).
      carry = Buffer.from(bytes);
      continue;
    }
    // A copy: the source may reuse its buffer for the next chunk (fileChunks does).
    carry = last + 1 < bytes.length ? Buffer.from(bytes.subarray(last + 1)) : undefined;
    cut(bytes.toString('utf8', 0, last + 1), false);
  }
  cut(carry ? carry.toString('utf8') : '', true);
}

/** heartbeat's and the agents' debug lines, "lost packet" and status chatter: log lines that never mean anything here. */
export function isChatter(line: string): boolean {
  if (!(line.includes(']: debug: ') || line.includes('\tDEBUG: ') || line.includes(']: DEBUG: ') || line.includes('lost packet(s)') || line.includes('Status update for node') || line.includes('rc.d/status status'))) return false;
  // ResourceManager's debug lines are the calls' start and end: never chatter.
  if (line.includes('ResourceManager')) return false;
  // A log line: syslog's month first, or a tag with its pid.
  return MONTH_INDEX[line.slice(0, 3)] !== undefined || /^[A-Za-z_][\w.-]*(?:\([^)\s]*\))?\[\d+\]:/.test(line) || /^\d{4}[/-]/.test(line);
}

/** Cheap pre-filter while streaming: heartbeat's chatter is most of a busy ha-debug. */
function keepable(p: ParsedLine): boolean {
  if (p.prog === 'heartbeat') return !/^debug:|Link .* up|Status update for node|glib:|lost packet|No pkts missing|remote resource transition completed|Late heartbeat/.test(p.text);
  if (/^(?:DEBUG|debug):/.test(p.text)) return p.prog === 'ResourceManager' && /debug: (?:Starting|\S.* done\. RC=)/.test(p.text);
  return true;
}

export interface ReadResult {
  byNode: Map<string, Event[]>;
  files: FileReport[];
  /** One line per problem, naming the file. */
  problems: string[];
}

/**
 * Reads every set; sets of the same node are merged (ha-log and ha-debug
 * repeat each other: a line already seen from another file of the node
 * within a second is dropped). A set whose node and peers share no name
 * with the first set's is another cluster's log, and is left out.
 */
export async function readInputs(inputs: InputSpec[]): Promise<ReadResult> {
  const results: SourceResult[] = [];
  for (const set of rotatedSets(inputs)) results.push(await readSet(set));
  const problems: string[] = [];
  const files: FileReport[] = results.flatMap((r) => r.files);
  for (const f of files) if (f.problem) problems.push(f.problem);
  // The fullest file of a node first (ha-debug holds ha-log and more): its order is kept, the others only fill in.
  const usable = results.filter((r) => r.events.length || r.files.some((f) => f.logLines > 0)).sort((a, b) => b.events.length - a.events.length);
  let cluster: Set<string> | undefined;
  const byNode = new Map<string, Event[]>();
  const seen = new Map<string, Map<string, number[]>>();
  for (const r of usable) {
    const names = new Set([...(r.node ? [r.node] : []), ...r.peers]);
    if (cluster && names.size && ![...names].some((n) => cluster!.has(n))) {
      problems.push(`${r.files.map((f) => f.path).join(', ')}: a log of another cluster (nodes ${[...names].join(', ')}; this one has ${[...cluster].join(', ')}); skipped`);
      continue;
    }
    if (!r.node) {
      problems.push(`${r.files.map((f) => f.path).join(', ')}: cannot tell which node wrote it; give it as NODE=${r.files[0]!.path}; skipped`);
      continue;
    }
    if (!cluster) cluster = new Set(names);
    else for (const n of names) cluster.add(n);
    const node = r.node;
    if (!byNode.has(node)) byNode.set(node, []);
    if (!seen.has(node)) seen.set(node, new Map());
    const mine = seen.get(node)!;
    const list = byNode.get(node)!;
    const fresh: Event[] = [];
    for (const e of r.events) {
      const key = `${e.tag}\0${e.text}`;
      const times = mine.get(key);
      if (times?.some((t) => Math.abs(t - e.t) <= 1000) && list.length) continue;
      fresh.push(e);
    }
    for (const e of fresh) {
      const key = `${e.tag}\0${e.text}`;
      if (!mine.has(key)) mine.set(key, []);
      mine.get(key)!.push(e.t);
    }
    byNode.set(node, mergeInOrder(list, fresh));
  }
  return { byNode, files, problems };
}

/**
 * Merges a node's second file into its first without reordering either:
 * within one second a whole-second stamp says nothing about order, so each
 * file's own order is the truth.
 */
export function mergeInOrder(base: Event[], more: Event[]): Event[] {
  if (!base.length) return more;
  if (!more.length) return base;
  const out: Event[] = [];
  let i = 0;
  let j = 0;
  while (i < base.length || j < more.length) {
    if (j >= more.length || (i < base.length && base[i]!.t <= more[j]!.t)) out.push(base[i++]!);
    else out.push(more[j++]!);
  }
  return out;
}
