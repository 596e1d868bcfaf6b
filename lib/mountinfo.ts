import { readFileSync } from 'node:fs';

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
