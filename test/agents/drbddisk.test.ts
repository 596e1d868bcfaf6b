import t from 'tap';
import { fileURLToPath } from 'node:url';
import { resourceManagerReadsAsHeld } from '../../lib/contract/status-text.ts';
import { runAgent, runOcf } from '../rig/agents.ts';
import { DRBD_VERSIONS, DrbdDouble, type DrbdVersion } from '../rig/drbd-double.ts';

// drbddisk against the drbdadm double, every case for drbd 8.3, 8.4 and 9.
// Node "master1" runs the agent; "master2" is the peer.

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/drbd/${name}`, import.meta.url));
const RES = 'data';

function setup(t: { teardown: (fn: () => void) => void }, version: DrbdVersion, roles: { master1?: 'Primary' | 'Secondary'; master2?: 'Primary' | 'Secondary' } = { master1: 'Secondary', master2: 'Secondary' }) {
  const drbd = DrbdDouble.create(version, `drbddisk-${process.pid}-`).defineResource(RES);
  drbd.setRole(RES, 'master1', roles.master1).setRole(RES, 'master2', roles.master2);
  t.teardown(() => drbd.cleanup());
  const env: Record<string, string> = { ...drbd.env('master1'), HA_RSCTMP: drbd.stateDir };
  const v1 = (action: string, extra: Record<string, string> = {}, res: string | null = RES) => runAgent('drbddisk', res === null ? [action] : [res, action], { env: { ...env, ...extra } });
  const ocf = (action: string, params: Record<string, string> = {}, extra: Record<string, string> = {}) => runOcf('drbddisk', action, { drbd_resource: RES, ...params }, { env: { ...env, ...extra } });
  const primaryCalls = () => drbd.calls().filter((c) => c.startsWith('master1\tdrbdadm primary'));
  return { drbd, env, v1, ocf, primaryCalls };
}

const oneLine = (text: string) => text.trim().split('\n').filter((l) => !/ INFO: | WARNING: /.test(l));

for (const version of DRBD_VERSIONS) {
  t.test(`drbd ${version}: normal promote and demote, v1 and OCF`, async (t) => {
    const { drbd, v1, ocf } = setup(t, version);
    let r = await v1('status');
    t.equal(r.stdout, 'stopped (Secondary)');
    t.equal(r.exitCode, 3);
    r = await v1('start');
    t.equal(r.exitCode, 0, r.stderr);
    t.equal(drbd.role(RES, 'master1'), 'Primary');
    r = await v1('status');
    t.equal(r.stdout, 'running (Primary)');
    t.equal(r.exitCode, 0);
    t.ok(resourceManagerReadsAsHeld(r.stdout));
    r = await ocf('monitor');
    t.equal(r.exitCode, 0, 'OCF monitor: running');
    r = await v1('stop');
    t.equal(r.exitCode, 0, r.stderr);
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
    r = await ocf('monitor');
    t.equal(r.exitCode, 7, 'OCF monitor: not running');
    r = await ocf('start');
    t.equal(r.exitCode, 0, r.stderr);
    t.equal(drbd.role(RES, 'master1'), 'Primary');
    r = await ocf('stop');
    t.equal(r.exitCode, 0, r.stderr);
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
  });

  t.test(`drbd ${version}: start asks drbdadm once (status), then promotes`, async (t) => {
    const { drbd, v1 } = setup(t, version);
    const r = await v1('start');
    t.equal(r.exitCode, 0, r.stderr);
    t.same(drbd.calls().filter((c) => c.startsWith('master1\t')), ['master1\tdrbdadm status data', 'master1\tdrbdadm primary data']);
  });

  t.test(`drbd ${version}: a peer still Primary that goes away after 1 s: start waits, then promotes`, async (t) => {
    const { drbd, v1, primaryCalls } = setup(t, version, { master1: 'Secondary', master2: 'Primary' });
    drbd.nodeGoesAway(RES, 'master2', 1000);
    const began = Date.now();
    const r = await v1('start');
    const took = Date.now() - began;
    t.equal(r.exitCode, 0, r.stderr);
    t.equal(drbd.role(RES, 'master1'), 'Primary');
    t.ok(primaryCalls().length >= 2, `DRBD refused while the peer was Primary, then promoted (${primaryCalls().length} attempts)`);
    t.ok(took < 6000, `within the stock script's 6 s bound (took ${took} ms)`);
    t.match(r.stderr, /peer is still Primary; waiting/, 'the wait is logged');
  });

  t.test(`drbd ${version}: a peer that stays Primary: start fails at the bound with one line, nothing promoted`, async (t) => {
    const { drbd, v1, ocf } = setup(t, version, { master1: 'Secondary', master2: 'Primary' });
    // The caller's timeout bounds the wait (dispatch keeps a margin below it).
    let began = Date.now();
    let r = await v1('start', { OCF_RESKEY_CRM_meta_timeout: '4000' });
    let took = Date.now() - began;
    t.equal(r.exitCode, 1);
    const errors = oneLine(r.stderr);
    t.equal(errors.length, 1, r.stderr);
    t.match(errors[0], /^drbddisk: the peer is still Primary for data after waiting \d+\.\d s; not promoting \(DRBD: .*Multiple primaries not allowed by config\)$/);
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
    const waited = Number(/after waiting (\d+\.\d) s/.exec(r.stderr)?.[1]);
    t.ok(waited < 4, `the wait ended inside the caller's 4 s timeout (waited ${waited} s)`);
    t.ok(took < 6000, `and the whole call did not run on to the stock script's 6 s (took ${took} ms on a loaded machine)`);
    // And the peer_wait parameter bounds it in OCF form.
    began = Date.now();
    r = await ocf('start', { peer_wait: '1' });
    took = Date.now() - began;
    t.equal(r.exitCode, 1);
    t.match(r.stderr, /^ocf-exit-reason:the peer is still Primary for data/m);
    t.match(r.stderr, /after waiting [01]\.\d s/, 'peer_wait=1 ends the wait after about a second');
    t.ok(took < 4000, `well before the default bound (took ${took} ms)`);
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
  });

  for (const disk of ['Inconsistent', 'Outdated', 'Diskless'] as const) {
    t.test(`drbd ${version}: local disk ${disk}: start refuses at once, even though DRBD would promote with an UpToDate peer`, async (t) => {
      const { drbd, v1, primaryCalls } = setup(t, version);
      drbd.setDisk(RES, 'master1', disk);
      const r = await v1('start');
      t.equal(r.exitCode, 1);
      t.same(oneLine(r.stderr).length, 1, r.stderr);
      t.match(r.stderr, disk === 'Diskless' ? /has no local disk \(Diskless\): refusing to promote/ : new RegExp(`local disk that is ${disk}, not UpToDate: refusing to promote`));
      t.same(primaryCalls(), [], 'drbdadm primary was never run');
      t.equal(drbd.role(RES, 'master1'), 'Secondary');
    });
  }

  t.test(`drbd ${version}: StandAlone after split brain: start refuses at once`, async (t) => {
    const { drbd, v1, primaryCalls } = setup(t, version);
    drbd.splitBrain(RES);
    const r = await v1('start');
    t.equal(r.exitCode, 1);
    t.match(r.stderr, /^drbddisk: DRBD resource data is StandAlone \(split brain, or disconnected by hand\): refusing to promote/m);
    t.same(primaryCalls(), []);
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
    const status = await v1('status');
    t.equal(status.stdout, 'stopped (Secondary)', 'status still reads the role');
  });

  t.test(`drbd ${version}: role unknown: status says held, where the stock script's words read as released`, async (t) => {
    const { drbd, v1 } = setup(t, version, { master1: 'Primary', master2: 'Secondary' });
    // drbdadm fails for everything, and the fallbacks cannot tell either: 8.x cannot map the resource to a minor, 9's drbdsetup fails.
    // e.g. drbd-utils upgraded under an 8.3-style drbd.conf (text captured from drbd-utils 9.22 on the tutorial's config).
    drbd.injectFailure(RES, 'all', 10, "/etc/drbd.conf:22: Parse error: 'an option keyword' expected,\n\tbut got 'unplug-watermark'");
    drbd.injectFailure(RES, 'setup-status', 20, 'Could not connect to \'drbd\' generic netlink family');
    const proc = version === '9' ? fixture('proc-drbd-9.0.6.txt') : fixture('proc-drbd-8.3.13-tutorial-master1.txt');
    const r = await v1('status', { DRBD_PROC_FILE: proc });
    t.match(r.stdout, /^running \(role unknown: .*Parse error.*\)$/);
    t.equal(r.exitCode, 0);
    t.ok(resourceManagerReadsAsHeld(r.stdout), 'ResourceManager reads it as held');
    t.notOk(resourceManagerReadsAsHeld('cannot determine status, may be running (Unknown)'), "the stock script's words for the same case read as NOT held");
  });

  t.test(`drbd ${version}: drbdadm role fails: the role comes from ${version === '9' ? 'drbdsetup status' : '/proc/drbd'}`, async (t) => {
    const { drbd, v1 } = setup(t, version, { master1: 'Primary', master2: 'Secondary' });
    drbd.injectFailure(RES, 'role', 20, 'Could not connect to \'drbd\' generic netlink family');
    const proc = (name: string) => ({ DRBD_PROC_FILE: fixture(name) });
    if (version === '9') {
      let r = await v1('status', proc('proc-drbd-9.0.6.txt'));
      t.equal(r.stdout, 'running (Primary)');
      drbd.setRole(RES, 'master1', 'Secondary');
      r = await v1('status', proc('proc-drbd-9.0.6.txt'));
      t.equal(r.stdout, 'stopped (Secondary)');
    } else {
      // The double has no /proc/drbd; the tutorial's captured ones stand in (minor 1 = /dev/drbd1).
      let r = await v1('status', proc('proc-drbd-8.3.13-tutorial-master1.txt'));
      t.equal(r.stdout, 'running (Primary)');
      r = await v1('status', proc('proc-drbd-8.3.13-tutorial-master2.txt'));
      t.equal(r.stdout, 'stopped (Secondary)');
      r = await v1('status', proc('proc-drbd-8.4-unconfigured-minor.txt'));
      t.equal(r.stdout, 'stopped (Unconfigured)');
    }
    const r = await v1('status', { DRBD_PROC_FILE: '/nonexistent/proc-drbd' });
    t.equal(r.stdout, version === '9' ? `${drbd.role(RES, 'master1') === 'Primary' ? 'running (Primary)' : 'stopped (Secondary)'}` : 'stopped (Unconfigured)',
      version === '9' ? 'drbd 9: drbdsetup status answers' : 'no /proc/drbd: the module is not loaded, nothing can be Primary (as the stock script)');
  });

  t.test(`drbd ${version}: idempotency matrix`, async (t) => {
    const { drbd, v1, primaryCalls } = setup(t, version, { master1: 'Primary', master2: 'Secondary' });
    let r = await v1('start');
    t.equal(r.exitCode, 0, 'start when Primary succeeds');
    t.same(primaryCalls(), [], 'without asking DRBD to promote again');
    r = await v1('start');
    t.equal(r.exitCode, 0);
    r = await v1('stop');
    t.equal(r.exitCode, 0);
    r = await v1('stop');
    t.equal(r.exitCode, 0, 'stop when Secondary succeeds');
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
    drbd.setRole(RES, 'master1', undefined);
    r = await v1('status');
    t.equal(r.stdout, 'stopped (Unconfigured)', 'status of a resource that is down here');
    t.equal(r.exitCode, 3);
    r = await v1('stop');
    t.equal(r.exitCode, 0, 'stop of a resource that is down here: nothing is held, so success (no reboot)');
    r = await v1('stop', {}, 'nosuch');
    t.equal(r.exitCode, 0, 'stop of a name the configuration does not know: nothing was promoted under it (a haresources typo must not reboot the node)');
    t.match(r.stderr, /WARNING: DRBD resource "nosuch" is not defined .*; nothing to release under that name/);
    r = await v1('start');
    t.equal(r.exitCode, 1, 'start of a resource that is down here fails');
    t.match(r.stderr, /^drbddisk: DRBD resource data is not up on this node .*drbdadm up data$/m);
    drbd.setRole(RES, 'master1', 'Secondary');
    r = await v1('start', {}, null);
    t.equal(r.exitCode, 0, `v1 without a resource: all (${r.stderr})`);
    t.equal(drbd.role(RES, 'master1'), 'Primary');
    r = await v1('stop', {}, null);
    t.equal(r.exitCode, 0, r.stderr);
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
  });

  t.test(`drbd ${version}: stop while the device is held open fails after the bound, saying so`, async (t) => {
    const { drbd, ocf } = setup(t, version, { master1: 'Primary', master2: 'Secondary' });
    drbd.setHeldOpen(RES, 'master1');
    const r = await ocf('stop', { demote_wait: '1' });
    t.equal(r.exitCode, 1);
    t.match(r.stderr, /^ocf-exit-reason:cannot demote data: \/dev\/drbd1 is still in use, open by a process \(not mounted here\); stop what uses it first$/m);
    t.equal(drbd.role(RES, 'master1'), 'Primary');
    drbd.setHeldOpen(RES, 'master1', false);
    t.equal((await ocf('stop')).exitCode, 0);
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
  });

  t.test(`drbd ${version}: bad input: one line, the right exit code, nothing changed`, async (t) => {
    const { drbd, v1, ocf, primaryCalls } = setup(t, version);
    const cases: [string, Promise<{ exitCode: number; stderr: string }>, number, RegExp][] = [
      ['unknown resource', v1('start', {}, 'nosuch'), 6, /^drbddisk: DRBD resource "nosuch" is not defined in the DRBD configuration for this host \(drbdadm: 'nosuch' not defined in your config/],
      ['shell metacharacters', v1('start', {}, 'data;reboot'), 6, /^drbddisk: drbd_resource "data;reboot" contains the shell metacharacter ";"$/],
      ['$( )', ocf('start', { drbd_resource: '$(reboot)' }), 6, /^ocf-exit-reason:drbd_resource "\$\(reboot\)" contains the shell metacharacter/],
      ['an option for a name', v1('start', {}, '--force'), 6, /^drbddisk: drbd_resource "--force" is not a DRBD resource name/],
      ['status of all', v1('status', {}, null), 6, /^drbddisk: status needs a resource name, not "all"/],
      ['drbdadm missing', v1('start', { DRBDADM: '/nonexistent/drbdadm' }), 5, /^drbddisk: drbdadm not found: \/nonexistent\/drbdadm \(DRBDADM in the environment\) is not an executable$/],
      ['relative drbdconf', ocf('start', { drbdconf: '.' }), 6, /^ocf-exit-reason:drbdconf "\." must be an absolute path$/],
      ['missing drbdconf', ocf('start', { drbdconf: '/nonexistent/drbd.conf' }), 5, /^ocf-exit-reason:drbdconf \/nonexistent\/drbd.conf does not exist on this node$/],
    ];
    for (const [name, run, code, message] of cases) {
      const r = await run;
      t.equal(r.exitCode, code, `${name}: exit code`);
      t.equal(oneLine(r.stderr).length, 1, `${name}: one line (${r.stderr})`);
      t.match(r.stderr, message, name);
    }
    t.same(primaryCalls(), []);
    t.equal(drbd.role(RES, 'master1'), 'Secondary');
  });
}

t.test('DRBDADM from /etc/default/drbd (its path overridable for tests), as the stock script reads it', async (t) => {
  const { drbd, env } = setup(t, '8.4');
  const { writeFileSync } = await import('node:fs');
  const defaults = `${drbd.stateDir}/default-drbd`;
  writeFileSync(defaults, `# /etc/default/drbd\nDRBDADM="${env.DRBDADM} -c /etc/drbd.conf"\nADJUST_AFTER_UP=yes\n`);
  const { DRBDADM: _unused, ...withoutEnv } = env;
  let r = await runAgent('drbddisk', [RES, 'start'], { env: { ...withoutEnv, DRBD_DEFAULTS_FILE: defaults } });
  t.equal(r.exitCode, 0, r.stderr);
  t.equal(drbd.role(RES, 'master1'), 'Primary');
  t.ok(drbd.calls().some((c) => c === 'master1\tdrbdadm -c /etc/drbd.conf primary data'), 'the arguments in DRBDADM are passed on, as the stock script\'s unquoted $DRBDADM does');
  writeFileSync(defaults, 'DRBDADM=$(id)\n');
  r = await runAgent('drbddisk', [RES, 'status'], { env: { ...withoutEnv, DRBD_DEFAULTS_FILE: defaults } });
  t.equal(r.exitCode, 6);
  t.match(r.stderr, /^drbddisk: .*default-drbd line 1: DRBDADM uses shell syntax/);
});
