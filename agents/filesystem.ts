import { existsSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, posix } from 'node:path';
import type { AgentContext, AgentDefinition, Params } from '../lib/contract/agent.ts';
import { describeDeviceSpec, parseDeviceSpec, resolveBlockDevice, resolveDevicePath, type DeviceSpec, type ResolvedDevice } from '../lib/fs/block-device.ts';
import { GenericError, InvalidParameterError, NotInstalledError, RefusedError, UsageError } from '../lib/contract/errors.ts';
import { run } from '../lib/system/exec.ts';
import { fsckNeeded, runFsck, type FsckMode } from '../lib/fs/fsck.ts';
import { fstypeSupport } from '../lib/fs/fstype.ts';
import { hostName } from '../lib/system/host.ts';
import { log } from '../lib/system/log.ts';
import { canonicalMountPoint, isPathUnder, mountsBelow, mountsOn, readMountinfo, trimTrailingSlashes, type MountEntry } from '../lib/fs/mountinfo.ts';
import { findForeignCopies, namespaceMember, nsenterMountArgs, stillMountedIn, type ForeignNamespace } from '../lib/fs/mount-namespaces.ts';
import { findHolders, selfAndAncestors } from '../lib/fs/proc-holders.ts';
import { terminate } from '../lib/system/terminate.ts';
import { sleep } from '../lib/system/wait.ts';

// Filesystem: mount one filesystem on one directory, never twice, and get it
// off again for sure. Mount state comes from /proc/self/mountinfo; a mount is
// "ours" when its device numbers match the device (so a symlink, UUID= or
// LABEL= names the same mount as /dev/drbd1 does).

/** Network and virtual filesystems: the device is not a local block device (the stock agent's list). */
const NOT_BLOCK = new Set('nfs4 nfs efs smbfs cifs none glusterfs ceph tmpfs overlay overlayfs rozofs zfs cvfs lustre'.split(' '));
/** Local filesystems that two nodes must never mount at once (the stock agent's clone refusal). */
const NOT_CLUSTER_SAFE = new Set('ext4 ext4dev ext3 reiserfs reiser4 xfs jfs'.split(' '));
const V1_SYNOPSIS = 'device directory [fstype [options]]';
const DEFAULT_STATUSFILE_PREFIX = '.Filesystem_status/';

const hasOption = (options: string, word: string) => options.split(',').includes(word);
const isBindOptions = (options: string) => hasOption(options, 'bind') || hasOption(options, 'rbind');

interface Resource {
  spec: DeviceSpec;
  /** As the user wrote it, for messages. */
  device: string;
  directory: string;
  fstype: string;
  options: string;
  bind: boolean;
  blockBacked: boolean;
}

function resourceOf(params: Params): Resource {
  const options = params.get('options');
  const fstype = params.get('fstype');
  const spec = parseDeviceSpec(params.get('device')) as DeviceSpec; // the table's check refused the rest
  const bind = isBindOptions(options);
  // Like the stock agent's readlink -f: mountinfo shows canonical paths.
  const directory = canonicalMountPoint(params.get('directory'));
  // host:/export and //server/share name network filesystems even without an fstype (mount detects nfs/cifs from them).
  const networkSpec = spec.kind === 'share' && (spec.text.startsWith('//') || /^[^/]+:\//.test(spec.text));
  return { spec, device: params.get('device'), directory, fstype, options, bind, blockBacked: !bind && !networkSpec && !NOT_BLOCK.has(fstype) };
}

/** What the device is now: the block device's numbers, or where a bind mount's source lives in mountinfo terms. */
type Identity =
  | { kind: 'block'; device: ResolvedDevice }
  | { kind: 'bind'; source: string; majorMinor?: string; root?: string }
  | { kind: 'share'; source: string };

async function identify(r: Resource, timeoutMs: number, entries: readonly MountEntry[]): Promise<Identity> {
  if (r.bind) {
    const source = r.spec.kind === 'path' ? trimTrailingSlashes(r.spec.path) : r.device;
    let real = source;
    try {
      real = realpathSync(source);
    } catch {
      return { kind: 'bind', source };
    }
    // The mount the source directory lives on; the bind mount shows that filesystem with root = the source's path inside it.
    // The deepest mount point containing it; of mounts stacked there, the last (the visible one).
    const container = entries.reduce<MountEntry | undefined>(
      (best, e) => (isPathUnder(real, e.mountPoint) && (!best || e.mountPoint.length >= best.mountPoint.length) ? e : best),
      undefined,
    );
    if (!container) return { kind: 'bind', source: real };
    const inside = container.mountPoint === '/' ? real : real.slice(container.mountPoint.length) || '/';
    // No trailing slash: a directory bound onto itself is its own container afterwards (inside = "/").
    return { kind: 'bind', source: real, majorMinor: container.majorMinor, root: trimTrailingSlashes(posix.join(container.root, inside)) };
  }
  if (!r.blockBacked || r.spec.kind === 'share') return { kind: 'share', source: r.device };
  return { kind: 'block', device: await resolveBlockDevice(r.spec, timeoutMs) };
}

function isOurs(entry: MountEntry, identity: Identity, r: Resource): boolean {
  switch (identity.kind) {
    case 'block':
      if (identity.device.found) return entry.majorMinor === identity.device.majorMinor || entry.source === identity.device.path;
      return r.spec.kind === 'path' && entry.source === r.spec.path;
    case 'bind':
      return identity.majorMinor !== undefined && entry.majorMinor === identity.majorMinor && entry.root === identity.root;
    case 'share':
      return trimTrailingSlashes(entry.source) === trimTrailingSlashes(identity.source);
  }
}

const describeMount = (e: MountEntry) => `${e.source} (${e.fstype})`;
const remainingMs = (ctx: AgentContext) => Math.max(ctx.deadline - Date.now(), 100);

/** As the stock agent's check (/proc/filesystems, else a module to load), without running modprobe (absent on many hosts): mount(2) loads the module itself. `ha-agent check` asks the same. */
function checkFstypeSupported(fstype: string): void {
  if (!fstype || fstype === 'none') return;
  if (fstypeSupport(fstype) === 'unknown') throw new NotInstalledError(`filesystem type ${fstype} is not supported by this kernel (not in /proc/filesystems)`);
}

/** The filesystem type blkid finds on the device ('' when it finds none). */
async function probeFstype(device: string, timeoutMs: number): Promise<string> {
  const result = await run('blkid', ['-p', '-o', 'value', '-s', 'TYPE', device], { timeoutMs, allowFailure: true });
  return result.exitCode === 0 ? result.stdout.trim() : '';
}

async function start(ctx: AgentContext): Promise<void> {
  const r = resourceOf(ctx.params);
  checkFstypeSupported(r.fstype);
  const entries = readMountinfo();
  const identity = await identify(r, remainingMs(ctx), entries);
  const on = mountsOn(entries, r.directory);
  if (on.some((e) => isOurs(e, identity, r))) {
    log.info(`${r.device} is already mounted on ${r.directory}`);
    return;
  }
  if (on.length) throw new RefusedError(`${r.directory} already has ${describeMount(on.at(-1)!)} mounted on it; not mounting ${r.device} over it`);
  const below = mountsBelow(entries, r.directory);
  if (below.length) throw new RefusedError(`${below.at(-1)!.mountPoint} is mounted below ${r.directory}; mounting ${r.device} would hide it`);

  let source = r.device;
  if (identity.kind === 'block') {
    if (!identity.device.found) throw new NotInstalledError(`cannot mount ${r.device}: ${identity.device.why}`);
    const dev = identity.device;
    const elsewhere = entries.find((e) => e.majorMinor === dev.majorMinor || e.source === dev.path);
    if (elsewhere) throw new RefusedError(`${dev.path} is already mounted on ${elsewhere.mountPoint}; refusing to mount it a second time on ${r.directory}`);
    const fsckMode = ctx.params.get('run_fsck') as FsckMode;
    // No fstype given: decide `auto` on what the device holds (the stock agent would fsck a journaled ext4 then).
    const fstype = r.fstype || (fsckMode === 'auto' ? await probeFstype(dev.path, remainingMs(ctx)) : '');
    if (fsckNeeded(fsckMode, fstype)) await runFsck(dev.path, fstype, remainingMs(ctx));
    source = dev.path;
  } else if (identity.kind === 'bind') {
    if (!existsSync(identity.source)) throw new NotInstalledError(`cannot bind-mount ${r.device}: it does not exist`);
    source = identity.source;
  }

  if (!existsSync(r.directory)) {
    log.info(`creating mount point ${r.directory}`);
    try {
      mkdirSync(r.directory, { recursive: true, mode: 0o755 });
    } catch (error) {
      // ENAMETOOLONG, ENOTDIR (a file on the way), EROFS, EACCES: the directory parameter cannot be a mount point here.
      throw new InvalidParameterError('directory', `cannot create the mount point ${r.directory}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const args = [...(r.fstype && r.fstype !== 'none' ? ['-t', r.fstype] : []), ...(r.options ? ['-o', r.options] : []), source, r.directory];
  const before = new Set(mountsOn(entries, r.directory).map((e) => e.mountId));
  await run('mount', args, { timeoutMs: remainingMs(ctx) });
  const after = await identify(r, remainingMs(ctx), readMountinfo());
  if (!mountsOn(readMountinfo(), r.directory).some((e) => isOurs(e, after, r))) {
    // A failed start changes nothing: take off what this mount put there (a stop would not: it is not "ours").
    for (const made of mountsOn(readMountinfo(), r.directory).filter((e) => !before.has(e.mountId)).reverse()) await run('umount', [made.mountPoint], { timeoutMs: remainingMs(ctx), allowFailure: true });
    throw new GenericError(`mount ${args.join(' ')} succeeded but ${r.directory} does not show ${r.device} in /proc/self/mountinfo; unmounted it again`);
  }
  log.info(`mounted ${r.device} on ${r.directory}`);
}

/** The mounts that have to go for ours to be off: what is below it and stacked on it, its own, and (block devices) its other mounts. */
function unmountOrder(entries: readonly MountEntry[], r: Resource, identity: Identity, ours: MountEntry): MountEntry[] {
  const on = mountsOn(entries, r.directory);
  const order = [...mountsBelow(entries, r.directory), ...on.slice(on.indexOf(ours)).reverse()];
  // As the stock agent does: the same block device mounted elsewhere keeps it busy (DRBD could not be demoted next).
  if (identity.kind === 'block') {
    for (const other of entries) {
      if (other === ours || !isOurs(other, identity, r) || isPathUnder(other.mountPoint, r.directory)) continue;
      const stacked = mountsOn(entries, other.mountPoint);
      order.push(...mountsBelow(entries, other.mountPoint), ...stacked.slice(stacked.indexOf(other)).reverse());
    }
  }
  return [...new Map(order.map((e) => [e.mountId, e])).values()];
}

/** Where an unmount happens: our mount namespace, or another one that holds a copy. */
interface UnmountSite {
  /** Appended to messages: "" here, " in the mount namespace of PID n" there. */
  where: string;
  umount(mountPoint: string, timeoutMs: number): Promise<{ exitCode: number; stderr: string }>;
  stillMounted(mountId: number): boolean;
  /** For the holder search in another namespace (see MountTarget.viewRoot). */
  viewRoot(): string | undefined;
}

const HERE: UnmountSite = {
  where: '',
  umount: (mountPoint, timeoutMs) => run('umount', [mountPoint], { timeoutMs, allowFailure: true }),
  stillMounted: (mountId) => readMountinfo().some((e) => e.mountId === mountId),
  viewRoot: () => undefined,
};

function foreignSite(plan: ForeignNamespace): UnmountSite {
  const member = () => namespaceMember(plan.namespace) ?? plan.pid;
  return {
    where: ` in the mount namespace of PID ${plan.pid}`,
    viewRoot: () => `/proc/${member()}/root`,
    // nsenter: setns(2) into a mount namespace needs a single-threaded process, which this one is not.
    umount: (mountPoint, timeoutMs) => run('nsenter', nsenterMountArgs(member(), ['umount', mountPoint]), { timeoutMs, allowFailure: true }),
    stillMounted: (mountId) => stillMountedIn(plan.namespace, mountId),
  };
}

/** umount, and while the kernel says busy: find who holds it, TERM, wait, KILL, retry; all before the deadline. Never lazy. */
async function unmountOne(ctx: AgentContext, target: MountEntry, site: UnmountSite, forceUnmount: boolean, protectedPids: ReadonlySet<number>): Promise<void> {
  const fastStop = ctx.params.bool('fast_stop');
  for (let attempt = 1; ; attempt++) {
    const holderTarget = { ...target, viewRoot: site.viewRoot() };
    const result = await site.umount(target.mountPoint, remainingMs(ctx));
    if (!site.stillMounted(target.mountId)) {
      log.info(`unmounted ${target.mountPoint}${site.where}`);
      return;
    }
    const why = result.stderr.trim().split('\n').pop() || `umount exited ${result.exitCode}`;
    if (Date.now() >= ctx.deadline) {
      const who = findHolders(holderTarget, new Set()).map((h) => `${h.pid}${protectedPids.has(h.pid) ? ' (this agent or its caller)' : ''}`);
      throw new GenericError(`could not unmount ${target.mountPoint}${site.where} in time: ${why}${who.length ? `; still held by PID ${who.join(', ')}` : ''}`);
    }
    const holders = forceUnmount ? findHolders(holderTarget, protectedPids) : [];
    if (!holders.length) {
      if (attempt === 1) log.warn(`${target.mountPoint}${site.where} is busy (${why}) and ${forceUnmount ? 'no process holds it; retrying' : 'force_unmount is off; waiting'}`);
      await sleep(Math.min(200, remainingMs(ctx)));
      continue;
    }
    for (const h of holders) log.warn(`PID ${h.pid} holds ${target.mountPoint}${site.where}: ${h.reasons.slice(0, 3).join('; ')}`);
    const left = remainingMs(ctx);
    const outcome = await terminate(
      holders.map((h) => h.pid),
      { termWaitMs: Math.min(fastStop ? 1000 : 3000, left * 0.4), killWaitMs: Math.min(2000, left * 0.2) },
    );
    if (outcome.killed.length) log.warn(`killed PID ${outcome.killed.join(', ')} (did not exit on SIGTERM)`);
    if (outcome.survivors.length) log.error(`PID ${outcome.survivors.join(', ')} survived SIGKILL (uninterruptible I/O?)`);
  }
}

/**
 * Copies of the filesystem kept by other mount namespaces keep the device
 * open after our umount (DRBD could not be demoted next): unmount them there,
 * holders handled as here, or fail naming them.
 */
async function releaseForeignCopies(ctx: AgentContext, majorMinor: string, source: string, forceUnmount: boolean, protectedPids: ReadonlySet<number>): Promise<void> {
  for (const plan of findForeignCopies(majorMinor)) {
    log.warn(`${source} is unmounted here but still mounted on ${plan.copies.map((c) => c.mountPoint).join(', ')} in the mount namespace of PID ${plan.pid}; unmounting it there`);
    for (const target of plan.unmount) await unmountOne(ctx, target, foreignSite(plan), forceUnmount, protectedPids);
  }
  const left = findForeignCopies(majorMinor);
  if (left.length) {
    const where = left.map((p) => `${p.copies.map((c) => c.mountPoint).join(', ')} (mount namespace of PID ${p.pid})`).join('; ');
    throw new GenericError(`${source} is unmounted here but still mounted in another mount namespace: ${where}; the device stays in use`);
  }
}

function statusFilePath(ctx: AgentContext, directory: string): string {
  const prefix = ctx.params.get('statusfile_prefix') || DEFAULT_STATUSFILE_PREFIX;
  const clone = ctx.env.OCF_RESKEY_CRM_meta_clone ? `_${ctx.env.OCF_RESKEY_CRM_meta_clone}` : '';
  // The instance name is one file name: a "/" in it (run by hand) must not lead the write outside the mount.
  const instance = (ctx.env.OCF_RESOURCE_INSTANCE ?? '').replace(/\//g, '_');
  return `${directory}/${prefix}${instance}${clone}_${hostName()}`;
}

async function stop(ctx: AgentContext): Promise<void> {
  const r = resourceOf(ctx.params);
  const entries = readMountinfo();
  const on = mountsOn(entries, r.directory);
  // "safe" is the stock agent's /proc walk; we always walk /proc, so it means the same as true.
  const forceUnmount = ctx.params.get('force_unmount').toLowerCase() === 'safe' || ctx.params.bool('force_unmount');
  const protectedPids = selfAndAncestors();
  if (!on.length) {
    log.info(`${r.directory} is not mounted`);
    // An earlier stop may have failed on a copy in another mount namespace: a retried stop must still free the device.
    if (r.blockBacked) {
      const identity = await identify(r, remainingMs(ctx), entries);
      if (identity.kind === 'block' && identity.device.found) await releaseForeignCopies(ctx, identity.device.majorMinor, identity.device.path, forceUnmount, protectedPids);
    }
    return;
  }
  const identity = await identify(r, remainingMs(ctx), entries);
  const ours = [...on].reverse().find((e) => isOurs(e, identity, r));
  if (!ours) {
    log.warn(`${r.directory} has ${describeMount(on.at(-1)!)} mounted, not ${r.device}; leaving it alone`);
    return;
  }
  if (ctx.checkLevel === 20) rmSync(statusFilePath(ctx, r.directory), { force: true });
  for (const target of unmountOrder(entries, r, identity, ours)) await unmountOne(ctx, target, HERE, forceUnmount, protectedPids);
  // Block devices only: there a copy elsewhere keeps the device busy for whatever comes next (DRBD demote, fsck).
  if (identity.kind === 'block') await releaseForeignCopies(ctx, ours.majorMinor, ours.source, forceUnmount, protectedPids);
}

async function status(ctx: AgentContext): Promise<{ held: boolean; detail: string }> {
  const r = resourceOf(ctx.params);
  const entries = readMountinfo();
  const on = mountsOn(entries, r.directory);
  if (!on.length) return { held: false, detail: `nothing mounted on ${r.directory}` };
  // Only now (something is mounted there) may a UUID=/LABEL= need a blkid call.
  const identity = await identify(r, remainingMs(ctx), entries);
  const ours = [...on].reverse().find((e) => isOurs(e, identity, r));
  if (!ours) return { held: false, detail: `${r.directory} has ${on.at(-1)!.source}, not ${r.device}` };
  return { held: true, detail: `${ours.source} on ${r.directory}` };
}

async function deepCheck(ctx: AgentContext): Promise<void> {
  const r = resourceOf(ctx.params);
  const timeoutMs = remainingMs(ctx);
  if (ctx.checkLevel === 10) {
    const identity = await identify(r, timeoutMs, readMountinfo());
    if (identity.kind !== 'block' || !identity.device.found) {
      log.warn(`${r.device} is not a block device, monitor depth 10 is a no-op`);
      return;
    }
    const read = await run('dd', [`if=${identity.device.path}`, 'of=/dev/null', 'iflag=direct', 'bs=4k', 'count=1'], { timeoutMs, allowFailure: true });
    if (read.exitCode !== 0) throw new GenericError(`cannot read ${identity.device.path}: ${read.stderr.trim().split('\n')[0] ?? `dd exited ${read.exitCode}`}`);
    return;
  }
  if (ctx.checkLevel === 20) {
    const file = statusFilePath(ctx, r.directory);
    const content = `${ctx.env.OCF_RESOURCE_INSTANCE ?? ''}\n`;
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (error) {
      throw new GenericError(`cannot create the status directory ${dirname(file)}: ${(error as Error).message}`);
    }
    // O_DIRECT + sync writes go to the device, not the page cache (as the stock agent does with dd).
    const direct = r.blockBacked ? 'oflag=direct,sync' : 'oflag=sync';
    const write = await run('dd', [`of=${file}`, direct, 'bs=4k', 'conv=fsync,sync'], { timeoutMs, allowFailure: true, input: content });
    if (write.exitCode !== 0) throw new GenericError(`cannot write the status file ${file}: ${write.stderr.trim().split('\n')[0]}`);
    const back = await run('dd', [`if=${file}`, 'bs=4k', 'count=1'], { timeoutMs: remainingMs(ctx), allowFailure: true });
    if (back.exitCode !== 0 || !back.stdout.startsWith(content)) throw new GenericError(`cannot read back the status file ${file}`);
    return;
  }
  throw new InvalidParameterError('OCF_CHECK_LEVEL', `unsupported monitor depth ${ctx.checkLevel} (use 0, 10 or 20)`);
}

function validate(ctx: AgentContext): void {
  const r = resourceOf(ctx.params);
  if (r.spec.kind === 'share' && r.blockBacked) {
    throw new InvalidParameterError('device', `device ${JSON.stringify(r.device)} is not an absolute path (use /dev/..., UUID=, LABEL=, -U or -L)`);
  }
  if (r.bind && r.spec.kind !== 'path') throw new InvalidParameterError('device', `a bind mount needs a directory as device, got ${JSON.stringify(r.device)}`);
  const cloned = ctx.env.OCF_RESKEY_CRM_meta_clone_max !== undefined || ctx.env.OCF_RESKEY_CRM_meta_clone !== undefined;
  if (cloned && NOT_CLUSTER_SAFE.has(r.fstype) && !ctx.params.bool('force_clones') && !hasOption(r.options, 'ro')) {
    throw new InvalidParameterError('fstype', `${r.fstype} on ${r.device} is not cluster-aware; refusing to run it as a clone (force_clones overrides)`);
  }
  if (ctx.action === 'start' || ctx.action === 'validate-all') {
    if (existsSync(r.directory) && !statSync(r.directory).isDirectory()) throw new InvalidParameterError('directory', `${r.directory} exists and is not a directory`);
    checkFstypeSupported(r.fstype);
  }
}

function parseV1(args: readonly string[]): Record<string, string> {
  if (args.length < 2 || args.length > 4) {
    throw new UsageError(`${args.length < 2 ? 'missing arguments' : 'too many arguments'}; usage: Filesystem ${V1_SYNOPSIS} {start|stop|status}`);
  }
  const [device, directory, fstype, options] = args;
  return Object.fromEntries(Object.entries({ device, directory, fstype, options }).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
}

const agent: AgentDefinition = {
  name: 'Filesystem',
  version: '1.1',
  shortdesc: 'Manages filesystem mounts',
  longdesc:
    'Mounts a filesystem (e.g. the DRBD device holding MySQL data) on a directory, refusing to mount a device that is mounted elsewhere or a directory that has something else on it, ' +
    'and unmounts it on stop: sub-mounts first, processes holding it (found in /proc: cwd, root, open files, mappings) get SIGTERM then SIGKILL within the stop timeout; never a lazy unmount. ' +
    'OCF_CHECK_LEVEL 10 reads the device, 20 writes and reads back a status file under the mount.',
  params: [
    {
      name: 'device', type: 'string', required: true, v1: 0, shortdesc: 'block device',
      longdesc: 'The block device (a path or a symlink such as /dev/disk/by-uuid/...), UUID=, LABEL=, -U uuid, -L label, a directory for bind mounts, or a network share.',
      check: (v) => { const s = parseDeviceSpec(v); return typeof s === 'string' ? s : undefined; },
    },
    {
      name: 'directory', type: 'string', required: true, unique: true, v1: 1, shortdesc: 'mount point',
      longdesc: 'The mount point (an absolute path); created when missing.',
      check: (v) => (!v.startsWith('/') ? 'is not an absolute path' : trimTrailingSlashes(v) === '/' ? 'is the root directory' : undefined),
    },
    {
      name: 'fstype', type: 'string', v1: 2, shortdesc: 'filesystem type',
      longdesc: 'The filesystem type (ext3, ext4, xfs, ...; "none" for bind mounts); empty lets mount detect it.',
      check: (v) => (/^[A-Za-z0-9_.+-]+$/.test(v) ? undefined : 'is not a filesystem type name'),
    },
    {
      name: 'options', type: 'string', v1: 3, shortdesc: 'options',
      longdesc: 'Options given to mount with -o (comma-separated). For bind mounts add "bind" here and set fstype to "none".',
      check: (v) => (/\s/.test(v) ? 'contains white space (separate mount options with commas)' : v.startsWith('-') ? 'starts with "-" (give mount options without -o)' : undefined),
    },
    { name: 'statusfile_prefix', type: 'string', default: DEFAULT_STATUSFILE_PREFIX, shortdesc: 'status file prefix',
      longdesc: 'Prefix (relative to the mount point) of the status file written by monitor depth 20.',
      check: (v) => (v.startsWith('/') || v.split('/').includes('..') ? 'must be a path inside the mount point' : undefined) },
    { name: 'run_fsck', type: 'string', default: 'auto', shortdesc: 'run_fsck',
      longdesc: 'auto: fsck before mounting only filesystems without a journal; force: always; no: never.',
      check: (v) => (['auto', 'force', 'no'].includes(v) ? undefined : 'must be auto, force or no') },
    { name: 'fast_stop', type: 'boolean', default: 'no', shortdesc: 'fast stop',
      longdesc: 'Give processes holding the mount 1 s instead of 3 s between SIGTERM and SIGKILL.' },
    { name: 'force_clones', type: 'boolean', default: 'false', shortdesc: 'allow running as a clone, regardless of filesystem type',
      longdesc: 'Allow a clone of a local, not cluster-aware filesystem (ext3/ext4/xfs...). Only if you know what you are doing.' },
    { name: 'force_unmount', type: 'string', default: 'true', shortdesc: 'Kill processes before unmount',
      longdesc: 'true or safe: on a busy unmount, find the processes holding the mount by walking /proc (never fuser) and send SIGTERM, then SIGKILL; false: do not kill anything.',
      check: (v) => (v === 'safe' || ['yes', 'true', '1', 'on', 'y', 'no', 'false', '0', 'off', 'n'].includes(v.toLowerCase()) ? undefined : 'must be true, safe or false') },
  ],
  v1Synopsis: V1_SYNOPSIS,
  parseV1,
  timeouts: { start: 60, stop: 60, monitor: 40 },
  lockKey: (params) => trimTrailingSlashes(params.get('directory')),
  // HA_RSCTMP may be on the filesystem we mount (a node keeps its run state on the shared disk): the lock goes elsewhere then.
  lockAwayFrom: (params) => params.get('directory'),
  validate,
  start,
  stop,
  status,
  deepCheck,
};
export default agent;
