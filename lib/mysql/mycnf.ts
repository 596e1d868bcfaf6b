import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

// MySQL/MariaDB option files (my.cnf), read the way mysys/my_default.c
// reads them: `[group]` headers, `name = value` lines, `#`/`;` comments,
// `!include FILE` and `!includedir DIR` (the *.cnf files there, in name
// order), `loose-` prefixes, dashes and underscores alike, quoted values with
// backslash escapes. The parser is pure; the file system sits behind
// `OptionFileSource` so tests feed it fixture trees.

export interface OptionEntry {
  /** Lower-case group name: "mysqld", "server", "mysqld_safe", ... */
  group: string;
  /** Normalised: lower case, `_` for `-`, no `loose_` prefix. */
  name: string;
  /** undefined for a bare `skip-networking` style line. */
  value: string | undefined;
  file: string;
  line: number;
}

export interface OptionFileSource {
  /** The file's text; throws when it cannot be read. */
  readFile(path: string): string;
  /** Entry names of a directory; throws when it cannot be listed. */
  listDir(path: string): string[];
}

export const nodeOptionFileSource: OptionFileSource = {
  readFile: (path) => readFileSync(path, 'utf8'),
  listDir: (path) => readdirSync(path),
};

/** The groups mariadbd reads (see `mariadbd --help --verbose | head`), without the version-suffixed ones. */
export const SERVER_GROUPS = ['client-server', 'mysqld', 'server', 'mariadb', 'mariadbd', 'galera'] as const;
export const MYSQLD_SAFE_GROUPS = ['mysqld_safe', 'safe_mysqld', 'mariadb-safe', 'mariadbd-safe'] as const;

export function normaliseOptionName(raw: string): string {
  let name = raw.trim().toLowerCase().replace(/-/g, '_');
  if (name.startsWith('loose_')) name = name.slice('loose_'.length);
  return name;
}

/** my_default.c remove_end_comment: `#` outside quotes ends the line. */
function stripEndComment(text: string): string {
  let quote = '';
  let escape = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if ((c === '"' || c === "'") && !escape) {
      if (!quote) quote = c;
      else if (quote === c) quote = '';
    } else if (!quote && c === '#') {
      return text.slice(0, i);
    }
    escape = quote !== '' && c === '\\' && !escape;
  }
  return text;
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', r: '\r', s: ' ', '\\': '\\', '"': '"', "'": "'" };

export function parseOptionValue(raw: string): string {
  let value = stripEndComment(raw).trim();
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
  return value.replace(/\\(.)/g, (whole, c: string) => ESCAPES[c] ?? whole);
}

export type OptionFileLine =
  | { kind: 'group'; group: string; line: number }
  | { kind: 'option'; name: string; value: string | undefined; line: number }
  | { kind: 'include'; path: string; line: number }
  | { kind: 'includedir'; path: string; line: number }
  /** A line the server refuses to start with ("Fatal error in defaults handling"). */
  | { kind: 'error'; reason: string; line: number };

/**
 * One file's meaningful lines, in order. Lines the server rejects (my_default.c:
 * a `[` without `]`, an option before any group, `!include` without a file)
 * come back as errors; unknown `!directives` are skipped, as the server skips them.
 */
export function parseOptionFileText(text: string): OptionFileLine[] {
  const lines: OptionFileLine[] = [];
  let inGroup = false;
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = index + 1;
    const trimmed = rawLine.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const directive = /^!(includedir|include)(?:\s+(.*))?$/.exec(trimmed);
    if (directive) {
      const path = directive[2]?.trim();
      if (!path) lines.push({ kind: 'error', reason: `!${directive[1]} without a file name`, line });
      else lines.push({ kind: directive[1] === 'include' ? 'include' : 'includedir', path, line });
      return;
    }
    if (trimmed.startsWith('!')) return;
    if (trimmed.startsWith('[')) {
      const end = trimmed.indexOf(']');
      if (end < 0) lines.push({ kind: 'error', reason: `group header ${JSON.stringify(trimmed.slice(0, 40))} has no closing "]"`, line });
      else lines.push({ kind: 'group', group: trimmed.slice(1, end).trim().toLowerCase(), line });
      inGroup = true;
      return;
    }
    if (!inGroup) {
      lines.push({ kind: 'error', reason: `${JSON.stringify(trimmed.slice(0, 40))} comes before any [group] header (is this an option file?)`, line });
      return;
    }
    const content = stripEndComment(trimmed);
    const eq = content.indexOf('=');
    const name = normaliseOptionName(eq < 0 ? content : content.slice(0, eq));
    if (!name) return;
    lines.push({ kind: 'option', name, value: eq < 0 ? undefined : parseOptionValue(content.slice(eq + 1)), line });
  });
  return lines;
}

export class OptionFileError extends Error {
  override name = 'OptionFileError';
  constructor(
    readonly path: string,
    /** An errno code (ENOENT, EACCES, ...) or a syntax problem in words. */
    readonly reason: string,
    readonly line?: number,
  ) {
    super(line === undefined ? `cannot read option file ${path}: ${describeErrno(reason)}` : `option file ${path} line ${line}: ${reason}; the server would refuse to start`);
  }
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'it does not exist',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
};

function describeErrno(code: string): string {
  return ERRNO_WORDS[code] ? `${ERRNO_WORDS[code]} (${code})` : code;
}

const MAX_INCLUDE_DEPTH = 10;

/**
 * All entries of `paths` (read in this order, as the server reads its
 * default files), following includes. A missing top-level default file is
 * skipped when `optional` says so (the server does that); a missing or
 * unreadable named or included file is an error.
 */
export function readOptionFiles(paths: readonly string[], source: OptionFileSource = nodeOptionFileSource, { optional = false } = {}): OptionEntry[] {
  const entries: OptionEntry[] = [];
  const visit = (path: string, depth: number) => {
    if (depth > MAX_INCLUDE_DEPTH) throw new OptionFileError(path, `includes nest deeper than ${MAX_INCLUDE_DEPTH} (a loop?)`);
    let text: string;
    try {
      text = source.readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (depth === 0 && optional && code === 'ENOENT') return;
      throw new OptionFileError(path, code ?? String(error));
    }
    // Each file starts outside any group (my_default.c).
    let group = '';
    for (const item of parseOptionFileText(text)) {
      if (item.kind === 'error') throw new OptionFileError(path, item.reason, item.line);
      if (item.kind === 'group') group = item.group;
      else if (item.kind === 'option') {
        entries.push({ group, name: item.name, value: item.value, file: path, line: item.line });
      } else if (item.kind === 'include') {
        visit(resolve(dirname(path), item.path), depth + 1);
      } else {
        const dir = resolve(dirname(path), item.path);
        let names: string[];
        try {
          names = source.listDir(dir);
        } catch (error) {
          throw new OptionFileError(dir, (error as NodeJS.ErrnoException).code ?? String(error));
        }
        for (const name of names.filter((n) => n.endsWith('.cnf')).sort()) visit(`${dir}/${name}`, depth + 1);
      }
    }
  };
  for (const path of paths) visit(path, 0);
  return entries;
}

/** Later lines win, whatever group among `groups` they are in (the server's rule). */
export function effectiveOptions(entries: readonly OptionEntry[], groups: readonly string[]): Map<string, string | undefined> {
  const wanted = new Set(groups.map((g) => g.toLowerCase()));
  const options = new Map<string, string | undefined>();
  for (const entry of entries) {
    if (!wanted.has(entry.group)) continue;
    options.set(entry.name, entry.value);
    // `skip-log-bin` / `disable-log-bin` switch `log-bin` off again.
    const negated = /^(skip|disable)_(.+)$/.exec(entry.name);
    if (negated) options.set(`${negated[2]}`, OPTION_OFF);
  }
  return options;
}

/** Marks an option switched off by a skip-/disable- line. */
export const OPTION_OFF = '\0off';
