import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './agents.ts';
import { parseCrmMon } from './pacemaker.ts';

// The Pacemaker rig reads the cluster through `crm_mon -1 --output-as=xml`
// (pacemaker 2.1.5). Fixture: captured on the rig with the stock group on
// master1 while Pacemaker recovered mysql after a kill -9 of mariadbd.
const xml = readFileSync(resolve(ROOT, 'test/fixtures/pacemaker/crm_mon-stock-group-monitor-failure.xml'), 'utf8');

t.test('DC, online nodes, group members in order, agents, where each runs', async (t) => {
  const s = parseCrmMon(xml);
  t.equal(s.dc, 'master1');
  t.same(s.online, ['master1', 'master2', 'master3']);
  t.same(s.groups, { mysql_group: ['vip', 'drbd_data', 'fs_data', 'mysql'] });
  t.equal(s.agents.vip, 'ocf:heartbeat:IPaddr2');
  t.equal(s.agents.drbd_data, 'ocf:hara:drbddisk');
  t.equal(s.agents.fence_rig, 'stonith:fence_hara');
  t.same(s.active.mysql, ['master1']);
  t.same(s.active.fence_rig, ['master1']);
});

t.test('failed operations: resource from the op key, node, exit status when there is no reason', async (t) => {
  t.same(parseCrmMon(xml).failures, [{ resource: 'mysql', node: 'master1', op: 'mysql_monitor_10000', rc: 'not running' }]);
});

t.test('a node that is offline and no DC yet', async (t) => {
  const offline = xml.replace('<node name="master3" id="3" online="true"', '<node name="master3" id="3" online="false"').replace('present="true"', 'present="false"');
  const s = parseCrmMon(offline);
  t.same(s.online, ['master1', 'master2']);
  t.equal(s.dc, undefined);
});

t.test('nothing configured: empty maps, no crash', async (t) => {
  t.same(parseCrmMon('<pacemaker-result><nodes></nodes></pacemaker-result>'), { online: [], active: {}, agents: {}, groups: {}, failures: [] });
});
