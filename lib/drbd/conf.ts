import { posix } from 'node:path';

// What `ha-agent check` needs from the DRBD configuration (drbd.conf(5)):
// per resource, the `fencing` policy (8.4: disk section, 9: net section) and
// the `handlers` it has, with `common { }` applying to every resource as
// drbdadm applies it. Read as text so check works on a scratch tree and
// without the kernel module (drbdadm dump needs neither, but its answer for
// a resource that names another host is an error, not the settings).

export interface DrbdResourceSettings {
  name: string;
  /** File the resource is defined in, as the node sees it. */
  file: string;
  /** `fencing` value, undefined when not set (DRBD's default: dont-care). */
  fencing?: string;
  /** handler name → command, e.g. split-brain → "/usr/lib/drbd/notify-split-brain.sh root". */
  handlers: Map<string, string>;
}

interface Block {
  words: string[];
  /** Statements (words before ';') directly in this block. */
  statements: string[][];
  children: Block[];
}

/** Splits the text into words, quoted strings (unquoted), '{', '}' and ';'; drops '#' comments. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /#[^\n]*|"((?:[^"\\]|\\.)*)"|([{};])|([^\s{};"#]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].startsWith('#')) continue;
    tokens.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[0]);
  }
  return tokens;
}

function parseBlocks(tokens: readonly string[]): Block {
  const root: Block = { words: [], statements: [], children: [] };
  const stack = [root];
  let words: string[] = [];
  for (const t of tokens) {
    const top = stack[stack.length - 1]!;
    if (t === '{') {
      const child: Block = { words, statements: [], children: [] };
      top.children.push(child);
      stack.push(child);
      words = [];
    } else if (t === '}') {
      if (words.length) top.statements.push(words);
      words = [];
      if (stack.length > 1) stack.pop();
    } else if (t === ';') {
      if (words.length) top.statements.push(words);
      words = [];
    } else {
      words.push(t);
    }
  }
  return root;
}

function settingsOf(block: Block, into: { fencing?: string; handlers: Map<string, string> }): void {
  for (const child of block.children) {
    const kind = child.words[0];
    if (kind === 'handlers') {
      for (const s of child.statements) if (s.length >= 2) into.handlers.set(s[0]!, s.slice(1).join(' '));
    } else if (kind === 'disk' || kind === 'net') {
      const f = child.statements.find((s) => s[0] === 'fencing');
      if (f?.[1]) into.fencing = f[1];
    }
  }
}

export interface DrbdConfReader {
  /** Text of a node path, or undefined when it cannot be read. */
  read(path: string): string | undefined;
  /** Node paths matching a glob's directory and pattern (only '*' in the last part). */
  glob(pattern: string): string[];
}

/**
 * The resources of the configuration rooted at `mainFile` (/etc/drbd.conf),
 * following `include` statements; common settings first, then the resource's
 * own (which win, as in drbdadm).
 */
export function readDrbdResources(mainFile: string, reader: DrbdConfReader): DrbdResourceSettings[] {
  const common = { handlers: new Map<string, string>() } as { fencing?: string; handlers: Map<string, string> };
  const resources: { block: Block; file: string }[] = [];
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = reader.read(file);
    if (text === undefined) return;
    const root = parseBlocks(tokenize(text));
    for (const s of root.statements) {
      if (s[0] !== 'include' || !s[1]) continue;
      const pattern = posix.isAbsolute(s[1]) ? s[1] : posix.join(posix.dirname(file), s[1]);
      for (const f of pattern.includes('*') ? reader.glob(pattern) : [pattern]) visit(f);
    }
    for (const b of root.children) {
      if (b.words[0] === 'common') settingsOf(b, common);
      else if (b.words[0] === 'resource' && b.words[1]) resources.push({ block: b, file });
    }
  };
  visit(mainFile);
  return resources.map(({ block, file }) => {
    const own = { fencing: common.fencing, handlers: new Map(common.handlers) };
    settingsOf(block, own);
    return { name: block.words[1]!, file, fencing: own.fencing, handlers: own.handlers };
  });
}

/** A glob of one '*'-pattern in the last path part, as drbd.conf's `include "drbd.d/*.res"`. */
export function globLastPart(pattern: string, list: (dir: string) => string[]): string[] {
  const dir = posix.dirname(pattern);
  const re = new RegExp(`^${posix.basename(pattern).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return list(dir).filter((n) => re.test(n)).sort().map((n) => posix.join(dir, n));
}
