import t from 'tap';
import { execa, type ResultPromise } from 'execa';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pollUntil } from '../../lib/system/wait.ts';
import { ROOT } from '../rig/agents.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { destroyNamespace, uniquePrefix } from '../rig/netns.ts';

// Issue 15: "ext3 by -U, run_fsck=force" failed once in a full run with
// `e2fsck: Cannot continue, aborting`: the loop device was still in use,
// because a mount namespace another test had created meanwhile held a
// private copy of the mount. The rig's long-lived namespaces (sandboxes,
// ocft runners) now use slave propagation: the host's unmount reaches their
// copies. This file reproduces the hazard and shows each kind of namespace
// the suite creates lets go, then keeps the test tree from going back.

const scratch = makeScratchDir('ns-copies');
const images: LoopImage[] = [];
const children: ResultPromise[] = [];
const netns = `${uniquePrefix('nscp')}`;
t.teardown(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.allSettled(children);
  await destroyNamespace(netns);
  for (const image of images) await destroyLoopImage(image);
  await removeScratchDir(scratch);
});

/** Starts `argv` (which ends in a long sleep) and waits until its sleep runs in a mount namespace other than ours. */
async function namespaceHolder(argv: string[]): Promise<{ child: ResultPromise }> {
  const child = execa(argv[0]!, argv.slice(1), { reject: false, stdio: 'ignore' });
  children.push(child);
  const ours = readlinkSync('/proc/self/ns/mnt');
  const sleeper = await pollUntil(() => {
    const pids = [child.pid!, ...descendants(child.pid!)];
    return pids.find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0') && readlinkSync(`/proc/${pid}/ns/mnt`) !== ours;
      } catch {
        return false;
      }
    });
  }, { intervalMs: 20, timeoutMs: 10_000 });
  if (sleeper === undefined) throw new Error(`${argv.join(' ')}: no sleep in a new mount namespace`);
  return { child }; // not the promise itself: awaiting that would wait for the sleep
}

function descendants(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.flatMap((k) => [k, ...descendants(k)]);
  } catch {
    return [];
  }
}

/** fsck's own test: it opens the device O_EXCL, which fails while any namespace mounts it. */
const fsck = (device: string) => execa('e2fsck', ['-f', '-p', device], { reject: false, all: true });

t.test('a private copy keeps the device busy after the host unmounts (the hazard, reproduced)', async (t) => {
  const img = await createLoopImage(scratch, 'ext3', 'private');
  images.push(img);
  const dir = join(scratch, 'private-mnt');
  await execa('mkdir', ['-p', dir]);
  await execa('mount', [img.device, dir]);
  const { child: copy } = await namespaceHolder(['unshare', '-m', '--propagation', 'private', 'sleep', '600']);
  await execa('umount', [dir]);
  const busy = await fsck(img.device);
  t.not(busy.exitCode, 0, 'fsck refuses: the private copy still holds the device');
  t.match(busy.all, /in use|Cannot continue/, busy.all);
  copy.kill('SIGKILL');
  await copy;
  t.equal((await fsck(img.device)).exitCode, 0, 'free once that namespace is gone');
});

t.test('the namespaces the rig creates now receive the host\'s unmount: fsck right after works', async (t) => {
  const img = await createLoopImage(scratch, 'ext3', 'slave');
  images.push(img);
  const dir = join(scratch, 'slave-mnt');
  await execa('mkdir', ['-p', dir]);
  await execa('mount', [img.device, dir]);
  await execa('ip', ['netns', 'add', netns]);
  await namespaceHolder(['unshare', '-m', '--propagation', 'slave', 'sleep', '600']); // ocft runners, sandbox.ts
  await namespaceHolder(['unshare', '-m', '--propagation', 'slave', 'sh', '-c', 'mount --make-rslave / && exec sleep 600']); // sandbox-root.sh, ocft-mysqld-sandbox.sh
  await namespaceHolder(['ip', 'netns', 'exec', netns, 'sleep', '600']); // every netns test (iproute2 makes / rslave)
  await execa('umount', [dir]);
  const result = await fsck(img.device);
  t.equal(result.exitCode, 0, `fsck finds the device free with three namespaces alive: ${result.all}`);
});

t.test('no test makes a long-lived private mount namespace except where the copy is the point', async (t) => {
  // These create a private copy on purpose, to test the hazard, for a few seconds; everything else uses slave propagation.
  const deliberate = new Set([
    'test/agents/filesystem-holders.test.ts',
    'test/agents/drbddisk-held-open.test.ts',
    'test/agents/mysqld-refusals.test.ts',
    'test/faults/mount-namespace-copies.test.ts',
  ]);
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|sh|mjs)$/.test(entry.name)) {
        const lines = readFileSync(path, 'utf8').split('\n').filter((line) => !/^\s*(#|\/\/|\*)/.test(line));
        // unshare's default propagation for a new mount namespace is private, so a mount flag without "slave" is one too.
        const privateNs = (line: string) => /--propagation['",\s]+private|make-rprivate/.test(line) || (/\bunshare\b/.test(line) && /(['"\s])(-m|--mount|--mount-proc)(['"\s=]|$)/.test(line) && !/slave/.test(line));
        if (lines.some(privateNs) && !deliberate.has(relative(ROOT, path))) offenders.push(relative(ROOT, path));
      }
    }
  };
  walk(join(ROOT, 'test'));
  walk(join(ROOT, 'demo'));
  walk(join(ROOT, 'bench'));
  t.same(offenders, [], 'private mount namespaces outside the deliberate cases');
});
