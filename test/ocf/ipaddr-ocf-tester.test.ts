import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { agentPath } from '../rig/agents.ts';
import { type Lan, createLan } from '../rig/netns.ts';

// Debian's ocf-tester (resource-agents) against our IPaddr with real
// parameters. ocf-tester itself runs inside the node's namespace, so every
// start/stop it drives touches only that namespace.

let lan: Lan;
let dir: string;

t.before(async () => {
  lan = await createLan('ipot', [
    { name: 'a', addresses: ['198.18.0.1/24', 'fd00::1/64'] },
    { name: 'peer', addresses: ['198.18.0.2/24', 'fd00::2/64'] },
  ]);
  dir = mkdtempSync(`${tmpdir()}/ipaddr-ocf-tester-`);
});
t.teardown(async () => {
  await lan?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cases: [string, Record<string, string>][] = [
  ['IPv4, all given', { ip: '198.18.0.100', nic: 'eth1', cidr_netmask: '24', iflabel: 'vip' }],
  ['IPv4, only ip (findif)', { ip: '198.18.0.101' }],
  ['IPv4, dotted netmask and broadcast', { ip: '198.18.0.102', cidr_netmask: '255.255.255.0', broadcast: '198.18.0.255' }],
  ['IPv6', { ip: 'fd00::100', nic: 'eth1', cidr_netmask: '64' }],
  ['IPv6, only ip (findif)', { ip: 'fd00::101' }],
];

for (const [name, params] of cases) {
  t.test(`ocf-tester: ${name}`, async (t) => {
    const args = ['netns', 'exec', lan.nodes.a!.ns, '/usr/sbin/ocf-tester', '-n', 'vip'];
    for (const [key, value] of Object.entries(params)) args.push('-o', `${key}=${value}`);
    args.push(agentPath('IPaddr'));
    const result = await execa('ip', args, {
      reject: false,
      timeout: 300_000,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HA_RSCTMP: dir, HA_LOGFILE: `${dir}/ha-log` },
      extendEnv: false,
      all: true,
    });
    t.equal(result.exitCode, 0, `ocf-tester exit 0\n${result.all}`);
    t.match(String(result.stdout), /passed all tests/);
    const { stdout } = await lan.exec('a', 'ip', ['-j', 'addr', 'show', 'dev', 'eth1']);
    t.notOk(stdout.includes(`"${params.ip}"`), 'address removed at the end');
  });
}
