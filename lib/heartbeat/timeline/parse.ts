// One log line of a heartbeat node, as written to ha-log, ha-debug or
// syslog, parsed: pure functions, no I/O (test/fixtures/heartbeat/timeline).
//
// The shapes seen on heartbeat 3.0.x nodes:
//   ha_log / cl_log to a file   heartbeat[13209]: 2013/01/23_04:09:36 info: Received shutdown notice from 'master1'.
//                               ResourceManager(default)[812]: 2013/01/23_04:09:37 info: Running /etc/ha.d/resource.d/IPaddr ... start
//   ha-debug (tab, HA_DATEFMT)  ResourceManager[700]:\t2026/11/28_19:00:03.120 debug: Starting /etc/ha.d/resource.d/IPaddr ... start
//   the daemon, syslog style    Nov 28 19:00:56 master2 heartbeat: [88]: WARN: node master1: is dead
//   syslog (logfacility)        Nov 28 19:00:56 master2 ResourceManager(default)[812]: info: Running ...
//   rsyslog, high precision     2026-11-28T19:00:56.123456+01:00 master2 IPaddr[900]: INFO: ...
//   ocf_log to HA_LOGFILE       2026/11/28_19:00:03.120  IPaddr[710]:    INFO: ...
// Syslog stamps carry no year (inferred by YearTracker). Heartbeat stamps
// its own lines to the second; HA_DATEFMT="%Y/%m/%d_%T.%3N " in shellfuncs
// gives ResourceManager's and the agents' lines milliseconds.

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MONTH_INDEX: Record<string, number> = Object.fromEntries(MONTHS.map((m, i) => [m, i]));

/** A stamp as written: `year` missing for syslog's "Nov 28 19:00:56". */
export interface Stamp {
  year?: number;
  /** 0-11 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  /** Whole seconds only (heartbeat's own stamp, or a date format without %N). */
  coarse: boolean;
  /** Epoch ms when the stamp names its time zone (rsyslog's RFC 3339). */
  absolute?: number;
}

export interface ParsedLine {
  stamp: Stamp;
  /** heartbeat, ResourceManager, IPaddr, mach_down, ... */
  prog: string;
  /** As written: "ResourceManager(default)[812]", "heartbeat[88]". */
  tag: string;
  /** Syslog's host field (the node), when the line has one. */
  host?: string;
  /** The message, its level word included: "info: Running ...", "WARN: node master1: is dead". */
  text: string;
}

export type LineResult = { ok: true; line: ParsedLine } | { ok: false; truncated: boolean };

const TAG = String.raw`([A-Za-z_][\w.-]*)(\([^)\s]*\))?\[(\d+)\]`;
const HA_STAMP = String.raw`(\d{4})\/(\d\d)\/(\d\d)_(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?`;
/** `TAG: STAMP message` and `TAG:\tSTAMP message` (ha_log, ha_debug, cl_log to a file). */
const TAG_FIRST = new RegExp(`^${TAG}:[ \\t]+${HA_STAMP}[ \\t]?(.*)$`);
/** ocf_log to HA_LOGFILE: `STAMP TAG:    message`. */
const STAMP_FIRST = new RegExp(`^${HA_STAMP}\\s+${TAG}:\\s+(.*)$`);
/** `Nov 28 19:00:56[.123] HOST PROG[PID]: message` or `... HOST heartbeat: [88]: message`. */
const SYSLOG = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\S+) ([A-Za-z_][\w.-]*)(\([^)\s]*\))?(?:\[(\d+)\])?: (?:\[(\d+)\]: )?(.*)$/;
/** rsyslog's RFC 3339 stamp. */
const ISO = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)? (\S+) ([A-Za-z_][\w.-]*)(\([^)\s]*\))?(?:\[(\d+)\])?: (?:\[(\d+)\]: )?(.*)$/;
/** Something that starts like one of the shapes above: a line cut short when it fails to parse. */
const LOOKS_LIKE = new RegExp(`^(?:${TAG}:|[A-Z][a-z]{2} +\\d{1,2} \\d\\d:|\\d{4}[/-]\\d\\d[/-]\\d\\d)`);

const msOf = (frac: string | undefined): number => (frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0);

/** Parses one line; `{ok: false, truncated}` for lines that are not log lines (truncated: it began like one). */
export function parseLine(line: string): LineResult {
  const c = line.charCodeAt(0);
  let m: RegExpExecArray | null;
  // Cheap dispatch on the first character: 1 GiB of ha-debug goes through here.
  if (c >= 48 && c <= 57) {
    if ((m = STAMP_FIRST.exec(line))) {
      const [, y, mo, d, h, mi, s, frac, prog, inst, pid, text] = m;
      return ok({ year: Number(y), month: Number(mo) - 1, day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s), ms: msOf(frac), coarse: frac === undefined }, prog!, `${prog}${inst ?? ''}[${pid}]`, text!);
    }
    if ((m = ISO.exec(line))) {
      const [, y, mo, d, h, mi, s, frac, zone, host, prog, inst, pid, pid2, text] = m;
      const stamp: Stamp = { year: Number(y), month: Number(mo) - 1, day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s), ms: msOf(frac), coarse: frac === undefined };
      if (zone) stamp.absolute = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${String(stamp.ms).padStart(3, '0')}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
      return ok(stamp, prog!, `${prog}${inst ?? ''}[${pid ?? pid2 ?? '?'}]`, text!, host);
    }
  } else if ((m = SYSLOG.exec(line)) && MONTH_INDEX[m[1]!] !== undefined) {
    const [, mon, d, h, mi, s, frac, host, prog, inst, pid, pid2, text] = m;
    return ok({ month: MONTH_INDEX[mon!]!, day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s), ms: msOf(frac), coarse: frac === undefined }, prog!, `${prog}${inst ?? ''}[${pid ?? pid2 ?? '?'}]`, text!, host);
  } else if ((m = TAG_FIRST.exec(line))) {
    const [, prog, inst, pid, y, mo, d, h, mi, s, frac, text] = m;
    return ok({ year: Number(y), month: Number(mo) - 1, day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s), ms: msOf(frac), coarse: frac === undefined }, prog!, `${prog}${inst ?? ''}[${pid}]`, text!);
  }
  return { ok: false, truncated: LOOKS_LIKE.test(line) };
}

function ok(stamp: Stamp, prog: string, tag: string, text: string, host?: string): LineResult {
  const line: ParsedLine = { stamp, prog, tag, text: text.trim() };
  if (host !== undefined) line.host = host;
  return { ok: true, line };
}

/**
 * Gives syslog stamps (no year) their year. Lines come in file order
 * (oldest first, a rotated set as one stream); each month that goes back by
 * more than half a year is a new year (Dec 31 → Jan 1). The base year comes
 * from the first stamp that names its year (ha_log lines in the same file),
 * else from a hint: the year of the file's last write (its mtime), which is
 * at or after its last line.
 */
export class YearTracker {
  private lastMonth: number | undefined;
  private wraps = 0;
  /** Year of wrap 0, once a stamp with a year fixed it. */
  private base: number | undefined;

  /** Returns the stamp's wrap index (years after the first line's); fixes the base from stamps that carry their year. */
  feed(stamp: Stamp): number {
    if (this.lastMonth !== undefined) {
      if (stamp.month < this.lastMonth - 6) this.wraps++;
      else if (stamp.month > this.lastMonth + 6) {
        // A line from just before the new year written after one from just after it (syslog's order is not strict).
        return this.wraps - 1;
      }
    }
    this.lastMonth = stamp.month;
    if (stamp.year !== undefined && this.base === undefined) this.base = stamp.year - this.wraps;
    return this.wraps;
  }

  /** The year of wrap 0: from a stamp's own year, else from the hint (year and month of the file's last write). */
  baseYear(hint: { year: number; month: number }): number {
    if (this.base !== undefined) return this.base;
    const lateMonth = this.lastMonth !== undefined && this.lastMonth > hint.month;
    return hint.year - this.wraps - (lateMonth ? 1 : 0);
  }
}

/** Epoch ms (local time, as the node wrote it) of a stamp in a given year. */
export function stampTime(stamp: Stamp, year: number): number {
  if (stamp.absolute !== undefined) return stamp.absolute;
  return new Date(stamp.year ?? year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second, stamp.ms).getTime();
}

/**
 * A stamp as one number (the reader keeps one per kept line of a 1 GiB log:
 * a number costs nothing, a Stamp object ~80 bytes). Year+1 (0: none),
 * month, day, time and the coarse flag; `absolute` is not in it.
 * Below 2^53 for any 4-digit year.
 */
export function packStamp(s: Stamp): number {
  const clock = ((((((s.year ?? -1) + 1) * 12 + s.month) * 32 + s.day) * 24 + s.hour) * 60 + s.minute) * 60 + s.second;
  return (clock * 1000 + s.ms) * 2 + (s.coarse ? 1 : 0);
}

/** The Stamp packStamp was given (without `absolute`). */
export function unpackStamp(n: number): Stamp {
  const coarse = n % 2 === 1;
  let rest = (n - (coarse ? 1 : 0)) / 2;
  const take = (size: number): number => {
    const v = rest % size;
    rest = (rest - v) / size;
    return v;
  };
  const ms = take(1000);
  const second = take(60);
  const minute = take(60);
  const hour = take(24);
  const day = take(32);
  const month = take(12);
  const stamp: Stamp = { month, day, hour, minute, second, ms, coarse };
  if (rest > 0) stamp.year = rest - 1;
  return stamp;
}

/** A parsed line with its time resolved: what the analysis works on. */
export interface LogLine {
  node: string;
  /** Epoch ms in the node's own clock (before any offset). */
  t: number;
  /** true: stamped to the whole second only. */
  coarse: boolean;
  prog: string;
  tag: string;
  text: string;
  /** Where it came from: "FILE:LINE". */
  source: string;
}

/**
 * A whole text of one node (tests, the rig): every log line with its time;
 * lines that are not log lines are skipped. `hint`: the year for stamps
 * without one when no line names it (default: now).
 */
export function parseLogText(text: string, node: string, options: { hint?: { year: number; month: number }; file?: string } = {}): LogLine[] {
  const years = new YearTracker();
  const pending: { p: ParsedLine; wrap: number; n: number }[] = [];
  const rows = text.split('\n');
  for (let n = 0; n < rows.length; n++) {
    const r = parseLine(rows[n]!);
    if (r.ok) pending.push({ p: r.line, wrap: years.feed(r.line.stamp), n: n + 1 });
  }
  const now = new Date();
  const base = years.baseYear(options.hint ?? { year: now.getFullYear(), month: now.getMonth() });
  const file = options.file ?? node;
  return pending.map(({ p, wrap, n }) => ({ node, t: stampTime(p.stamp, base + wrap), coarse: p.stamp.coarse, prog: p.prog, tag: p.tag, text: p.text, source: `${file}:${n}` }));
}
