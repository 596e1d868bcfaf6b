import { readdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { isPathUnder, majorMinorOf } from './mountinfo.ts';

// Which processes keep a mount busy, found by walking /proc the way the
// stock agent's force_unmount=safe does (cwd, root, open files, mapped
// files), not with fuser(1), which stat()s every mount and hangs on a dead
// NFS server. A path match alone is not proof: a process can sit in the
// directory the mount now hides, so every hit is also checked against the
// mount itself (mount id of an open file, device number of a cwd or mapping).

/** The mount whose holders we look for (fields of its mountinfo line). */
export interface MountTarget {
  mountId: number;
  /** "major:minor" of the mounted filesystem. */
  majorMinor: string;
  mountPoint: string;
  /**
   * Where paths of the mount's namespace resolve, for a mount in another
   * mount namespace: "/proc/PID/root" of a process there. Unset: ours.
   */
  viewRoot?: string;
}

export interface Holder {
  pid: number;
  /** What ties it to the mount, for the log: "cwd /data/x", "fd 3 /data/f", "mmap /data/lib.so". */
  reasons: string[];
}

export interface MappedFile {
  /** "major:minor", decimal, like mountinfo's third field. */
  majorMinor: string;
  inode: number;
  path: string;
}

const DELETED = ' (deleted)';

/** A /proc link target or maps path without the kernel's " (deleted)" marker. */
export function stripDeleted(path: string): string {
  return path.endsWith(DELETED) ? path.slice(0, -DELETED.length) : path;
}

/** File-backed mappings of /proc/PID/maps (proc(5)): "addr perms offset MAJ:MIN inode path". Paths may contain spaces. */
export function parseMaps(text: string): MappedFile[] {
  const files: MappedFile[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^\S+\s+\S+\s+\S+\s+([0-9a-f]+):([0-9a-f]+)\s+(\d+)\s+(\/.*)$/.exec(line);
    if (!match) continue;
    const inode = Number(match[3]);
    if (inode === 0) continue;
    const majorMinor = `${Number.parseInt(match[1]!, 16)}:${Number.parseInt(match[2]!, 16)}`;
    const path = stripDeleted(match[4]!);
    const key = `${majorMinor} ${inode} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    files.push({ majorMinor, inode, path });
  }
  return files;
}

/** The mnt_id line of /proc/PID/fdinfo/N (Linux >= 3.15); undefined on older kernels. */
export function parseFdinfoMountId(text: string): number | undefined {
  const match = /^mnt_id:\s*(\d+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The parent PID from /proc/PID/stat; the command name in parentheses may itself contain ") ". */
export function parseStatParentPid(text: string): number | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** This process and all its ancestors: never signalled, whatever they hold. */
export function selfAndAncestors(): Set<number> {
  const pids = new Set<number>();
  let pid = process.pid;
  while (pid > 0 && !pids.has(pid)) {
    pids.add(pid);
    try {
      pid = parseStatParentPid(readFileSync(`/proc/${pid}/stat`, 'utf8')) ?? 0;
    } catch {
      break;
    }
  }
  return pids;
}

/** readlink(2), or undefined when the link is gone or not ours to read (a process that exited). */
export function tryReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function tryStat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A cwd or root whose path lies under the mount point holds the mount when
 * the object it refers to lives on the mount's filesystem and, if the path
 * still resolves, is the object that path shows now (not one the mount hides).
 */
function linkHoldsMount(procLink: string, path: string, target: MountTarget): boolean {
  if (!isPathUnder(path, target.mountPoint)) return false;
  const held = tryStat(procLink);
  if (!held || majorMinorOf(held.dev) !== target.majorMinor) return false;
  const visible = tryStat(`${target.viewRoot ?? ''}${path}`);
  return !visible || (visible.dev === held.dev && visible.ino === held.ino);
}

function fdHoldsMount(pid: number, fd: string, path: string, target: MountTarget): boolean {
  if (!isPathUnder(path, target.mountPoint)) return false;
  const mountId = parseFdinfoMountId(tryRead(`/proc/${pid}/fdinfo/${fd}`) ?? '');
  if (mountId !== undefined) return mountId === target.mountId;
  return linkHoldsMount(`/proc/${pid}/fd/${fd}`, path, target);
}

function mappingHoldsMount(file: MappedFile, target: MountTarget): boolean {
  if (file.majorMinor !== target.majorMinor || !isPathUnder(file.path, target.mountPoint)) return false;
  const visible = tryStat(`${target.viewRoot ?? ''}${file.path}`);
  return !visible || (majorMinorOf(visible.dev) === target.majorMinor && visible.ino === file.inode);
}

/** Why `pid` holds the mount (empty when it does not). Every read may fail: processes come and go. */
export function holdReasons(pid: number, target: MountTarget): string[] {
  const reasons: string[] = [];
  for (const link of ['cwd', 'root'] as const) {
    const path = tryReadlink(`/proc/${pid}/${link}`);
    if (path !== undefined && linkHoldsMount(`/proc/${pid}/${link}`, stripDeleted(path), target)) reasons.push(`${link} ${path}`);
  }
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    // Gone, or a kernel thread.
  }
  for (const fd of fds) {
    const path = tryReadlink(`/proc/${pid}/fd/${fd}`);
    if (path?.startsWith('/') && fdHoldsMount(pid, fd, stripDeleted(path), target)) reasons.push(`fd ${fd} ${path}`);
  }
  for (const file of parseMaps(tryRead(`/proc/${pid}/maps`) ?? '')) {
    if (mappingHoldsMount(file, target)) reasons.push(`mmap ${file.path}`);
  }
  return reasons;
}

/** Every process holding the mount, except the excluded PIDs (ours and our ancestors). */
export function findHolders(target: MountTarget, exclude: ReadonlySet<number> = selfAndAncestors()): Holder[] {
  const holders: Holder[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (exclude.has(pid)) continue;
    const reasons = holdReasons(pid, target);
    if (reasons.length) holders.push({ pid, reasons });
  }
  return holders;
}
