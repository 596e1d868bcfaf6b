import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseDrbdsetupStatus } from '../../../lib/drbd/drbdsetup-status.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/drbd/${name}`, import.meta.url), 'utf8');

t.test('drbd 9 status: several resources, connecting and connected peers', async (t) => {
  const res = parseDrbdsetupStatus(fixture('drbdadm-status-9-four-resources.txt'));
  t.same(res.map((r) => [r.name, r.role]), [['lab-sysprep', 'Secondary'], ['srv00-sql1', 'Secondary'], ['srv01-lab01', 'Secondary'], ['srv02-lab02', 'Primary']]);
  t.same(res[0]!.volumes, [{ volume: 0, disk: 'Consistent' }]);
  t.same(res[0]!.connections, [{ name: 'mk-a02n02', connection: 'Connecting', role: undefined, peerDisks: [] }]);
  t.same(res[3]!.connections, [{ name: 'mk-a02n02', connection: 'Connected', role: 'Secondary', peerDisks: ['UpToDate'] }]);
});

t.test('drbd 9 status: two volumes; StandAlone', async (t) => {
  const [two] = parseDrbdsetupStatus(fixture('drbdsetup-status-9-two-volumes.txt'));
  t.same(two!.volumes, [{ volume: 0, disk: 'UpToDate' }, { volume: 1, disk: 'UpToDate' }]);
  t.same(two!.connections, [{ name: 'tom', connection: 'Connected', role: 'Primary', peerDisks: ['UpToDate', 'UpToDate'] }]);
  const [sb] = parseDrbdsetupStatus(fixture('drbdsetup-status-9-standalone.txt'));
  t.match(sb, { name: 'data', role: 'Secondary', volumes: [{ disk: 'Outdated' }], connections: [{ name: 'master2', connection: 'StandAlone' }] });
  t.same(parseDrbdsetupStatus('# No currently configured DRBD found.\n'), []);
});
