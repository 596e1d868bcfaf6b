import { existsSync, realpathSync, statSync } from 'node:fs';
import { run } from '../system/exec.ts';
import { majorMinorOf } from './mountinfo.ts';

// How mount(8) names a filesystem: a device path (or a symlink such as
// /dev/disk/by-uuid/...), UUID=/LABEL= tags and their -U/-L/--uuid/--label
// option forms, or a network share. Hosts without udev (these machines)
// have no /dev/disk/by-*, so tags are resolved with blkid, which reads the
// superblocks itself.

export type DeviceSpec =
  | { kind: 'path'; path: string }
  | { kind: 'uuid'; value: string }
  | { kind: 'label'; value: string }
  /** host:/export, //server/share, or a bare word (tmpfs): only meaningful for network and virtual filesystems. */
  | { kind: 'share'; text: string };

/** Parses a device parameter; a string result is the problem in words. */
export function parseDeviceSpec(text: string): DeviceSpec | string {
  const tag = /^(?:(UUID|LABEL)=|-(U|L)\s*|--(uuid|label)(?:=|\s+))(.*)$/.exec(text);
  if (tag) {
    const which = (tag[1] ?? tag[2] ?? tag[3] ?? '').toUpperCase();
    const value = tag[4]!.trim();
    if (!value) return `names no ${which.startsWith('U') ? 'UUID' : 'label'}`;
    return which.startsWith('U') ? { kind: 'uuid', value } : { kind: 'label', value };
  }
  if (text.startsWith('/')) {
    if (text.startsWith('//')) return { kind: 'share', text };
    return { kind: 'path', path: text };
  }
  if (text.startsWith('-')) return 'is an option, not a device (use a path, UUID=, LABEL=, -U or -L)';
  return { kind: 'share', text };
}

export function describeDeviceSpec(spec: DeviceSpec): string {
  switch (spec.kind) {
    case 'path': return spec.path;
    case 'uuid': return `UUID=${spec.value}`;
    case 'label': return `LABEL=${spec.value}`;
    case 'share': return spec.text;
  }
}

export type ResolvedDevice =
  | { found: true; path: string; majorMinor: string }
  | { found: false; why: string };

/** A path (following symlinks) to the block device it names. */
export function resolveDevicePath(path: string): ResolvedDevice {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return { found: false, why: `${path} does not exist` };
  }
  const stats = statSync(real);
  if (!stats.isBlockDevice()) return { found: false, why: `${path}${real !== path ? ` (${real})` : ''} is not a block device` };
  return { found: true, path: real, majorMinor: majorMinorOf(stats.rdev) };
}

/**
 * The block device a spec names now. Tags go through /dev/disk/by-* when udev
 * made it, else `blkid -U/-L` (exit 2: no such filesystem).
 */
export async function resolveBlockDevice(spec: DeviceSpec, timeoutMs: number): Promise<ResolvedDevice> {
  switch (spec.kind) {
    case 'path':
      return resolveDevicePath(spec.path);
    case 'share':
      return { found: false, why: `${spec.text} is a network share, not a block device` };
    case 'uuid':
    case 'label': {
      const byTag = `/dev/disk/by-${spec.kind}/${spec.value}`;
      if (existsSync(byTag)) return resolveDevicePath(byTag);
      const result = await run('blkid', [spec.kind === 'uuid' ? '-U' : '-L', spec.value], { timeoutMs, allowFailure: true });
      const path = result.stdout.trim().split('\n')[0];
      if (result.exitCode !== 0 || !path) return { found: false, why: `no filesystem with ${describeDeviceSpec(spec)} was found` };
      return resolveDevicePath(path);
    }
  }
}
