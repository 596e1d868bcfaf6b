import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { findForeignCopies } from '../../lib/fs/mount-namespaces.ts';
import { majorMinorOf } from '../../lib/fs/mountinfo.ts';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// Loop-backed filesystem images for tests: a sparse file under a temp dir,
// mkfs'd, attached with `losetup --find --show`. Teardown unmounts whatever
// is still mounted from the image (deepest first, never lazily), detaches the
// loop device and deletes the files, whether or not the test passed.

export type ImageFstype = 'ext3' | 'ext4' | 'xfs';

export interface LoopImage {
  fstype: ImageFstype;
  file: string;
  device: string;
  uuid: string;
  label: string;
}

const MKFS: Record<ImageFstype, (file: string, label: string) => [string, string[]]> = {
  ext3: (file, label) => ['mkfs.ext3', ['-q', '-F', '-m', '0', '-L', label, file]],
  ext4: (file, label) => ['mkfs.ext4', ['-q', '-F', '-m', '0', '-L', label, file]],
  // xfs needs >= 300 MiB since xfsprogs 5.19; the file is sparse.
  xfs: (file, label) => ['mkfs.xfs', ['-q', '-f', '-L', label, file]],
};

const SIZE: Record<ImageFstype, number> = { ext3: 32 << 20, ext4: 32 << 20, xfs: 320 << 20 };

/**
 * A private temp directory for one test file: /tmp/<prefix>-<pid>-XXXX,
 * made a shared mount point (bound onto itself). Mount namespaces other
 * tests create with slave propagation (the rig's sandboxes and ocft runners,
 * every `ip netns exec`) then receive our unmounts of the images mounted
 * here instead of keeping a copy that holds the device busy; on a host
 * whose / is already shared (systemd) this changes nothing, on one whose /
 * is private (a container) it is what makes slave propagation work.
 */
export function makeScratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-${process.pid}-`));
  execFileSync('mount', ['--bind', dir, dir]);
  execFileSync('mount', ['--make-shared', dir]);
  return dir;
}

/** Mount points under `dir` from /proc/self/mountinfo (decoded), one per mount, deepest first. */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  // Stacked mounts appear once each.
  return points.sort((a, b) => b.split('/').length - a.split('/').length);
}

/** Unmounts everything under `dir` (repeatedly, for stacked mounts). */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const points = mountsUnder(dir);
    if (!points.length) return;
    for (const p of points) await execa('umount', [p], { reject: false });
  }
}

/** Creates, formats and attaches an image in `dir`. Label is at most 12 characters (xfs limit). */
export async function createLoopImage(dir: string, fstype: ImageFstype, label: string): Promise<LoopImage> {
  const file = join(dir, `${label}.img`);
  mkdirSync(dir, { recursive: true });
  await execa('truncate', ['-s', String(SIZE[fstype]), file]);
  const [cmd, args] = MKFS[fstype](file, label);
  await execa(cmd, args);
  const device = (await execa('losetup', ['--find', '--show', file])).stdout.trim();
  const uuid = (await execa('blkid', ['-s', 'UUID', '-o', 'value', '-p', device])).stdout.trim();
  return { fstype, file, device, uuid, label };
}

/** Unmounts the image's device wherever it is mounted, detaches it and deletes the file. Never throws. */
export async function destroyLoopImage(image: LoopImage): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const points = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .filter((line) => line.split(' ')[0] === image.device)
      .map((line) => line.split(' ')[1]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
    if (!points.length) break;
    for (const p of points.reverse()) await execa('umount', [p], { reject: false });
  }
  // Only detach the device if it is still backed by our file (it may have been detached and reused).
  const backing = await execa('losetup', ['-n', '-O', 'BACK-FILE', image.device], { reject: false });
  if (backing.stdout.trim() === image.file) await execa('losetup', ['-d', image.device], { reject: false });
  rmSync(image.file, { force: true });
}

/** Removes the scratch dir after unmounting anything left under it. */
export async function removeScratchDir(dir: string): Promise<void> {
  await unmountAllUnder(dir);
  if (!mountsUnder(dir).length) rmSync(dir, { recursive: true, force: true });
}

/**
 * Waits until no mount namespace on the host mounts `device`. Other tests'
 * namespaces (unshare -m) copy every mount that exists when they start and
 * keep the device open until they exit; fsck then finds it in use.
 */
export async function waitUntilUnmountedEverywhere(device: string, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = findForeignCopies(majorMinorOf(statSync(device).rdev)).length > 0;
    if (!held) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
