// `ha-agent timeline`: reads the nodes' logs, prints the incidents (text or
// JSON), writes the HTML page. Loaded by bin/cli.ts only for this command.
import { existsSync, writeFileSync } from 'node:fs';
import { analyze, type Analysis } from './analyze.ts';
import { collect, readInputs, parseInputArg, type FileReport } from './read.ts';
import { writeText } from './text.ts';

export interface TimelineCliOptions {
  since?: string;
  until?: string;
  offset?: string[];
  json?: boolean;
  html?: string;
}

export class TimelineUsageError extends Error {}

/** "2026-12-07 04:55", "2026-12-07T04:55:30", "2026/12/07_04:55:30", or epoch ms: local time. */
export function parseWhen(text: string, flag: string): number {
  if (/^\d{12,}$/.test(text)) return Number(text);
  const m = /^(\d{4})[-/](\d\d)[-/](\d\d)(?:[ T_](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?)?$/.exec(text.trim());
  if (m) {
    const [, y, mo, d, h, mi, s, ms] = m;
    return new Date(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), Number((ms ?? '0').padEnd(3, '0'))).getTime();
  }
  if (/^\d{12,}$/.test(text)) return Number(text);
  throw new TimelineUsageError(`${flag} ${JSON.stringify(text)}: not a time (YYYY-MM-DD HH:MM[:SS] local time)`);
}

/** "master2=+1500" → { master2: 1500 } */
export function parseOffsets(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([A-Za-z0-9][\w.-]*)=([+-]?\d+)(ms|s)?$/.exec(v);
    if (!m) throw new TimelineUsageError(`--offset ${JSON.stringify(v)}: expected NODE=±MS (that node's clock minus the first node's, e.g. master2=+1500)`);
    out[m[1]!] = Number(m[2]) * (m[3] === 's' ? 1000 : 1);
  }
  return out;
}

export interface TimelineResult {
  analysis: Analysis;
  files: FileReport[];
  problems: string[];
}

export async function buildTimeline(args: readonly string[], options: TimelineCliOptions): Promise<TimelineResult> {
  const inputs = args.map((a) => parseInputArg(a, existsSync));
  const { byNode, files, problems } = await readInputs(inputs);
  const gc = collect;
  const analysis = analyze(byNode, {
    offsets: parseOffsets(options.offset ?? []),
    ...(options.since ? { since: parseWhen(options.since, '--since') } : {}),
    ...(options.until ? { until: parseWhen(options.until, '--until') } : {}),
    ...(gc ? { between: () => gc(true) } : {}),
  });
  // The events no incident or lane points at are garbage now.
  gc?.(true);
  return { analysis, files, problems };
}

/** The --json shape (README: "ha-agent timeline --json"). */
export function timelineJson(r: TimelineResult): object {
  return {
    version: 1,
    files: r.files.map((f) => ({ path: f.path, node: f.node ?? null, lines: f.lines, logLines: f.logLines, ...(f.problem ? { problem: f.problem } : {}) })),
    problems: r.problems,
    ...r.analysis,
  };
}

// Bun does not collect the written pieces soon enough by itself: without a full collection every
// 2 MiB written, the 1 GiB --json run's RSS rose ~80 MiB while printing; every 8 MiB left ~+45 MiB;
// every 1 MiB takes a few MiB off 2 MiB's peak now that the rest is small (bench/results/timeline.md).
// A few ms each.
const OUT_GC = 1 << 20;

/** Collects small writes into ~64 KiB pieces for `out` (one write(2) each through writeStdout). */
function bufferedOut(out: (s: string) => void): { write: (s: string) => void; flush: () => void } {
  let parts: string[] = [];
  let size = 0;
  let sinceGc = 0;
  const flush = (): void => {
    if (parts.length) out(parts.join(''));
    parts = [];
    if ((sinceGc += size) > OUT_GC) {
      sinceGc = 0;
      collect?.(true);
    }
    size = 0;
  };
  return {
    write: (s) => {
      parts.push(s);
      if ((size += s.length) >= 1 << 16) flush();
    },
    flush,
  };
}

/**
 * Writes `JSON.stringify(value, null, 2) + "\n"`, byte for byte, a piece at
 * a time: arrays and objects down to STREAM_DEPTH are written element by
 * element (on 1 GiB of ha-debug a lane's segments were one ~10 MiB string,
 * plus its indented copy), what is deeper as one JSON.stringify each. Only for
 * plain data (no toJSON above STREAM_DEPTH), as timelineJson gives.
 */
export function writeJson(value: unknown, write: (s: string) => void): void {
  writeValue(value, '', 0, write);
  write('\n');
}

/** top object → incidents, lanes → an incident, a lane → its calls, segments → a call, a segment: one string each. */
const STREAM_DEPTH = 4;

/** JSON.stringify leaves these out of objects and writes null for them in arrays. */
const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function writeValue(v: unknown, pad: string, depth: number, write: (s: string) => void): void {
  if (depth >= STREAM_DEPTH || v === null || typeof v !== 'object' || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    // Raw newlines only come from the indentation: inside strings JSON escapes them.
    write((JSON.stringify(v, null, 2) ?? 'null').replaceAll('\n', `\n${pad}`));
    return;
  }
  const inner = `${pad}  `;
  if (Array.isArray(v)) {
    if (!v.length) return write('[]');
    write('[\n');
    v.forEach((item, i) => {
      write(inner);
      writeValue(skipped(item) ? null : item, inner, depth + 1, write);
      write(i < v.length - 1 ? ',\n' : '\n');
    });
    return write(`${pad}]`);
  }
  const entries = Object.entries(v).filter(([, x]) => !skipped(x));
  if (!entries.length) return write('{}');
  write('{\n');
  entries.forEach(([k, x], i) => {
    write(`${inner}${JSON.stringify(k)}: `);
    writeValue(x, inner, depth + 1, write);
    write(i < entries.length - 1 ? ',\n' : '\n');
  });
  write(`${pad}}`);
}

/**
 * Runs the command; returns the exit code: 0 printed, 1 nothing readable
 * (every file skipped), 2 usage. Problems go to stderr, one line each.
 */
export async function timelineCommand(args: readonly string[], options: TimelineCliOptions, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  if (!args.length) {
    io.err('ha-agent timeline: give one or more log files: [NODE=]LOGFILE... (ha-log, ha-debug, syslog; .gz and rotated sets too)\n');
    return 2;
  }
  let r: TimelineResult;
  try {
    r = await buildTimeline(args, options);
  } catch (error) {
    if (error instanceof TimelineUsageError) {
      io.err(`ha-agent timeline: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  for (const p of r.problems) io.err(`ha-agent timeline: ${p}\n`);
  if (options.html) {
    const { renderHtml } = await import('./html.ts');
    try {
      writeFileSync(options.html, renderHtml(r.analysis));
    } catch (error) {
      io.err(`ha-agent timeline: cannot write ${options.html}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
      return 1;
    }
  }
  // Written a piece at a time: on 1 GiB of ha-debug the --json text is ~34 M characters, which as
  // one string (and its UTF-8 copy) raised the peak RSS by ~25 MiB (bench/results/timeline.md).
  const out = bufferedOut(io.out);
  if (options.json) writeJson(timelineJson(r), out.write);
  else {
    writeText(r.analysis, [], (line) => out.write(`${line}\n`));
    if (options.html) out.write(`page: ${options.html}\n`);
  }
  out.flush();
  return r.analysis.nodes.length ? 0 : 1;
}
