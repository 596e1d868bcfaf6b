import { readdirSync, readFileSync } from 'node:fs';
import { mountsBelow, mountsOn, parseMountinfo, type MountEntry } from './mountinfo.ts';
import { tryReadlink } from './proc-holders.ts';

// Copies of a mount in other mount namespaces. A namespace created with
// private propagation (`unshare -m`, the default there; a container) while
// a filesystem was mounted keeps its own copy: our umount succeeds, yet the
// filesystem stays alive and its device open, so a DRBD demote or an fsck
// that follows finds it in use. Slave namespaces (`ip netns exec`, systemd's
// PrivateTmp=) receive our umount and never show up here.
//
// The parsing and planning are pure functions over what /proc shows; the
// /proc walk sits at the edge.

/** What /proc says about one process's mount namespace. */
export interface ProcessMountView {
  pid: number;
  /** readlink /proc/PID/ns/mnt, e.g. "mnt:[4026531841]". */
  namespace: string;
  /** readlink /proc/PID/root: "/" unless the process is chrooted. */
  root: string;
  /** /proc/PID/mountinfo (paths relative to that process's root). */
  mountinfo: string;
}

/** One foreign namespace and the mounts that must go there, in unmount order. */
export interface ForeignNamespace {
  namespace: string;
  /** A process of the namespace whose root is the namespace's root: mount points are in its terms. */
  pid: number;
  /** Mounts of the filesystem, with whatever is mounted below or stacked on them, deepest and newest first. */
  unmount: MountEntry[];
  /** The mounts of the filesystem itself (a subset of `unmount`). */
  copies: MountEntry[];
}

/**
 * Groups processes by mount namespace (ours left out) and plans, per
 * namespace holding `majorMinor`, what to unmount there: like our own stop,
 * what lies below a copy and what is stacked on it goes first.
 */
export function planForeignUnmounts(views: readonly ProcessMountView[], ourNamespace: string, majorMinor: string): ForeignNamespace[] {
  const byNamespace = new Map<string, ProcessMountView>();
  for (const view of views) {
    if (view.namespace === ourNamespace) continue;
    const seen = byNamespace.get(view.namespace);
    // Prefer a process that is not chrooted: its mountinfo shows the whole namespace.
    if (!seen || (seen.root !== '/' && view.root === '/')) byNamespace.set(view.namespace, view);
  }
  const plans: ForeignNamespace[] = [];
  for (const view of byNamespace.values()) {
    const entries = parseMountinfo(view.mountinfo);
    const copies = entries.filter((e) => e.majorMinor === majorMinor);
    if (!copies.length) continue;
    const order: MountEntry[] = [];
    // Deepest copy first, so a copy below another copy goes before it.
    for (const copy of [...copies].sort((a, b) => b.mountPoint.split('/').length - a.mountPoint.split('/').length)) {
      const stacked = mountsOn(entries, copy.mountPoint);
      order.push(...mountsBelow(entries, copy.mountPoint), ...stacked.slice(stacked.indexOf(copy)).reverse());
    }
    plans.push({ namespace: view.namespace, pid: view.pid, unmount: [...new Map(order.map((e) => [e.mountId, e])).values()], copies });
  }
  return plans;
}

/** Our mount namespace ("mnt:[...]"), or undefined when /proc does not say. */
export function ownMountNamespace(): string | undefined {
  return tryReadlink('/proc/self/ns/mnt');
}

/**
 * One view per mount namespace other than ours (the first readable process
 * of each, a non-chrooted one when there is one). Kernel threads and
 * processes that exit meanwhile are skipped.
 */
export function readForeignMountViews(ourNamespace: string): ProcessMountView[] {
  const views = new Map<string, ProcessMountView>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const namespace = tryReadlink(`/proc/${name}/ns/mnt`);
    if (!namespace || namespace === ourNamespace) continue;
    const known = views.get(namespace);
    if (known && known.root === '/') continue;
    const root = tryReadlink(`/proc/${name}/root`);
    if (root === undefined) continue;
    try {
      views.set(namespace, { pid: Number(name), namespace, root, mountinfo: readFileSync(`/proc/${name}/mountinfo`, 'utf8') });
    } catch {
      // Gone.
    }
  }
  return [...views.values()];
}

/** The plans for `majorMinor` as /proc shows them now. */
export function findForeignCopies(majorMinor: string): ForeignNamespace[] {
  const ours = ownMountNamespace();
  if (!ours) return [];
  return planForeignUnmounts(readForeignMountViews(ours), ours, majorMinor);
}

function currentView(namespace: string): ProcessMountView | undefined {
  const ours = ownMountNamespace();
  return ours ? readForeignMountViews(ours).find((v) => v.namespace === namespace) : undefined;
}

/** A process in `namespace` now (the one we knew may have been a holder, and ended). */
export function namespaceMember(namespace: string): number | undefined {
  return currentView(namespace)?.pid;
}

/** Whether the mount `mountId` still exists in `namespace` (false too when no process is left in it: the namespace is gone). */
export function stillMountedIn(namespace: string, mountId: number): boolean {
  const view = currentView(namespace);
  return view !== undefined && parseMountinfo(view.mountinfo).some((e) => e.mountId === mountId);
}

/** `nsenter` arguments that run a command in the mount namespace of `pid` (root and cwd become that namespace's root). */
export function nsenterMountArgs(pid: number, command: readonly string[]): string[] {
  return [`--mount=/proc/${pid}/ns/mnt`, '--', ...command];
}
