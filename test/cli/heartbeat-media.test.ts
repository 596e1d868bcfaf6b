import t from 'tap';
import { Sandbox, netnsDelete, netnsWithEth1 } from '../rig/sandbox.ts';

// What the stock heartbeat daemon (3.0.6, in the private-root node) does
// with the same medium twice, the case `check` reports as HA117: it does
// not refuse; it opens a second reader on the very same address and port
// (two sockets on 0.0.0.0%eth1:694), so every heartbeat arrives twice and
// the second line adds no link. The node is destroyed afterwards (its
// PID namespace ends the daemon).

const ns = `hae-hbm-${process.pid}`;
const HACF = `logfile /var/log/ha-log
keepalive 1
deadtime 10
warntime 5
initdead 20
udpport 694
bcast eth1
bcast eth1
auto_failback on
node master1
node master2
crm no
`;
const AUTHKEYS = 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n';
let node: Sandbox;

t.before(async () => {
  await netnsWithEth1(ns, '198.18.9.2/24');
  node = await Sandbox.start({
    name: `hbm-${process.pid}`, hostname: 'master1', netns: ns,
    etc: { 'ha.d/authkeys': { content: AUTHKEYS, mode: 0o600 }, 'ha.d/ha.cf': HACF, 'ha.d/haresources': 'master1 IPaddr::198.18.9.1/24/eth1\n' },
  });
});

t.teardown(async () => {
  await node?.destroy();
  await netnsDelete(ns);
});

t.test('bcast eth1 twice: check says HA117; heartbeat starts and binds the same address twice', async (t) => {
  const check = await node.exec('/etc/ha.d/resource.d/ha-agent', ['check', '--json']);
  const codes = (JSON.parse(check.stdout) as { findings: { file: string; code: string; line: number }[] }).findings.filter((f) => f.file === '/etc/ha.d/ha.cf');
  t.same(codes.filter((f) => f.code === 'HA117').map((f) => f.line), [8], check.stdout);
  const daemon = await node.exec('/usr/libexec/heartbeat/heartbeat', [], { timeoutMs: 30_000 });
  t.equal(daemon.exitCode, 0, `heartbeat started: ${daemon.stderr}`);
  let sockets: string[] = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ss = await node.exec('ss', ['-H', '-uanp', 'sport', '=', ':694']);
    sockets = ss.stdout.split('\n').filter((l) => /0\.0\.0\.0%eth1:694/.test(l) && /heartbeat/.test(l));
    if (sockets.length >= 2) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  t.equal(sockets.length, 2, `two heartbeat sockets on 0.0.0.0%eth1:694:\n${sockets.join('\n')}`);
  t.notMatch(node.readLog('ha-log'), /ERROR: (Illegal|Bad|No heartbeat)/, 'no complaint about the configuration');
});
