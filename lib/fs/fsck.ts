import { GenericError } from '../contract/errors.ts';
import { run } from '../system/exec.ts';
import { log } from '../system/log.ts';

export type FsckMode = 'auto' | 'force' | 'no';

// The stock agent's is_fsck_needed list: journaled, network and virtual
// filesystems recover on their own at mount time; `auto` checks the rest.
const SELF_RECOVERING = new Set(
  'ext4 ext4dev ext3 reiserfs reiser4 nss xfs jfs vfat fat nfs4 nfs efs cifs smbfs ocfs2 gfs2 none lustre glusterfs ceph tmpfs overlay overlayfs rozofs zfs cvfs'.split(' '),
);

export function fsckNeeded(mode: FsckMode, fstype: string): boolean {
  if (mode === 'force') return true;
  if (mode === 'no') return false;
  return !SELF_RECOVERING.has(fstype);
}

/**
 * `fsck -p` (preen: repair what is safe without asking). fsck(8) exit codes
 * are a bit mask: 1 and 2 mean errors were corrected, 4 and above that the
 * filesystem still has errors or fsck itself failed, so mounting it is refused.
 */
export async function runFsck(device: string, fstype: string, timeoutMs: number): Promise<void> {
  const args = fstype ? ['-t', fstype, '-p', device] : ['-p', device];
  log.info(`Starting filesystem check on ${device}`);
  const result = await run('fsck', args, { timeoutMs, allowFailure: true });
  if (result.exitCode >= 4 || result.exitCode < 0) {
    const detail = result.stderr.trim().split('\n').filter(Boolean).pop() ?? result.stdout.trim().split('\n').filter(Boolean).pop();
    throw new GenericError(`fsck ${args.join(' ')} exited ${result.exitCode}: ${device} has errors it could not repair${detail ? ` (${detail})` : ''}; not mounting it`);
  }
  if (result.exitCode !== 0) log.warn(`fsck corrected errors on ${device} (exit ${result.exitCode})`);
}
