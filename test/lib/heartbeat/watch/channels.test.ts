import t from 'tap';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { hookEnvironment, pacemakerTimestamp, parseHookSpec } from '../../../../lib/heartbeat/watch/channels/hooks.ts';
import { mailMessage } from '../../../../lib/heartbeat/watch/channels/mail.ts';
import { renderMetrics, writeAtomically } from '../../../../lib/heartbeat/watch/channels/metrics.ts';
import { runBounded } from '../../../../lib/heartbeat/watch/channels/spawn.ts';
import { EVENT_KINDS, type WatchEvent } from '../../../../lib/heartbeat/watch/events.ts';
import type { Sample } from '../../../../lib/heartbeat/watch/sample.ts';
import { startMta } from '../../../rig/mta.ts';

// The channels with the real parts that receive them: Pacemaker's own
// sample alert agents (Debian's pacemaker package) run unchanged as hooks,
// a real exim4 delivers the mails, promtool checks the metrics.

const work = mkdtempSync(join(tmpdir(), `watch-ch-${process.pid}-`));
chmodSync(work, 0o755); // exim drops root for -C: it must reach its spool under here
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const ALERTS = '/usr/share/pacemaker/alerts';

const event = (over: Partial<WatchEvent> = {}): WatchEvent => ({
  code: 'HA702', severity: 'critical', state: 'raised', node: 'master1',
  desc: 'heartbeat hears nothing from master2 (eth1 dead; node dead), but 198.18.0.2 still answers on the LAN from 02:00:00:00:00:02: split brain',
  fix: EVENT_KINDS.splitBrain.fix, subject: { mac: '02:00:00:00:00:02' }, at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), sequence: 7, ...over,
});

const baseEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

t.test('the environment is Pacemaker\'s alert environment plus ours', async (t) => {
  const env = hookEnvironment(event({ subject: { vip: '198.18.4.1', mac: '02:00:00:00:00:99' } }), '/var/log/alerts', '0.1.0');
  t.match(env, {
    CRM_alert_kind: 'node', CRM_alert_node: 'master1', CRM_alert_node_sequence: '7', CRM_alert_recipient: '/var/log/alerts', CRM_alert_version: '0.1.0',
    CRM_alert_timestamp_epoch: String(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000), CRM_alert_timestamp_usec: '678000',
    HA_alert_code: 'HA702', HA_alert_severity: 'critical', HA_alert_state: 'raised', HA_alert_vip: '198.18.4.1', HA_alert_mac: '02:00:00:00:00:99',
  });
  t.match(env.CRM_alert_desc, /^HA702 critical raised: heartbeat hears nothing/);
  t.match(env.CRM_alert_timestamp, /^\d\d:\d\d:\d\d\.678000$/, 'Pacemaker\'s default %H:%M:%S.%06N');
  t.equal(pacemakerTimestamp(new Date(2026, 0, 1, 1, 2, 3), 45), '01:02:03.000045');
  t.notOk('HA_alert_link' in env);
  t.same(parseHookSpec('/a/b=/var/log/x'), { path: '/a/b', recipient: '/var/log/x' });
  t.same(parseHookSpec('/a/b'), { path: '/a/b', recipient: '' });
});

t.test('Debian\'s alert_file.sh.sample, unchanged, writes the event to its recipient file', async (t) => {
  const hook = join(work, 'alert_file.sh');
  copyFileSync(`${ALERTS}/alert_file.sh.sample`, hook);
  chmodSync(hook, 0o755);
  const recipient = join(work, 'alerts.log');
  for (const ev of [event(), event({ state: 'cleared', sequence: 8 })]) {
    const r = await runBounded(hook, [], { env: { ...baseEnv, ...hookEnvironment(ev, recipient, '0.1.0') }, timeoutMs: 10_000 }).done;
    t.equal(r.failure, undefined);
  }
  const lines = readFileSync(recipient, 'utf8').trim().split('\n');
  t.equal(lines.length, 2);
  t.match(lines[0], /^\d\d:\d\d:\d\d\.678000: Node 'master1' is now 'HA702 critical raised: heartbeat hears nothing from master2/);
  t.match(lines[1], /Node 'master1' is now 'HA702 critical cleared: /);
});

t.test('Debian\'s alert_smtp.sh.sample, unchanged, mails the event through a real exim4; --mail-to\'s message too', async (t) => {
  const mta = startMta(join(work, 'mta'));
  t.teardown(() => mta.cleanup());
  const hook = join(work, 'alert_smtp.sh');
  copyFileSync(`${ALERTS}/alert_smtp.sh.sample`, hook);
  chmodSync(hook, 0o755);
  const env = { ...baseEnv, PATH: `${mta.binDir}:${baseEnv.PATH}`, ...hookEnvironment(event(), 'ops@watch.test', '0.1.0') };
  const r = await runBounded(hook, [], { env, timeoutMs: 20_000 }).done;
  t.equal(r.failure, undefined);
  let messages = mta.messages();
  t.equal(messages.length, 1, 'one mail delivered');
  t.match(messages[0], /^To: ops@watch\.test$/m);
  t.match(messages[0], /^Subject: \d\d:\d\d:\d\d\.678000 : Node 'master1' is now 'HA702 critical raised: heartbeat hears nothing/m);
  t.match(messages[0], /CRM_alert_kind=node/);

  const mail = await runBounded(mta.sendmail, ['-t', '-oi'], { env: baseEnv, input: mailMessage(event({ state: 'cleared' }), ['oncall@watch.test', 'ops@watch.test']), timeoutMs: 20_000 }).done;
  t.equal(mail.failure, undefined);
  messages = mta.messages();
  t.equal(messages.length, 3, 'one copy per recipient in the shared mailbox');
  t.match(messages[1], /^Subject: \[CRITICAL\] master1: HA702 cleared: heartbeat hears nothing/m);
  t.match(messages[1], /^X-HA-Alert-Code: HA702$/m);
  t.match(messages[1], /^Fix: restore a heartbeat link/m);
});

t.test('a hook that is missing, fails or hangs: one failure each, bounded, its process group killed', async (t) => {
  const missing = await runBounded(join(work, 'nosuch'), [], { env: baseEnv, timeoutMs: 5000 }).done;
  t.equal(missing.failure, 'not found');
  const failing = join(work, 'failing.sh');
  writeFileSync(failing, '#!/bin/sh\necho "cannot reach the pager" >&2\nexit 3\n');
  chmodSync(failing, 0o755);
  t.equal((await runBounded(failing, [], { env: baseEnv, timeoutMs: 5000 }).done).failure, 'exited 3: cannot reach the pager');
  const notExec = join(work, 'plain.sh');
  writeFileSync(notExec, '#!/bin/sh\n');
  t.equal((await runBounded(notExec, [], { env: baseEnv, timeoutMs: 5000 }).done).failure, 'not executable (permission denied)');
  const hanging = join(work, 'hang.sh');
  const pidFile = join(work, 'grandchild.pid');
  writeFileSync(hanging, `#!/bin/sh\nsleep 60 &\necho $! > ${pidFile}\nwait\n`);
  chmodSync(hanging, 0o755);
  const started = Date.now();
  const hung = await runBounded(hanging, [], { env: baseEnv, timeoutMs: 300 }).done;
  t.match(hung.failure, /did not finish within 300 ms; its process group was killed/);
  t.ok(Date.now() - started < 5000);
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(existsSync(`/proc/${grandchild}`) && !/\) Z /.test(readFileSync(`/proc/${grandchild}/stat`, 'utf8')), 'the hook\'s child was killed with it');
});

const sample: Sample = {
  at: new Date(1_700_000_000_000), node: 'master1',
  heartbeat: { running: true, pid: 1, detail: 'PID 1' },
  peer: { name: 'master2', status: 'dead', address: '198.18.0.2', lanMacs: ['02:00:00:00:00:02'] },
  links: [{ name: 'eth1', status: 'dead' }, { name: 'eth2', status: 'up' }],
  vips: [{ ip: '198.18.4.1', nic: 'eth1', heldHere: true, otherMacs: ['02:00:00:00:00:99'] }, { ip: '198.18.4.2', heldHere: false, otherMacs: [] }],
  drbd: [
    { resource: 'data', role: 'Primary', peerRole: 'Secondary', connection: 'Connected', disks: ['UpToDate'], peerDisks: ['UpToDate'], splitBrainVolumes: [], splitBrainDir: '/x' },
    { resource: 'logs', role: 'Primary', connection: 'StandAlone', disks: ['UpToDate'], peerDisks: [], splitBrainVolumes: ['0'], splitBrainDir: '/x' },
  ],
  groups: [{ node: 'master1', line: 1, key: 'IPaddr::198.18.4.1/16/eth1', verdict: 'SOME', resources: [
    { resource: 'IPaddr::198.18.4.1/16/eth1', line: 1, args: [], state: 'held', detail: 'running', exitCode: 0, ms: 1 },
    { resource: 'mysqld', line: 1, args: [], state: 'released', detail: 'stopped "quoted"\\', exitCode: 3, ms: 1 },
  ] }],
  transition: false, problems: [], ms: 42,
};

t.test('metrics: promtool check metrics is clean; ha_cluster_exporter\'s DRBD names; written atomically', async (t) => {
  const text = renderMetrics({ sample, active: [{ kind: 'splitBrain', desc: '', subject: {} }, { kind: 'linkDown', desc: '', subject: { link: 'eth1' } }], eventCounts: new Map([['HA702 raised', 1], ['HA701 cleared', 2]]), samples: 12, channelFailures: 1 });
  const lint = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
  t.equal(lint.exitCode, 0, `${lint.stdout}${lint.stderr}`);
  t.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'no lint finding');
  t.match(text, /^ha_cluster_drbd_split_brain\{resource="logs",volume="0"\} 1$/m);
  t.match(text, /^ha_cluster_drbd_resources\{resource="data",role="primary",volume="0",disk_state="uptodate"\} 1$/m);
  t.match(text, /^ha_cluster_drbd_connections\{resource="data",peer_node_id="0",peer_role="secondary",volume="0",peer_disk_state="uptodate"\} 1$/m);
  t.notMatch(text, /ha_cluster_drbd_connections\{resource="logs"/, 'a StandAlone resource has no connection line');
  t.match(text, /^ha_watch_links_up 1$/m);
  t.match(text, /^ha_watch_peer_status\{peer="master2",status="dead"\} 1$/m);
  t.match(text, /^ha_watch_resources_held 1$/m);
  t.match(text, /^ha_watch_events_active\{code="HA702",severity="critical"\} 1$/m);
  t.match(text, /^ha_watch_last_sample_timestamp_seconds 1700000000$/m);
  t.match(text, /detail|state="released"/);
  t.match(text, /^# HELP ha_watch_links_up /m);
  const path = join(work, 'ha.prom');
  writeAtomically(path, text);
  t.equal(readFileSync(path, 'utf8'), text);
  t.throws(() => writeAtomically(join(work, 'nosuchdir', 'ha.prom'), text), /ENOENT/);
  t.same(readFileSync(path, 'utf8'), text, 'the old file stays whole');
  // Before the first sample: still valid.
  const empty = renderMetrics({ active: [], eventCounts: new Map(), samples: 0, channelFailures: 0 });
  t.equal((await execa('promtool', ['check', 'metrics'], { input: empty, reject: false })).exitCode, 0);
});
