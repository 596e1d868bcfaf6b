import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { AGENTS_DIR, ROOT } from '../rig/agents.ts';

// `ha-agent crm-config` end to end: the built binary's output loaded by the
// real crm shell into a scratch CIB (CIB_file), checked by crm_verify. crmsh
// asks the agents for meta-data in /usr/lib/ocf/resource.d/hara: the build
// is bind-mounted there in a private mount namespace, never on the host.

const haAgent = `${AGENTS_DIR}/ha-agent`;
const tutorial = `${ROOT}/test/fixtures/heartbeat/tutorial-haresources`;
const work = mkdtempSync(`/tmp/hara-crm-${process.pid}-`);
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => execa(haAgent, args, { reject: false, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, extendEnv: false });

t.test('the output loads into a CIB with crmsh and crm_verify finds nothing wrong', async (t) => {
  const out = await cli(['crm-config', tutorial]);
  t.equal(out.exitCode, 0, out.stderr);
  t.equal(out.stderr, '');
  const ocf = `${work}/ocf`;
  mkdirSync(`${ocf}/hara`, { recursive: true });
  for (const name of ['IPaddr', 'drbddisk', 'Filesystem', 'mysqld']) symlinkSync(haAgent, `${ocf}/hara/${name}`);
  const cib = `${work}/cib.xml`;
  writeFileSync(cib, (await execa('cibadmin', ['--empty'])).stdout);
  // The nodes and properties a real cluster has; the rest is exactly the command's output.
  writeFileSync(`${work}/config.crm`, `node master1\nnode master2\nproperty stonith-enabled=false no-quorum-policy=ignore\n${out.stdout}`);
  const script = 'mount --bind "$1" /usr/lib/ocf/resource.d && crm configure load update "$2" && crm configure verify && crm_verify -V -x "$3"';
  const loaded = await execa('unshare', ['--mount', '--propagation', 'slave', '--', '/bin/sh', '-c', script, 'sh', ocf, `${work}/config.crm`, cib], {
    reject: false, env: { CIB_file: cib, PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: work }, extendEnv: false,
  });
  t.equal(loaded.exitCode, 0, `crm load/verify: ${loaded.stderr}`);
  t.notMatch(loaded.stderr, /ERROR|no such resource agent|got no meta-data/, 'crmsh found every agent and its parameters');
  const xml = readFileSync(cib, 'utf8');
  t.match(xml, /<primitive id="IPaddr_198_18_4_1" class="ocf" provider="hara" type="IPaddr">/);
  t.match(xml, /<nvpair name="ip" value="198.18.4.1" id="[^"]+"\/>/);
  t.match(xml, /<group id="group_1">/);
  t.match(xml, /<rsc_location id="group_1-on-master1" rsc="group_1" score="100" node="master1"\/>/);
  t.match(xml, /name="resource-stickiness" value="200"/);
  t.match(xml, /<op name="monitor" interval="10s" timeout="30s" id="[^"]+"\/>/, 'mysqld monitor: our meta-data\'s 30 s');
});

t.test('errors: unreadable file, a resource our agents refuse, a usage error', async (t) => {
  const missing = await cli(['crm-config', `${work}/nonexistent`]);
  t.equal(missing.exitCode, 1);
  t.match(missing.stderr, /cannot read .*nonexistent: it does not exist/);
  t.equal(missing.stdout, '');
  writeFileSync(`${work}/bad`, 'master1 IPaddr::198.18.4.1/16/eth1\nmaster1 Filesystem::/dev/drbd1\n');
  const bad = await cli(['crm-config', `${work}/bad`]);
  t.equal(bad.exitCode, 1);
  t.match(bad.stderr, new RegExp(`${work}/bad:2: error: Filesystem::/dev/drbd1: missing arguments`));
  t.equal(bad.stdout, '', 'nothing half-converted on stdout');
  const usage = await cli(['crm-config', '--stickiness', 'lots', tutorial]);
  t.equal(usage.exitCode, 2);
  t.match(usage.stderr, /--stickiness <score>.*must be a whole number/);
});
