import t from 'tap';
import { execa } from 'execa';
import { runAgent } from '../rig/agents.ts';
import { DRBDADM_DOUBLE, DRBDSETUP_DOUBLE, DrbdDouble, type DrbdVersion } from '../rig/drbd-double.ts';

// The drbdadm double itself: exact output per drbd version (texts from
// drbd-utils, see test/fixtures/drbd/README.md), and a two-node failover
// story as the e2e drives it (crash, takeover, the node coming back).

async function adm(drbd: DrbdDouble, node: string, ...args: string[]) {
  const r = await execa(DRBDADM_DOUBLE, args, { env: drbd.env(node), reject: false });
  return { code: r.exitCode, out: r.stdout, err: r.stderr };
}

const expected: Record<DrbdVersion, { role: string; peerGone: string; down: { code: number; err: string }; twoPrimaries: string; heldOpen: string; unknown: string }> = {
  '8.3': {
    role: 'Secondary/Primary',
    peerGone: 'Secondary/Unknown',
    down: { code: 0, err: '' },
    twoPrimaries: "1: State change failed: (-1) Multiple primaries not allowed by config\nCommand '/lib/drbd/drbdsetup-83 1 primary' terminated with exit code 11\ndrbdadm-83 primary data: exited with code 11",
    heldOpen: "1: State change failed: (-12) Device is held open by someone\nCommand '/lib/drbd/drbdsetup-83 1 secondary' terminated with exit code 11\ndrbdadm-83 secondary data: exited with code 11",
    unknown: "'nosuch' not defined in your config.",
  },
  '8.4': {
    role: 'Secondary/Primary',
    peerGone: 'Secondary/Unknown',
    down: { code: 10, err: "1: Failure: (127) Device minor not allocated\nadditional info from kernel:\nunknown minor\nCommand '/lib/drbd/drbdsetup-84 role 1' terminated with exit code 10" },
    twoPrimaries: "1: State change failed: (-1) Multiple primaries not allowed by config\nCommand '/lib/drbd/drbdsetup-84 primary 1' terminated with exit code 11",
    heldOpen: "1: State change failed: (-12) Device is held open by someone\nCommand '/lib/drbd/drbdsetup-84 secondary 1' terminated with exit code 11",
    unknown: "'nosuch' not defined in your config (for this host).",
  },
  '9': {
    role: 'Secondary',
    peerGone: 'Secondary',
    down: { code: 10, err: "data: Unknown resource\nCommand '/sbin/drbdsetup role data' terminated with exit code 10" },
    twoPrimaries: "data: State change failed: (-1) Multiple primaries not allowed by config\nCommand '/sbin/drbdsetup primary data' terminated with exit code 11",
    heldOpen: "data: State change failed: (-12) Device is held open by someone\nCommand '/sbin/drbdsetup secondary data' terminated with exit code 11",
    unknown: "'nosuch' not defined in your config (for this host).",
  },
};

for (const version of ['8.3', '8.4', '9'] as const) {
  t.test(`drbd ${version}: what the double prints`, async (t) => {
    const drbd = DrbdDouble.create(version, `drbd-double-${process.pid}-`).defineResource('data');
    t.teardown(() => drbd.cleanup());
    const e = expected[version];
    drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Primary');
    t.same(await adm(drbd, 'master1', 'role', 'data'), { code: 0, out: e.role, err: '' });
    t.same(await adm(drbd, 'master1', 'cstate', 'data'), { code: 0, out: 'Connected', err: '' });
    t.same(await adm(drbd, 'master1', 'dstate', 'data'), { code: 0, out: 'UpToDate/UpToDate', err: '' });
    t.same(await adm(drbd, 'master1', 'sh-dev', 'data'), { code: 0, out: '/dev/drbd1', err: '' });
    t.same(await adm(drbd, 'master1', 'primary', 'data'), { code: 11, out: '', err: e.twoPrimaries });
    t.same(await adm(drbd, 'master1', 'role', 'nosuch'), { code: 1, out: '', err: e.unknown });
    drbd.setHeldOpen('data', 'master2');
    t.same(await adm(drbd, 'master2', 'secondary', 'data'), { code: 11, out: '', err: e.heldOpen });
    drbd.setHeldOpen('data', 'master2', false);
    // The peer crashes; DRBD on master1 notices: WFConnection (8.x) / Connecting (9), peer Unknown.
    drbd.nodeGoesAway('data', 'master2', 0);
    t.same(await adm(drbd, 'master1', 'role', 'data'), { code: 0, out: e.peerGone, err: '' });
    t.same(await adm(drbd, 'master1', 'cstate', 'data'), { code: 0, out: version === '9' ? 'Connecting' : 'WFConnection', err: '' });
    t.same(await adm(drbd, 'master1', 'dstate', 'data'), { code: 0, out: 'UpToDate/DUnknown', err: '' });
    t.same(await adm(drbd, 'master1', 'primary', 'data'), { code: 0, out: '', err: '' }, 'promotes once the peer is gone');
    const down = await adm(drbd, 'master2', 'role', 'data');
    t.same(down, { code: e.down.code, out: version === '8.3' ? 'Unconfigured' : '', err: e.down.err }, 'on the crashed node the resource is down');
    t.same(await adm(drbd, 'master2', 'up', 'data'), { code: 0, out: '', err: '' }, 'the node comes back: drbdadm up');
    t.equal(drbd.role('data', 'master2'), 'Secondary');
    t.equal((await adm(drbd, 'master1', 'role', 'data')).out, version === '9' ? 'Primary' : 'Primary/Secondary');
    if (version !== '8.3') {
      const status = await adm(drbd, 'master1', 'status', 'data');
      t.equal(status.out, `data role:Primary\n  disk:UpToDate\n  ${version === '9' ? 'master2' : 'peer'} role:Secondary\n    peer-disk:UpToDate\n`);
    }
    if (version === '9') {
      const r = await execa(DRBDSETUP_DOUBLE, ['status', 'data'], { env: drbd.env('master2'), reject: false });
      t.equal(r.stdout, 'data role:Secondary\n  disk:UpToDate\n  master1 role:Primary\n    peer-disk:UpToDate\n');
    }
  });
}

t.test('two nodes, one state: a crash takeover and the way back, driven through drbddisk', async (t) => {
  const drbd = DrbdDouble.create('8.4', `drbd-double-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Secondary');
  const on = (node: string, action: string) => runAgent('drbddisk', ['data', action], { env: { ...drbd.env(node), HA_RSCTMP: `${drbd.stateDir}/${node}` } });
  t.equal((await on('master1', 'start')).exitCode, 0);
  const refused = await on('master2', 'status');
  t.equal(refused.stdout, 'stopped (Secondary)');
  drbd.nodeGoesAway('data', 'master1', 300);
  const takeover = await on('master2', 'start');
  t.equal(takeover.exitCode, 0, takeover.stderr);
  t.equal(drbd.role('data', 'master2'), 'Primary');
  t.equal((await on('master1', 'status')).stdout, 'stopped (Unconfigured)', 'the crashed node has nothing up');
  drbd.nodeComesBack('data', 'master1');
  t.equal((await on('master1', 'status')).stdout, 'stopped (Secondary)');
  t.equal((await on('master2', 'stop')).exitCode, 0);
  t.equal((await on('master1', 'start')).exitCode, 0, 'failback');
  t.equal(drbd.role('data', 'master1'), 'Primary');
  t.equal(drbd.role('data', 'master2'), 'Secondary');
});
