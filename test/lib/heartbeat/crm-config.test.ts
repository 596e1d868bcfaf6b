import t from 'tap';
import { readFileSync } from 'node:fs';
import { AGENTS } from '../../../agents/index.ts';
import type { AgentDefinition } from '../../../lib/contract/agent.ts';
import { buildCrmConfig, crmId, crmValue, renderCrmConfig } from '../../../lib/heartbeat/crm-config.ts';
import { parseHaresources } from '../../../lib/heartbeat/haresources.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/heartbeat/${name}`, import.meta.url), 'utf8');
const agents: Record<string, AgentDefinition> = {};
t.before(async () => {
  for (const [name, load] of Object.entries(AGENTS)) agents[name] = await load();
});

t.test('the tutorial group: our primitives with the agents\' own OCF names, timeouts from the tables', async (t) => {
  const config = buildCrmConfig(parseHaresources(fixture('tutorial-haresources')), agents);
  t.same(config.problems, []);
  const [group] = config.groups;
  t.match(group, { id: 'group_1', node: 'master1', line: 2 });
  t.same(group!.primitives.map((p) => [p.id, p.agent, p.params]), [
    ['IPaddr_198_18_4_1', 'ocf:hara:IPaddr', [['ip', '198.18.4.1'], ['cidr_netmask', '16'], ['nic', 'eth1']]],
    ['drbddisk_data', 'ocf:hara:drbddisk', [['drbd_resource', 'data']]],
    ['Filesystem_data', 'ocf:hara:Filesystem', [['device', '/dev/drbd1'], ['directory', '/data'], ['fstype', 'ext3']]],
    ['mysqld', 'ocf:hara:mysqld', []],
  ]);
  for (const p of group!.primitives) t.same(p.timeouts, agents[p.agent.split(':')[2]!]!.timeouts, `${p.id}: the timeouts our meta-data advertises`);
  const text = renderCrmConfig(config, 'haresources');
  t.match(text, /^primitive Filesystem_data ocf:hara:Filesystem \\\n\tparams device=\/dev\/drbd1 directory=\/data fstype=ext3 \\\n\top monitor interval=10s timeout=40s \\\n\top start timeout=60s interval=0s \\\n\top stop timeout=60s interval=0s$/m);
  t.match(text, /^group group_1 IPaddr_198_18_4_1 drbddisk_data Filesystem_data mysqld$/m);
  t.match(text, /^location group_1-on-master1 group_1 100: master1$/m);
  t.match(text, /^rsc_defaults rsc-options: resource-stickiness=200$/m);
});

t.test('IPv6 rejoined, bare IPv4, other scripts as lsb:, ids unique, options', async (t) => {
  const parsed = parseHaresources('Node2 198.18.5.1 IPaddr::fd00::10/64/eth1:vip httpd Delay::5\nnode3 198.18.5.1 mysqld::/etc/mysql/a.cnf\n');
  const config = buildCrmConfig(parsed, agents, { stickiness: 0, locationScore: 50 });
  const all = config.groups.flatMap((g) => g.primitives);
  t.same(all.map((p) => p.id), ['IPaddr_198_18_5_1', 'IPaddr_fd00_10', 'httpd', 'Delay', 'IPaddr_198_18_5_1_2', 'mysqld_etc_mysql_a_cnf']);
  t.same(all[1]!.params, [['ip', 'fd00::10'], ['cidr_netmask', '64'], ['nic', 'eth1'], ['iflabel', 'vip']]);
  t.same([all[2]!.agent, all[3]!.agent], ['lsb:httpd', 'lsb:Delay']);
  t.same(config.problems.map((p) => [p.severity, p.line, p.resource]), [['warning', 1, 'Delay::5']]);
  const text = renderCrmConfig(config);
  t.match(text, /location group_1-on-node2 group_1 50: node2/);
  t.match(text, /resource-stickiness=0/);
  t.match(text, /# Delay::5: lsb resources take no arguments; 5 dropped/);
});

t.test('arguments our agents refuse are errors naming the line, never guessed', async (t) => {
  const parsed = parseHaresources('master1 IPaddr::198.18.4.1/16/eth1\nmaster1 Filesystem::/dev/drbd1 IPaddr::198.18.4.1/16/eth1/x/y Filesystem::/dev/sdb1::data\n');
  const config = buildCrmConfig(parsed, agents);
  t.same(config.problems.map((p) => [p.severity, p.line, p.resource]), [
    ['error', 2, 'Filesystem::/dev/drbd1'],
    ['error', 2, 'IPaddr::198.18.4.1/16/eth1/x/y'],
    ['error', 2, 'Filesystem::/dev/sdb1::data'],
  ]);
  t.match(config.problems[0]!.message, /missing arguments/);
  t.match(config.problems[2]!.message, /directory "data" is not an absolute path/);
});

t.test('ids and values', async (t) => {
  t.equal(crmId('192.168.4.1'), 'r_192_168_4_1');
  t.equal(crmId('a b/c'), 'a_b_c');
  t.equal(crmValue('/dev/drbd1'), '/dev/drbd1');
  t.equal(crmValue('fd00::10'), 'fd00::10');
  t.equal(crmValue('--skip-networking --x'), '"--skip-networking --x"');
  t.equal(crmValue('a"b'), '"a\\"b"');
});
