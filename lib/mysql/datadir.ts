import { accessSync, constants, existsSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseHaresources } from '../heartbeat/haresources.ts';
import type { MountEntry } from '../fs/mountinfo.ts';
import { readOrEmpty } from '../system/files.ts';

// The checks that keep start from turning an unmounted /data into a fresh,
// empty primary: the datadir must exist, belong to the server's user, hold
// an initialised system schema, and sit on the filesystem the HA config
// says it is on.

export type DatadirProblem =
  | { kind: 'missing'; message: string }
  | { kind: 'permission'; message: string }
  | { kind: 'uninitialised'; message: string };

/** MariaDB ≤ 10.3 / MySQL 5.x: mysql/user.frm; MariaDB ≥ 10.4: mysql/global_priv.frm; MySQL 8: mysql.ibd. */
export function hasSystemSchema(datadir: string): boolean {
  return ['mysql/user.frm', 'mysql/global_priv.frm', 'mysql.ibd'].some((f) => existsSync(`${datadir}/${f}`));
}

export function datadirProblem(datadir: string, user: string, uid: number): DatadirProblem | undefined {
  let stat;
  try {
    stat = statSync(datadir);
  } catch {
    return { kind: 'missing', message: `datadir ${datadir} does not exist (is the replicated disk mounted?); not starting, and not creating one` };
  }
  if (!stat.isDirectory()) return { kind: 'missing', message: `datadir ${datadir} is not a directory` };
  if (stat.uid !== uid) return { kind: 'permission', message: `datadir ${datadir} is owned by uid ${stat.uid}, not by the server user ${user} (uid ${uid})` };
  if ((stat.mode & 0o700) !== 0o700) return { kind: 'permission', message: `datadir ${datadir} is mode ${(stat.mode & 0o7777).toString(8)}: its owner ${user} cannot write or enter it` };
  if (!hasSystemSchema(datadir)) {
    return { kind: 'uninitialised', message: `datadir ${datadir} holds no initialised system schema (no mysql/ tables): refusing to start a server there; an HA agent never initialises a database (is the replicated disk mounted?)` };
  }
  return undefined;
}

/** Less than this free for an unprivileged user (the server runs as mysql): the server could not even write its redo log. */
const FULL_BELOW_BYTES = 1 << 20;

/**
 * The datadir's filesystem cannot take writes: mounted read-only, or full.
 * Said before starting, in these words: the server itself would start and
 * fail with an InnoDB error deep in its log, or hang on a full disk.
 */
export function datadirFilesystemProblem(datadir: string): string | undefined {
  try {
    accessSync(datadir, constants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EROFS') return `datadir ${datadir} is on a read-only filesystem; not starting the server`;
  }
  try {
    const fs = statfsSync(datadir);
    const free = fs.bavail * fs.bsize;
    if (free < FULL_BELOW_BYTES || fs.ffree === 0) {
      return `the filesystem of datadir ${datadir} is full (${Math.floor(free / 1024)} KiB${fs.ffree === 0 ? ', no inodes' : ''} free); not starting the server`;
    }
  } catch {
    // statfs unsupported here: let the server find out.
  }
  return undefined;
}

const isUnder = (path: string, mountPoint: string) => mountPoint !== '/' && (path === mountPoint || path.startsWith(`${mountPoint}/`));

/** Pure: mount points that haresources `Filesystem::dev::dir::fstype` resources declare (read as ResourceManager reads the file). */
export function haresourcesMountPoints(text: string): string[] {
  return parseHaresources(text)
    .groups.flatMap((g) => g.resources)
    .filter((r) => r.script === 'Filesystem' && r.args[1])
    .map((r) => r.args[1]!);
}

/** Pure: mount points of /etc/fstab entries (swap and / left out). */
export function fstabMountPoints(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .filter((f) => f.length >= 3 && f[1]!.startsWith('/') && f[2] !== 'swap')
    .map((f) => f[1]!.replace(/\\040/g, ' '));
}

/** Pure: the deepest declared mount point the datadir lies under, if any. */
export function expectedMountPoint(datadir: string, declared: readonly string[]): string | undefined {
  return declared
    .map((p) => p.replace(/\/+$/, '') || '/')
    .filter((p) => isUnder(datadir, p))
    .sort((a, b) => b.length - a.length)[0];
}

/** The mount point the HA config (haresources in HA_DIR, /etc/fstab) says the datadir is on. */
export function declaredMountPointFor(datadir: string, env: NodeJS.ProcessEnv): { mountPoint: string; source: string } | undefined {
  const haresources = `${env.HA_DIR || '/etc/ha.d'}/haresources`;
  const fromHa = expectedMountPoint(datadir, haresourcesMountPoints(readOrEmpty(haresources)));
  if (fromHa) return { mountPoint: fromHa, source: haresources };
  const fromFstab = expectedMountPoint(datadir, fstabMountPoints(readOrEmpty('/etc/fstab')));
  return fromFstab ? { mountPoint: fromFstab, source: '/etc/fstab' } : undefined;
}

/** The mount a path lives on: the deepest mount point that is a prefix of it. */
export function mountOf(path: string, mounts: readonly MountEntry[]): MountEntry | undefined {
  return [...mounts]
    .filter((m) => m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
}

/** Problem when the datadir is not on its own mount at `mountPoint` (i.e. the disk is not mounted). */
export function notOnDeclaredMount(datadir: string, mountPoint: string, mounts: readonly MountEntry[]): string | undefined {
  let real: string;
  try {
    real = realpathSync(datadir);
  } catch {
    real = datadir;
  }
  const on = mountOf(real, mounts);
  if (on && on.mountPoint === mountPoint) return undefined;
  const where = on ? (on.mountPoint === '/' ? 'the root filesystem' : `${on.mountPoint} (${on.source})`) : 'an unknown filesystem';
  return `datadir ${datadir} is on ${where}, but the configuration puts it on the filesystem mounted at ${mountPoint}, which is not mounted there; not starting on the wrong disk`;
}

/** True when a path (or its nearest existing parent) is on a different device than the datadir. */
export function onOtherFilesystem(path: string, datadir: string): boolean {
  try {
    let probe = path;
    while (!existsSync(probe) && probe !== dirname(probe)) probe = dirname(probe);
    return statSync(probe).dev !== statSync(datadir).dev;
  } catch {
    return false;
  }
}
