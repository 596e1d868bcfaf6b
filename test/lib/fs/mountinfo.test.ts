import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  canonicalMountPoint, decodeMountPath, isPathUnder, majorMinorOf, mountsBelow, mountsOn, parseMountinfo, readMountinfo, trimTrailingSlashes,
} from '../../../lib/fs/mountinfo.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/mountinfo/${name}`, import.meta.url), 'utf8');

t.test('decodes the octal escapes mountinfo uses for space, tab, newline and backslash', async (t) => {
  const cases: [string, string][] = [
    ['/tmp/my\\040data', '/tmp/my data'],
    ['/a\\011b', '/a\tb'],
    ['/a\\012b', '/a\nb'],
    ['/a\\134b', '/a\\b'],
    ['/plain', '/plain'],
  ];
  for (const [field, expected] of cases) t.equal(decodeMountPath(field), expected, field);
});

t.test('parses a real mountinfo with optional fields (shared:N) before the separator', async (t) => {
  const entries = parseMountinfo(fixture('debian12-root.txt'));
  const root = entries.find((e) => e.mountPoint === '/')!;
  t.match(root, { mountId: 26, parentId: 1, majorMinor: '254:0', root: '/', fstype: 'ext4', source: '/dev/vda' });
  const netns = entries.find((e) => e.mountPoint === '/run/netns')!;
  t.match(netns, { fstype: 'ext4', source: '/dev/vda', root: '/run/netns' });
});

t.test('mount points with spaces, stacked mounts, sub-mounts and bind mounts', async (t) => {
  const entries = parseMountinfo(fixture('debian12-loop-space-submounts-bind.txt'));
  const data = mountsOn(entries, '/tmp/fs-fix/my data');
  t.equal(data.length, 1);
  t.match(data[0], { mountId: 45, majorMinor: '7:0', source: '/dev/loop0', fstype: 'ext4', root: '/' });
  const stacked = mountsOn(entries, '/tmp/fs-fix/my data/sub/deeper');
  t.same(stacked.map((e) => e.fstype), ['ext3', 'tmpfs'], 'in mount order: the last one is on top');
  t.same(mountsBelow(entries, '/tmp/fs-fix/my data').map((e) => e.mountId), [47, 46], 'deepest and newest first');
  t.same(mountsBelow(entries, '/tmp/fs-fix/my'), [], '"/tmp/fs-fix/my data" is not below "/tmp/fs-fix/my"');
  const bind = mountsOn(entries, '/tmp/fs-fix/src')[0]!;
  t.match(bind, { majorMinor: '7:0', root: '/sub', source: '/dev/loop0' }, 'a bind mount shows the source path inside the filesystem as root');
});

t.test('path helpers', async (t) => {
  const under: [string, string, boolean][] = [
    ['/data', '/data', true],
    ['/data/x', '/data', true],
    ['/data2', '/data', false],
    ['/dat', '/data', false],
    ['/anything', '/', true],
  ];
  for (const [path, dir, expected] of under) t.equal(isPathUnder(path, dir), expected, `${path} under ${dir}`);
  const trims: [string, string][] = [['/data/', '/data'], ['/data///', '/data'], ['/', '/'], ['//', '/'], ['/data', '/data']];
  for (const [input, expected] of trims) t.equal(trimTrailingSlashes(input), expected, input);
});

t.test('majorMinorOf decodes dev_t like mountinfo prints it', async (t) => {
  const cases: [number | bigint, string][] = [
    [0x700, '7:0'],
    [0xfe00, '254:0'],
    [(259n << 8n) | 5n, '259:5'],
    // minor 300 spills into the high bits: (minor & 0xff) | ((minor & ~0xff) << 12)
    [(147n << 8n) | (300n & 0xffn) | ((300n & ~0xffn) << 12n), '147:300'],
  ];
  for (const [dev, expected] of cases) t.equal(majorMinorOf(dev), expected, expected);
  // And against this machine: the root filesystem's st_dev matches its mountinfo line.
  const { statSync } = await import('node:fs');
  const root = readMountinfo().filter((e) => e.mountPoint === '/').at(-1)!;
  t.equal(majorMinorOf(statSync('/').dev), root.majorMinor);
});

t.test('canonicalMountPoint resolves symlinks as far as the path exists', async (t) => {
  const { mkdirSync, symlinkSync } = await import('node:fs');
  const dir = t.testdir({});
  const real = (await import('node:fs')).realpathSync(dir);
  mkdirSync(`${dir}/real`);
  symlinkSync(`${dir}/real`, `${dir}/link`);
  const cases: [string, string][] = [
    [`${dir}/link`, `${real}/real`],
    [`${dir}/link/`, `${real}/real`],
    [`${dir}/link/not yet/deeper`, `${real}/real/not yet/deeper`],
    [`${dir}/missing`, `${real}/missing`],
    ['/', '/'],
  ];
  for (const [input, expected] of cases) t.equal(canonicalMountPoint(input), expected, input);
});
