import t from 'tap';
import { readFileSync } from 'node:fs';
import { nsenterMountArgs, planForeignUnmounts, type ProcessMountView } from '../../../lib/fs/mount-namespaces.ts';

// Which mount namespaces hold a copy of a filesystem, and what to unmount
// there in which order, from captured /proc/PID/mountinfo (fixtures README).

const copy = readFileSync(new URL('../../fixtures/mountinfo/debian12-unshare-copy-loop-submount.txt', import.meta.url), 'utf8');
const host = readFileSync(new URL('../../fixtures/mountinfo/debian12-root.txt', import.meta.url), 'utf8');
const OURS = 'mnt:[4026531841]';

const view = (pid: number, namespace: string, mountinfo: string, root = '/'): ProcessMountView => ({ pid, namespace, root, mountinfo });

t.test('a private copy of the loop mount: the submount first, then the copy; our own namespace is left out', async (t) => {
  const plans = planForeignUnmounts([view(1, OURS, copy), view(500, 'mnt:[4026532649]', copy), view(501, 'mnt:[4026532649]', copy)], OURS, '7:3');
  t.equal(plans.length, 1, 'one foreign namespace, once');
  t.equal(plans[0]!.pid, 500);
  t.same(plans[0]!.unmount.map((e) => e.mountPoint), ['/tmp/defects-fx/mnt/sub', '/tmp/defects-fx/mnt']);
  t.same(plans[0]!.copies.map((e) => e.mountId), [367]);
});

t.test('namespaces without the filesystem are not planned; a non-chrooted member is preferred', async (t) => {
  t.same(planForeignUnmounts([view(600, 'mnt:[1]', host)], OURS, '7:3'), [], 'no copy there');
  const plans = planForeignUnmounts([view(700, 'mnt:[2]', copy, '/srv/jail'), view(701, 'mnt:[2]', copy)], OURS, '7:3');
  t.equal(plans[0]!.pid, 701, 'the process whose root is the namespace root');
  t.same(planForeignUnmounts([view(1, OURS, copy)], OURS, '7:3'), [], 'our own namespace is never foreign');
});

t.test('two copies, one below the other, and a mount stacked on a copy', async (t) => {
  const text = [
    '30 1 8:1 / / rw - ext4 /dev/sda1 rw',
    '40 30 7:5 / /data rw - ext4 /dev/loop5 rw',
    '41 40 7:5 /sub /data/again rw - ext4 /dev/loop5 rw',
    '42 40 0:50 / /data rw - tmpfs over rw',
  ].join('\n');
  const [plan] = planForeignUnmounts([view(800, 'mnt:[3]', text)], OURS, '7:5');
  t.same(plan!.unmount.map((e) => e.mountId), [41, 42, 40], 'deepest copy, then what is stacked on /data, then /data');
});

t.test('nsenter enters the mount namespace only', async (t) => {
  t.same(nsenterMountArgs(42, ['umount', '/data']), ['--mount=/proc/42/ns/mnt', '--', 'umount', '/data']);
});
