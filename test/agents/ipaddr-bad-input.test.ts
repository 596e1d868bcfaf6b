import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runAgent, runOcf } from '../rig/agents.ts';
import { type Lan, createLan } from '../rig/netns.ts';

// Every bad input: one line naming the problem, the right exit code, and
// the node's addresses exactly as before.

let lan: Lan;
let dir: string;
let env: Record<string, string>;

t.before(async () => {
  lan = await createLan('ipbad', [{ name: 'a', addresses: ['198.18.0.1/24', 'fd00::1/64'] }]);
  dir = mkdtempSync(`${tmpdir()}/ipaddr-bad-`);
  env = { HA_RSCTMP: dir, HA_LOGFILE: `${dir}/ha-log` };
});
t.teardown(async () => {
  await lan?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const snapshot = async () => {
  const { stdout } = await lan.exec('a', 'ip', ['-j', 'addr', 'show']);
  return (JSON.parse(stdout) as { ifname: string; addr_info: { local: string; prefixlen: number; label?: string }[] }[])
    .map((link) => `${link.ifname}: ${link.addr_info.map((a) => `${a.local}/${a.prefixlen}${a.label ? ` ${a.label}` : ''}`).join(' ')}`);
};

t.test('heartbeat v1 arguments', async (t) => {
  const before = await snapshot();
  const cases: [string[], number, RegExp][] = [
    [['198.18.0.300/24/eth1'], 6, /ip "198\.18\.0\.300" is not a valid IPv4 or IPv6 address/],
    [['198.18.0/24/eth1'], 6, /not a valid IPv4 or IPv6 address/],
    [['198.18.0.5/33/eth1'], 6, /netmask "33" is not a prefix length between 1 and 32/],
    [['198.18.0.5/255.0.255.0/eth1'], 6, /netmask "255\.0\.255\.0" is not a valid netmask/],
    [['198.18.0.5/24/eth9'], 6, /no interface named eth9/],
    [['198.18.0.5/24/eth1:averylonglabel'], 6, /label "eth1:averylonglabel" is longer than 15 characters/],
    [['198.18.0.5;reboot'], 6, /shell metacharacter ";"/],
    [['198.18.0.5/24/eth1$(reboot)'], 6, /shell metacharacter "\$"/],
    [['198.18.0.5/24/eth1`id`'], 6, /shell metacharacter "`"/],
    [['198.18.0.5/24/eth 1'], 6, /nic "eth 1" is not a valid interface name/],
    [['198.18.0.5/24/eth1/198.18.0'], 6, /broadcast "198\.18\.0" is not an IPv4 address/],
    [['fd00::1::5/64/eth1'], 6, /not a valid IPv4 or IPv6 address/],
    [['fd00::5/129/eth1'], 6, /between 1 and 128/],
    [['fd00::5/64/eth1/fd00::ff'], 6, /broadcast "fd00::ff": IPv6 has no broadcast/],
    [[], 2, /no IP address given; usage: IPaddr ip\[\/bits-or-dotted-netmask/],
    [[''], 6, /argument 1 \(ip\) is empty/],
    [['198.18.0.5', '198.18.0.6'], 2, /expected one argument/],
    [['198.18.0.5/24/eth1/198.18.0.255/extra'], 2, /too many "\/" fields/],
  ];
  for (const [args, code, message] of cases) {
    const result = await runAgent('IPaddr', [...args, 'start'], { netns: lan.nodes.a!.ns, env });
    const label = JSON.stringify(args);
    t.equal(result.exitCode, code, `${label}: exit ${code}`);
    const lines = result.stderr.trim().split('\n');
    t.equal(lines.length, 1, `${label}: one line (${result.stderr.trim()})`);
    t.match(lines[0], /^IPaddr: /, `${label}: names the agent`);
    t.match(lines[0], message, `${label}: names the problem`);
    t.same(await snapshot(), before, `${label}: nothing added`);
  }
});

t.test('OCF parameters', async (t) => {
  const before = await snapshot();
  const cases: [Record<string, string>, number, RegExp][] = [
    [{ ip: '198.18.0.300' }, 6, /not a valid IPv4 or IPv6 address/],
    [{ ip: '' }, 6, /ip is required/],
    [{ ip: '198.18.0.5', cidr_netmask: '33' }, 6, /between 1 and 32/],
    [{ ip: '198.18.0.5', cidr_netmask: '255.0.255.0' }, 6, /contiguous/],
    [{ ip: '198.18.0.5', nic: 'eth9' }, 6, /no interface named eth9/],
    [{ ip: '198.18.0.5', nic: 'eth1', iflabel: 'averylonglabel' }, 6, /longer than 15/],
    [{ ip: '198.18.0.5', nic: 'eth1', iflabel: 'a;b' }, 6, /shell metacharacter/],
    [{ ip: '198.18.0.5', arp_count: 'many' }, 6, /arp_count "many" must be a whole number/],
    [{ ip: '198.18.0.5', arp_interval: '0' }, 6, /arp_interval 0 must be at least 1/],
    [{ ip: '198.18.0.5', run_arping: 'perhaps' }, 6, /run_arping "perhaps" must be true or false/],
    [{ ip: 'fd00::5', broadcast: '198.18.0.255' }, 6, /IPv6 has no broadcast/],
    [{ ip: 'fe80::5' }, 6, /nic is required for the link-local address/],
    // Well-formed, but no interface fits: findif's ERR_GENERIC.
    [{ ip: '198.18.7.1' }, 1, /no interface has a route to 198\.18\.7\.1/],
    [{ ip: '198.18.0.5', cidr_netmask: '16' }, 1, /no interface has a route to 198\.18\.0\.5\/16/],
  ];
  for (const [params, code, message] of cases) {
    const result = await runOcf('IPaddr', 'start', params, { netns: lan.nodes.a!.ns, env });
    const label = JSON.stringify(params);
    t.equal(result.exitCode, code, `${label}: exit ${code}`);
    const lines = result.stderr.trim().split('\n');
    t.equal(lines.length, 1, `${label}: one line (${result.stderr.trim()})`);
    t.match(lines[0], /^ocf-exit-reason:/, `${label}: as an OCF exit reason`);
    t.match(lines[0], message, `${label}: names the problem`);
    t.same(await snapshot(), before, `${label}: nothing added`);
  }
  const validate = await runOcf('IPaddr', 'validate-all', { ip: '198.18.0.5', nic: 'eth9' }, { netns: lan.nodes.a!.ns, env });
  t.equal(validate.exitCode, 6, 'validate-all: unknown nic');
  t.equal((await runOcf('IPaddr', 'validate-all', { ip: '198.18.0.5', nic: 'eth1' }, { netns: lan.nodes.a!.ns, env })).exitCode, 0, 'validate-all: fine');
  // For status and stop an absent nic means "not here", not an error (a stop must not fail for that).
  t.equal((await runOcf('IPaddr', 'monitor', { ip: '198.18.0.5', nic: 'eth9' }, { netns: lan.nodes.a!.ns, env })).exitCode, 7);
  t.equal((await runOcf('IPaddr', 'stop', { ip: '198.18.0.5', nic: 'eth9' }, { netns: lan.nodes.a!.ns, env })).exitCode, 0);
});
