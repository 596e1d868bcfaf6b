import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseFdinfoMountId, parseMaps, parseStatParentPid, selfAndAncestors, stripDeleted } from '../../../lib/fs/proc-holders.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/proc/${name}`, import.meta.url), 'utf8');

t.test('parseMaps: file-backed mappings, paths with spaces, one entry per file', async (t) => {
  const files = parseMaps(fixture('maps-python3-mmap-space.txt'));
  const mapped = files.filter((f) => f.path.startsWith('/tmp/fs-fix/'));
  t.same(mapped, [{ majorMinor: '7:0', inode: 14, path: '/tmp/fs-fix/my data/mapped file' }]);
  t.notOk(files.some((f) => f.path.startsWith('[')), 'no [heap]/[stack]/anonymous entries');
  t.ok(files.every((f) => f.inode > 0));
});

t.test('parseMaps: an executable run from the mount appears once, by device and inode', async (t) => {
  const files = parseMaps(fixture('maps-sleep-exec-from-mount.txt')).filter((f) => f.path.includes('my sleep'));
  t.same(files, [{ majorMinor: '7:0', inode: 15, path: '/tmp/fs-fix/my data/my sleep' }]);
});

t.test('parseMaps: a deleted mapping keeps its path without " (deleted)", device in decimal', async (t) => {
  const files = parseMaps(fixture('maps-python3-deleted-mapping.txt')).filter((f) => f.path.includes('del map'));
  t.same(files, [{ majorMinor: '254:0', inode: 2147233, path: '/tmp/fs-fix2/my data/del map' }]);
});

t.test('parseFdinfoMountId reads mnt_id per fd', async (t) => {
  const blocks = fixture('fdinfo-python3.txt').split(/^== /m).filter(Boolean);
  const byTarget = new Map(blocks.map((b) => [b.split('\n')[0]!.replace(/^\d+ /, ''), parseFdinfoMountId(b)]));
  t.equal(byTarget.get('/tmp/fs-fix/my data/mapped file'), 45, 'the file on "/tmp/fs-fix/my data" (mount 45)');
  t.equal(byTarget.get('/tmp/fs-fix/my data/gone (deleted)'), 45, 'an unlinked file still names its mount');
  t.equal(byTarget.get('/dev/null'), 23);
  t.equal(parseFdinfoMountId('pos:\t0\nflags:\t02\n'), undefined, 'kernels before 3.15 have no mnt_id');
});

t.test('stripDeleted', async (t) => {
  const cases: [string, string][] = [['/d/x (deleted)', '/d/x'], ['/d/x', '/d/x'], ['/d/(deleted) y', '/d/(deleted) y']];
  for (const [input, expected] of cases) t.equal(stripDeleted(input), expected, input);
});

t.test('parseStatParentPid copes with ") " in the command name', async (t) => {
  t.equal(parseStatParentPid(fixture('stat-comm-with-paren.txt')), 17477);
  t.equal(parseStatParentPid(readFileSync('/proc/self/stat', 'utf8')), process.ppid);
});

t.test('selfAndAncestors holds this process, its parent and init, and not a child', async (t) => {
  const child = spawn('sleep', ['30']);
  t.teardown(() => child.kill('SIGKILL'));
  const pids = selfAndAncestors();
  t.ok(pids.has(process.pid));
  t.ok(pids.has(process.ppid));
  t.ok(pids.has(1));
  t.notOk(pids.has(child.pid!));
});
