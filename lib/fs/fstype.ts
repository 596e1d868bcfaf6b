import { readOrEmpty } from '../system/files.ts';

// Is a filesystem type usable on this kernel: registered already
// (/proc/filesystems), or loadable, so that mount(2) loads it itself
// (the kernel's request_module("fs-TYPE") finds modprobe's fs-TYPE alias:
// ext3 is ext4.ko, xfs is xfs.ko). Read from files, nothing loaded.

export type FstypeSupport = 'loaded' | 'loadable' | 'unknown';

/** The kernel filesystem a type needs (FUSE-based types need fuse; efs is NFSv4): the stock agent's mapping. */
export function kernelFilesystemFor(fstype: string): string {
  return fstype.startsWith('fuse.') || fstype === 'glusterfs' || fstype === 'rozofs' ? 'fuse' : fstype === 'efs' ? 'nfs4' : fstype;
}

/** Pure: is `name` registered in this /proc/filesystems text. */
export function inProcFilesystems(text: string, name: string): boolean {
  return text.split('\n').some((line) => line.split('\t').pop()?.trim() === name);
}

/** Pure: does modules.alias / modules.dep text offer a module for it. */
export function moduleFor(name: string, modulesAlias: string, modulesDep: string): boolean {
  const escaped = name.replace(/[.+]/g, '\\$&');
  return new RegExp(`^alias fs-${escaped} `, 'm').test(modulesAlias) || new RegExp(`/${escaped}\\.ko(\\.[a-z]+)?:`, 'm').test(modulesDep);
}

export function fstypeSupport(fstype: string): FstypeSupport {
  const name = kernelFilesystemFor(fstype);
  if (inProcFilesystems(readOrEmpty('/proc/filesystems'), name)) return 'loaded';
  const release = readOrEmpty('/proc/sys/kernel/osrelease').trim();
  if (release && moduleFor(name, readOrEmpty(`/lib/modules/${release}/modules.alias`), readOrEmpty(`/lib/modules/${release}/modules.dep`))) return 'loadable';
  return 'unknown';
}
