import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOrEmpty } from '../../../lib/system/files.ts';

t.test('readOrEmpty: the text, or "" where there is nothing to read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `files-${process.pid}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'fstab'), '/dev/drbd1 /data ext3 noauto 0 0\n');
  t.equal(readOrEmpty(join(dir, 'fstab')), '/dev/drbd1 /data ext3 noauto 0 0\n');
  t.equal(readOrEmpty(join(dir, 'missing')), '', 'a missing file');
  t.equal(readOrEmpty(dir), '', 'a directory');
  t.equal(readOrEmpty('/proc/sys/kernel/osrelease').trim().length > 0, true, 'a /proc file');
});
