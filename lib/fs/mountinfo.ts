import { readFileSync, realpathSync } from 'node:fs';

/** One line of /proc/<pid>/mountinfo (proc(5)). Paths are decoded (\040 → space). */
export interface MountEntry {
  mountId: number;
  parentId: number;
  /** "major:minor" of the filesystem's device. */
  majorMinor: string;
  /** Path within the filesystem that forms the root of this mount (not "/" for bind mounts). */
  root: string;
  mountPoint: string;
  mountOptions: string;
  fstype: string;
  source: string;
  superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
export function decodeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 4) continue;
    entries.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      majorMinor: fields[2]!,
      root: decodeMountPath(fields[3]!),
      mountPoint: decodeMountPath(fields[4]!),
      mountOptions: fields[5]!,
      fstype: fields[separator + 1]!,
      source: decodeMountPath(fields[separator + 2]!),
      superOptions: fields[separator + 3]!,
    });
  }
  return entries;
}

export function readMountinfo(pid: number | 'self' = 'self'): MountEntry[] {
  return parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

/** Strips trailing slashes ("/data/" → "/data"), keeping "/" itself. */
export function trimTrailingSlashes(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** True when `path` is `dir` or lies below it, by path components ("/data2" is not under "/data"). */
export function isPathUnder(path: string, dir: string): boolean {
  if (dir === '/') return path.startsWith('/');
  return path === dir || path.startsWith(`${dir}/`);
}

/**
 * The mounts on `dir`, in mount order: the last one is the one a path lookup
 * sees (several can be stacked on one directory).
 */
export function mountsOn(entries: readonly MountEntry[], dir: string): MountEntry[] {
  return entries.filter((e) => e.mountPoint === dir);
}

/**
 * Mounts strictly below `dir`, deepest first (then newest first), which is
 * the order they can be unmounted in.
 */
export function mountsBelow(entries: readonly MountEntry[], dir: string): MountEntry[] {
  const depth = (p: string) => p.split('/').length;
  return entries
    .map((entry, index) => ({ entry, index }))
    .filter(({ entry }) => entry.mountPoint !== dir && isPathUnder(entry.mountPoint, dir))
    .sort((a, b) => depth(b.entry.mountPoint) - depth(a.entry.mountPoint) || b.index - a.index)
    .map(({ entry }) => entry);
}

/** "major:minor" from a dev_t as Node's fs.Stats reports it (glibc's gnu_dev_major/minor encoding). */
export function majorMinorOf(dev: number | bigint): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/**
 * The path as mountinfo will show it: symlinks resolved (/var/run → /run)
 * as far as the path exists, the missing rest appended unchanged (start
 * creates it). Like `readlink -f`, which the stock agent uses.
 */
export function canonicalMountPoint(path: string): string {
  const trimmed = trimTrailingSlashes(path);
  const missing: string[] = [];
  let existing = trimmed;
  for (;;) {
    try {
      const real = realpathSync(existing);
      return missing.length ? `${real === '/' ? '' : real}/${missing.reverse().join('/')}` : real;
    } catch {
      if (existing === '/' || existing === '') return trimmed;
      missing.push(existing.slice(existing.lastIndexOf('/') + 1));
      existing = existing.slice(0, existing.lastIndexOf('/')) || '/';
    }
  }
}
