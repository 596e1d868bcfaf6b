// haresources as heartbeat's ResourceManager reads it (its ipres() sed/awk
// pipeline, canonname, resource2script, resource2arg), with the line each
// group and resource comes from. Pure: text in, groups out.
//
// What ResourceManager does, step by step, and what we do the same way:
//  1. `s%#.*%%` strips a comment, but only from the first physical line of a
//     logical line: sed runs it once per cycle, before the continuation loop.
//     A `#` on a continued line stays in (we report it).
//  2. A line ending in a backslash is joined with the next one, the backslash
//     and newline removed and nothing put in their place (`a\` + `b` = `ab`).
//     On the last line GNU sed's N prints the line as it is: the backslash stays.
//  3. Blanks are squeezed, empty lines dropped, awk lower-cases the node name.
//  4. A resource spelled like an IPv4 address (`[0-9]*.[0-9]*.[0-9]*.[0-9]*`)
//     is `IPaddr::` that; the script is what precedes the first `::`, the
//     arguments are the rest split at every `::` (and at blanks by the shell).

export interface HaresourcesResource {
  /** The resource as written in the file. */
  text: string;
  /** The script ResourceManager looks for in resource.d, then /etc/init.d. */
  script: string;
  /** The arguments it passes before the action. */
  args: string[];
  /** 1-based line of the file the resource starts on. */
  line: number;
}

export interface HaresourcesGroup {
  /** The node name, lower-cased as ResourceManager compares it. */
  node: string;
  /** The node name as written. */
  nodeAsWritten: string;
  line: number;
  /** The last physical line of this logical line (continuations). */
  endLine: number;
  resources: HaresourcesResource[];
}

export type HaresourcesProblemCode = 'comment-in-continuation' | 'continuation-at-end' | 'group-without-resources';

export interface HaresourcesProblem {
  code: HaresourcesProblemCode;
  line: number;
  message: string;
}

export interface Haresources {
  groups: HaresourcesGroup[];
  problems: HaresourcesProblem[];
}

/** ResourceManager's isip(): the shell pattern [0-9]*.[0-9]*.[0-9]*.[0-9]* (so also 1.2.3.4/24/eth0). */
export function looksLikeIp(text: string): boolean {
  return /^[0-9].*\.[0-9].*\.[0-9].*\.[0-9].*$/s.test(text);
}

/** canonname + resource2script + resource2arg, for one resource as written. */
export function resolveResource(text: string): { script: string; args: string[] } {
  const canon = looksLikeIp(text) ? `IPaddr::${text}` : text;
  if (!canon.includes('::')) return { script: text, args: [] };
  // resource2script runs sed 's%::.*%%' on the raw text (not the canonical one); scriptpath then canonicalises that again.
  const raw = text.replace(/::.*/s, '');
  const script = looksLikeIp(raw) ? 'IPaddr' : raw;
  // resource2arg: sed 's%[^:]*::%%' (leftmost), then every :: becomes a blank; the shell splits the words.
  const rest = text.includes('::') ? text.replace(/[^:]*::/, '') : text;
  return { script, args: rest.replace(/::/g, ' ').split(/\s+/).filter(Boolean) };
}

/** The resources' argv as ResourceManager builds it: script, args..., then the action. */
export function resourceArgv(resource: Pick<HaresourcesResource, 'script' | 'args'>, action: string): string[] {
  return [resource.script, ...resource.args, action];
}

export function parseHaresources(text: string): Haresources {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const groups: HaresourcesGroup[] = [];
  const problems: HaresourcesProblem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    // chars of the logical line and the physical line each came from
    let chars = lines[i]!.replace(/#.*/s, '');
    let at: number[] = Array(chars.length).fill(first);
    while (chars.endsWith('\\')) {
      if (i + 1 >= lines.length) {
        problems.push({ code: 'continuation-at-end', line: i + 1, message: 'the last line ends with a backslash (continuation) but no line follows; ResourceManager keeps the backslash as part of the resource' });
        break;
      }
      i++;
      const next = lines[i]!;
      if (next.includes('#')) {
        problems.push({ code: 'comment-in-continuation', line: i + 1, message: 'a "#" on a continued line is not a comment to ResourceManager (it strips comments from the first line of a continued line only); the words after it become resources' });
      }
      chars = chars.slice(0, -1) + next;
      at = [...at.slice(0, -1), ...Array(next.length).fill(i + 1)];
    }
    const words: { text: string; line: number }[] = [];
    for (const match of chars.matchAll(/[^ \t\r\n\v\f]+/g)) words.push({ text: match[0], line: at[match.index] ?? first });
    if (!words.length) continue;
    const [node, ...rest] = words;
    if (!rest.length) {
      problems.push({ code: 'group-without-resources', line: node!.line, message: `the line for node ${node!.text} names no resources` });
    }
    groups.push({
      node: node!.text.toLowerCase(),
      nodeAsWritten: node!.text,
      line: node!.line,
      endLine: i + 1,
      resources: rest.map((w) => ({ text: w.text, line: w.line, ...resolveResource(w.text) })),
    });
  }
  return { groups, problems };
}

/** The line as ResourceManager's ipres() prints it: single blanks, node lower-cased, a blank at the end. */
export function normalizedLine(group: HaresourcesGroup): string {
  return `${[group.node, ...group.resources.map((r) => r.text)].join(' ')} `;
}

/**
 * What ResourceManager's takegroup/givegroup/statgroup KEY act on: ipresline
 * is `egrep " KEY "` over every normalized line (KEY is a regular
 * expression there, so its dots match any character), and `set ...; shift`
 * drops only the first word: when KEY matches two lines, the second line's
 * node name becomes a "resource" too.
 */
export function groupForKey(parsed: Haresources, key: string): { node?: string; resources: HaresourcesResource[]; lines: number[] } {
  let pattern: RegExp | undefined;
  try {
    pattern = new RegExp(` ${key} `);
  } catch {
    pattern = undefined;
  }
  const matching = parsed.groups.filter((g) => (pattern ? pattern.test(normalizedLine(g)) : normalizedLine(g).includes(` ${key} `)));
  if (!matching.length) return { resources: [], lines: [] };
  const resources = matching.flatMap((g, index) => [
    ...(index === 0 ? [] : [{ text: g.node, line: g.line, ...resolveResource(g.node) }]),
    ...g.resources,
  ]);
  return { node: matching[0]!.node, resources, lines: matching.map((g) => g.line) };
}
