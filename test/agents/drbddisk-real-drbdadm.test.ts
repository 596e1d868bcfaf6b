import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resourceManagerReadsAsHeld } from '../../lib/contract/status-text.ts';
import { agentPath } from '../rig/agents.ts';
import { DRBDADM_DOUBLE, DrbdDouble } from '../rig/drbd-double.ts';

// The real drbdadm from drbd-utils on the tutorial's drbd.conf. drbd-utils 9
// ships the 8.3 and 8.4 front ends as /lib/drbd/drbdadm-83 and -84 (what
// /sbin/drbdadm runs for an 8.x kernel module); no module can load here, so
// everything that needs the kernel fails, which the tests use too.
// drbdadm only reads the `on <host>` section of the local host name, so each
// call runs in a UTS namespace of its own named master1 or master2.

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/drbd/${name}`, import.meta.url));
const TUTORIAL = fixture('tutorial-drbd.conf');
const TUTORIAL_9 = fixture('tutorial-drbd-9.conf');
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ADM = { '8.3': '/lib/drbd/drbdadm-83', '8.4': '/lib/drbd/drbdadm-84', '9': '/sbin/drbdadm' } as const;

const scratch = mkdtempSync(join(tmpdir(), `drbddisk-real-${process.pid}-`));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs a command as host `hostname` (own UTS namespace). */
async function asHost(hostname: string, argv: string[], env: Record<string, string> = {}) {
  const r = await execa('unshare', ['-u', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname, ...argv], {
    env: { PATH, ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

t.test('the tutorial drbd.conf: sh-dev data is /dev/drbd1 on both nodes, dump parses it', async (t) => {
  for (const [version, conf] of [['8.3', TUTORIAL], ['8.4', TUTORIAL], ['9', TUTORIAL_9]] as const) {
    for (const host of ['master1', 'master2']) {
      const r = await asHost(host, [ADM[version], '-c', conf, 'sh-dev', 'data']);
      t.equal(r.stdout, '/dev/drbd1', `${version} on ${host}: ${r.stderr}`);
      t.equal(r.exitCode, 0);
    }
    const dump = await asHost('master1', [ADM[version], '-c', conf, 'dump', 'data']);
    t.equal(dump.exitCode, 0, `${version} dump: ${dump.stderr}`);
    t.match(dump.stdout, /resource data \{[\s\S]*on master1 \{[\s\S]*device\s+\/dev\/drbd1 minor 1;[\s\S]*on master2 \{/);
  }
  const strange = await asHost('vm-not-in-config', [ADM['8.4'], '-c', TUTORIAL, 'sh-dev', 'data']);
  t.not(strange.exitCode, 0, 'a host that is not in the config gets no device');
  const v9 = await asHost('master1', [ADM['9'], '-c', TUTORIAL, 'sh-dev', 'data']);
  t.equal(v9.exitCode, 10, 'drbd-utils 9 in drbd 9 mode cannot parse the 8.3-era config (why tutorial-drbd-9.conf exists)');
  t.match(v9.stderr, /Parse error: 'an option keyword' expected,\s+but got 'unplug-watermark'/);
});

t.test('the double runs the same drbdsetup command lines as the real drbdadm (dry run)', async (t) => {
  const drbd = DrbdDouble.create('8.4', `drbddisk-real-${process.pid}-`).defineResource('data');
  t.teardown(() => drbd.cleanup());
  for (const [version, conf] of [['8.3', TUTORIAL], ['8.4', TUTORIAL], ['9', TUTORIAL_9]] as const) {
    for (const cmd of ['role', 'primary', 'secondary', 'cstate']) {
      const real = await asHost('master1', [ADM[version], '-c', conf, '-d', cmd, 'data']);
      const double = await execa(DRBDADM_DOUBLE, ['-c', conf, '-d', cmd, 'data'], { env: { ...drbd.env('master1'), DRBD_DOUBLE_VERSION: version }, reject: false });
      t.equal(real.exitCode, 0, `${version} -d ${cmd}: ${real.stderr}`);
      t.equal(double.stdout, real.stdout, `${version}: drbdadm -d ${cmd} data → ${real.stdout}`);
    }
  }
});

t.test('through our config handling: DRBDADM with -c in /etc/default/drbd, the /proc/drbd fallback via the real sh-dev', async (t) => {
  const defaults = join(scratch, 'default-drbd');
  for (const version of ['8.3', '8.4'] as const) {
    writeFileSync(defaults, `# as in /etc/default/drbd\nDRBDADM="${ADM[version]} -c ${TUTORIAL}"\n`);
    const env = { DRBD_DEFAULTS_FILE: defaults, HA_RSCTMP: scratch };
    // No module: `drbdadm role` fails; the role then comes from /proc/drbd at the minor of `drbdadm sh-dev data`.
    let r = await asHost('master1', [agentPath('drbddisk'), 'data', 'status'], { ...env, DRBD_PROC_FILE: fixture('proc-drbd-8.3.13-tutorial-master1.txt') });
    t.equal(r.stdout, 'running (Primary)', `${version} master1: ${r.stderr}`);
    t.equal(r.exitCode, 0);
    r = await asHost('master2', [agentPath('drbddisk'), 'data', 'status'], { ...env, DRBD_PROC_FILE: fixture('proc-drbd-8.3.13-tutorial-master2.txt') });
    t.equal(r.stdout, 'stopped (Secondary)', `${version} master2: ${r.stderr}`);
    t.equal(r.exitCode, 3);
    // No /proc/drbd at all: the module is not loaded, so nothing here is Primary.
    r = await asHost('master1', [agentPath('drbddisk'), 'data', 'status'], { ...env, DRBD_PROC_FILE: join(scratch, 'no-proc-drbd') });
    t.equal(r.stdout, 'stopped (Unconfigured)', `${version}: ${r.stderr}`);
    // A typo in haresources: drbdadm's own words, exit 6.
    r = await asHost('master1', [agentPath('drbddisk'), 'dta', 'status'], env);
    t.equal(r.exitCode, 6);
    t.match(r.stderr, /^drbddisk: DRBD resource "dta" is not defined in the DRBD configuration for this host \(drbdadm: 'dta' not defined in your config/m);
  }
  // OCF form: drbdconf becomes drbdadm -c.
  const r = await asHost('master1', [agentPath('drbddisk'), 'monitor'], {
    DRBDADM: ADM['8.4'], OCF_RESKEY_drbd_resource: 'data', OCF_RESKEY_drbdconf: TUTORIAL, DRBD_PROC_FILE: fixture('proc-drbd-8.3.13-tutorial-master1.txt'), HA_RSCTMP: scratch, DRBD_DEFAULTS_FILE: defaults,
  });
  t.equal(r.exitCode, 0, `OCF monitor with drbdconf: ${r.stderr}`);
});

t.test('real drbdadm, role undeterminable: ours says held; start fails with drbdadm\'s words within the bound', async (t) => {
  // drbd-utils 9 with the 8.3-era config and no 8.x module: every drbdadm call fails to parse the config,
  // so sh-dev cannot name the minor to look up in /proc/drbd.
  const env = { DRBDADM: `${ADM['9']} -c ${TUTORIAL}`, DRBD_PROC_FILE: fixture('proc-drbd-8.3.13-tutorial-master1.txt'), HA_RSCTMP: scratch, DRBD_DEFAULTS_FILE: join(scratch, 'none') };
  let r = await asHost('master1', [agentPath('drbddisk'), 'data', 'status'], env);
  t.match(r.stdout, /^running \(role unknown: .*Parse error.*\)$/, r.stderr);
  t.ok(resourceManagerReadsAsHeld(r.stdout));
  r = await asHost('master1', [agentPath('drbddisk'), 'start'], { ...env, OCF_RESKEY_drbd_resource: 'data', OCF_RESKEY_peer_wait: '1' });
  t.equal(r.exitCode, 1);
  t.match(r.stderr, /^ocf-exit-reason:could not promote data: \/sbin\/drbdadm -c \S+tutorial-drbd.conf primary data exited 10: .*Parse error/m);
  t.equal(r.stderr.split('\n').filter((l) => l.startsWith('ocf-exit-reason:')).length, 1);
});
