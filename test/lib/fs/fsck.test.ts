import t from 'tap';
import { fsckNeeded } from '../../../lib/fs/fsck.ts';

t.test('run_fsck as the stock agent decides it', async (t) => {
  const cases: [Parameters<typeof fsckNeeded>[0], string, boolean][] = [
    ['auto', 'ext3', false],
    ['auto', 'ext4', false],
    ['auto', 'xfs', false],
    ['auto', 'none', false],
    ['auto', 'ext2', true],
    ['auto', 'vfat', false],
    ['auto', '', true],
    ['force', 'ext4', true],
    ['force', 'xfs', true],
    ['no', 'ext2', false],
  ];
  for (const [mode, fstype, expected] of cases) t.equal(fsckNeeded(mode, fstype), expected, `${mode} ${fstype || '(unset)'}`);
});
