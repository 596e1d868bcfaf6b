import t from 'tap';
import { Sandbox, netnsDelete, netnsWithEth1 } from '../rig/sandbox.ts';

// Where `ha-agent check` says "heartbeat refuses to start", the stock
// heartbeat daemon (3.0.6, run as installed in the private-root node) does
// refuse that very file, with the message the finding quotes. Only refusals
// are run in the shared node: a daemon that does start would outlive the case
// (the rig's own ha.cf starts in test/e2e). The one case that starts (the
// same medium twice, HA117) gets a node of its own, destroyed after it.

const ns = `hae-hbr-${process.pid}`;
const HACF = `logfile /var/log/ha-log
debugfile /var/log/ha-debug
keepalive 2
deadtime 30
warntime 10
initdead 120
udpport 694
bcast eth1
auto_failback on
node master1
node master2
crm no
`;
const AUTHKEYS = 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n';
const HARESOURCES = 'master1 IPaddr::198.18.9.1/24/eth1\n';

interface Case {
  name: string;
  code: string;
  /** What heartbeat logs when it refuses. */
  says: RegExp;
  haCf?: string;
  authkeys?: string;
  authkeysMode?: number;
  haresources?: string;
}

const cases: Case[] = [
  { name: 'a typo in a directive', code: 'HA102', says: /ERROR: Illegal directive \[wartime\] in \/etc\/ha\.d\/\/ha\.cf/, haCf: HACF.replace('warntime 10', 'wartime 10') },
  { name: 'deadtime = 2 × keepalive', code: 'HA106', says: /ERROR: Dead time \[4000\] is too small compared to keeplive \[2000\]/, haCf: HACF.replace('deadtime 30', 'deadtime 4').replace('warntime 10', 'warntime 3').replace('initdead 120', 'initdead 10') },
  { name: 'initdead below deadtime', code: 'HA115', says: /ERROR: Initial dead time \[20000\] is smaller than deadtime \[30000\]/, haCf: HACF.replace('initdead 120', 'initdead 20') },
  { name: 'a time it cannot read', code: 'HA109', says: /ERROR: Heartbeat not started: configuration error/, haCf: HACF.replace('keepalive 2', 'keepalive 2 seconds') },
  { name: 'no medium', code: 'HA114', says: /ERROR: No heartbeat media defined/, haCf: HACF.replace('bcast eth1\n', '') },
  { name: 'an interface the node lacks', code: 'HA110', says: /ERROR: glib: IP interface \[eth7\] does not exist/, haCf: HACF.replace('bcast eth1', 'bcast eth7') },
  { name: 'authkeys readable by others', code: 'HA202', says: /ERROR: Bad permissions on keyfile \[\/etc\/ha\.d\/\/authkeys\], 600 recommended/, authkeysMode: 0o644 },
  { name: 'authkeys without auth', code: 'HA203', says: /ERROR: Missing auth directive in keyfile/, authkeys: '1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n' },
  { name: 'haresources node not in ha.cf', code: 'HA302', says: /ERROR: Bad nodename in \/etc\/ha\.d\/\/haresources \[master3\]/, haresources: 'master3 IPaddr::198.18.9.1/24/eth1\n' },
];

let node: Sandbox;

t.before(async () => {
  await netnsWithEth1(ns, '198.18.9.2/24');
  node = await Sandbox.start({ name: `hbr-${process.pid}`, hostname: 'master1', netns: ns, etc: { 'ha.d/authkeys': { content: AUTHKEYS, mode: 0o600 } } });
});

t.teardown(async () => {
  await node?.destroy();
  await netnsDelete(ns);
});

for (const c of cases) {
  t.test(`${c.name}: check says ${c.code}, heartbeat refuses`, async (t) => {
    // Test-authored files written inside the node (its /etc is private).
    await node.sh('cat > /etc/ha.d/ha.cf && printf "%s" "$AUTHKEYS" > /etc/ha.d/authkeys && chmod "$MODE" /etc/ha.d/authkeys && printf "%s" "$HARESOURCES" > /etc/ha.d/haresources && : > /var/log/ha-log', {
      input: c.haCf ?? HACF,
      env: { AUTHKEYS: c.authkeys ?? AUTHKEYS, MODE: (c.authkeysMode ?? 0o600).toString(8), HARESOURCES: c.haresources ?? HARESOURCES },
    });
    const check = await node.exec('/etc/ha.d/resource.d/ha-agent', ['check', '--json']);
    const report = JSON.parse(check.stdout) as { findings: { file: string; code: string; message: string }[] };
    // The node's boot files are the host's /etc seen through the overlay: only the heartbeat files are this test's.
    // One NIC, so one heartbeat link (HA116), no watch (HA406) and the stock shellfuncs' whole-second stamps (HA407,
    // a hint): findings of check.test.ts, not refusals.
    const ours = report.findings.filter((f) => f.file.startsWith('/etc/ha.d/') && !['HA116', 'HA406', 'HA407'].includes(f.code));
    t.same([...new Set(ours.map((f) => f.code))], [c.code], 'the named finding, nothing else in ha.d', { stdout: check.stdout });
    t.match(ours[0]?.message ?? '', /refuses to start/, 'the finding says so');
    const daemon = await node.exec('/usr/libexec/heartbeat/heartbeat', [], { timeoutMs: 30_000 });
    t.not(daemon.exitCode, 0, 'heartbeat did not start');
    t.match(node.readLog('ha-log'), c.says, 'with its own words for it');
  });
}

// What the stock daemon does with the same medium twice (check's HA117): it does not refuse; it opens a
// second reader on the very same address and port (two sockets on 0.0.0.0%eth1:694), so every heartbeat
// arrives twice and the second line adds no link.
t.test('bcast eth1 twice: check says HA117; heartbeat starts and binds the same address twice', async (t) => {
  const own = await Sandbox.start({
    name: `hbm-${process.pid}`, hostname: 'master1', netns: ns,
    etc: { 'ha.d/authkeys': { content: AUTHKEYS, mode: 0o600 }, 'ha.d/ha.cf': HACF.replace('bcast eth1\n', 'bcast eth1\nbcast eth1\n'), 'ha.d/haresources': HARESOURCES },
  });
  try {
    const check = await own.exec('/etc/ha.d/resource.d/ha-agent', ['check', '--json']);
    const findings = (JSON.parse(check.stdout) as { findings: { file: string; code: string; line: number }[] }).findings.filter((f) => f.file === '/etc/ha.d/ha.cf');
    t.same(findings.filter((f) => f.code === 'HA117').map((f) => f.line), [9], check.stdout);
    const daemon = await own.exec('/usr/libexec/heartbeat/heartbeat', [], { timeoutMs: 30_000 });
    t.equal(daemon.exitCode, 0, `heartbeat started: ${daemon.stderr}`);
    let sockets: string[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const ss = await own.exec('ss', ['-H', '-uanp', 'sport', '=', ':694']);
      sockets = ss.stdout.split('\n').filter((l) => /0\.0\.0\.0%eth1:694/.test(l) && /heartbeat/.test(l));
      if (sockets.length >= 2) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    t.equal(sockets.length, 2, `two heartbeat sockets on 0.0.0.0%eth1:694:\n${sockets.join('\n')}`);
    t.notMatch(own.readLog('ha-log'), /ERROR: (Illegal|Bad|No heartbeat)/, 'no complaint about the configuration');
  } finally {
    await own.destroy();
  }
});
