import t from 'tap';
import { parseDeviceSpec, resolveDevicePath } from '../../../lib/fs/block-device.ts';

t.test('parseDeviceSpec: every form mount(8) and the stock agent accept', async (t) => {
  const cases: [string, unknown][] = [
    ['/dev/drbd1', { kind: 'path', path: '/dev/drbd1' }],
    ['/dev/disk/by-uuid/0a1b', { kind: 'path', path: '/dev/disk/by-uuid/0a1b' }],
    ['UUID=fb7c0578-346e-4c90-845f-09724a8d2689', { kind: 'uuid', value: 'fb7c0578-346e-4c90-845f-09724a8d2689' }],
    ['LABEL=data1', { kind: 'label', value: 'data1' }],
    ['-Ldata1', { kind: 'label', value: 'data1' }],
    ['-L data1', { kind: 'label', value: 'data1' }],
    ['-U fb7c0578', { kind: 'uuid', value: 'fb7c0578' }],
    ['--uuid=fb7c0578', { kind: 'uuid', value: 'fb7c0578' }],
    ['--label data1', { kind: 'label', value: 'data1' }],
    ['server:/data1', { kind: 'share', text: 'server:/data1' }],
    ['//server/share', { kind: 'share', text: '//server/share' }],
    ['tmpfs', { kind: 'share', text: 'tmpfs' }],
  ];
  for (const [input, expected] of cases) t.same(parseDeviceSpec(input), expected, input);
});

t.test('parseDeviceSpec: refusals are words', async (t) => {
  const cases: [string, RegExp][] = [
    ['-o', /option/],
    ['--bind', /option/],
    ['UUID=', /no UUID/],
    ['-L', /no label/],
  ];
  for (const [input, expected] of cases) t.match(parseDeviceSpec(input), expected, input);
});

t.test('resolveDevicePath: block devices only, symlinks followed', async (t) => {
  t.match(resolveDevicePath('/dev/loop-control'), { found: false, why: /not a block device/ });
  t.match(resolveDevicePath('/dev/no_such_device'), { found: false, why: /does not exist/ });
  t.match(resolveDevicePath('/etc/hostname'), { found: false, why: /not a block device/ });
  const dir = t.testdir({});
  const { symlinkSync } = await import('node:fs');
  symlinkSync('/dev/loop0', `${dir}/link`);
  t.match(resolveDevicePath(`${dir}/link`), { found: true, path: '/dev/loop0', majorMinor: '7:0' });
});
