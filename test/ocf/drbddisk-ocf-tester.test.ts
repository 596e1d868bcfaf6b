import t from 'tap';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { agentPath, runOcf } from '../rig/agents.ts';
import { DRBD_VERSIONS, DrbdDouble } from '../rig/drbd-double.ts';

// Debian's ocf-tester against drbddisk with real parameters: the tutorial's
// drbd.conf as drbdconf and its resource "data", on node master1 of the
// drbdadm double (peer master2 up, Secondary), for drbd 8.3, 8.4 and 9.

const TUTORIAL = fileURLToPath(new URL('../fixtures/drbd/tutorial-drbd.conf', import.meta.url));

for (const version of DRBD_VERSIONS) {
  t.test(`ocf-tester: drbddisk, drbd ${version}`, async (t) => {
    const drbd = DrbdDouble.create(version, `drbddisk-ocf-tester-${process.pid}-`).defineResource('data');
    t.teardown(() => drbd.cleanup());
    drbd.setRole('data', 'master1', 'Secondary').setRole('data', 'master2', 'Secondary');
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...drbd.env('master1'), HA_RSCTMP: drbd.stateDir, HA_LOGFILE: `${drbd.stateDir}/ha-log` };
    const r = await execa('/usr/sbin/ocf-tester', ['-n', 'drbd_data', '-o', 'drbd_resource=data', '-o', `drbdconf=${TUTORIAL}`, agentPath('drbddisk')], {
      reject: false, timeout: 300_000, env, extendEnv: false, all: true,
    });
    t.equal(r.exitCode, 0, `ocf-tester exit 0\n${r.all}`);
    t.match(String(r.stdout), /passed all tests/);
    t.equal(drbd.role('data', 'master1'), 'Secondary', 'Secondary again at the end');
    t.ok(drbd.calls().some((c) => c.startsWith('master1\tdrbdadm -c ') && c.endsWith(' primary data')), 'drbdconf reached drbdadm as -c');
  });
}

t.test('a probe returns 5 when drbdadm is missing, 7 when the resource is down or Secondary', async (t) => {
  const drbd = DrbdDouble.create('8.4', `drbddisk-ocf-probe-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  const env = { ...drbd.env('master1'), HA_RSCTMP: drbd.stateDir, OCF_RESKEY_CRM_meta_interval: '0' };
  let r = await runOcf('drbddisk', 'monitor', { drbd_resource: 'data' }, { env: { ...env, DRBDADM: '/nonexistent/drbdadm' } });
  t.equal(r.exitCode, 5, r.stderr);
  r = await runOcf('drbddisk', 'monitor', { drbd_resource: 'data' }, { env });
  t.equal(r.exitCode, 7, `down here: ${r.stderr}`);
  drbd.setRole('data', 'master1', 'Secondary');
  r = await runOcf('drbddisk', 'monitor', { drbd_resource: 'data' }, { env });
  t.equal(r.exitCode, 7);
  r = await runOcf('drbddisk', 'meta-data', {}, { env: {} });
  t.equal(r.exitCode, 0);
  const lint = await execa('xmllint', ['--noout', '--dtdvalid', '/usr/share/resource-agents/ra-api-1.dtd', '-'], { input: r.stdout, reject: false });
  t.equal(lint.exitCode, 0, `meta-data valid: ${lint.stderr}`);
  r = await runOcf('drbddisk', 'promote', { drbd_resource: 'data' }, { env });
  t.equal(r.exitCode, 3, 'no promote: drbddisk is a primitive, start promotes');
});
