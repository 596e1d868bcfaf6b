import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseResourceState } from '../../../lib/drbd/resource-state.ts';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/drbd/${name}`, import.meta.url)), 'utf8');

t.test('drbd 8.3: drbdadm-83 status XML', async (t) => {
  const xml = (attrs: string) => `<drbd-status version="9.22.0" api="88">\n<resources config_file="/etc/drbd.conf">\n<resource minor="1" name="data" ${attrs} />\n</resources>\n</drbd-status>\n`;
  t.same(parseResourceState(xml('cs="Connected" ro1="Secondary" ro2="Primary" ds1="UpToDate" ds2="UpToDate"'), 'data'), { role: 'Secondary', disks: ['UpToDate'], connections: ['Connected'] });
  t.same(parseResourceState(xml('cs="StandAlone" ro1="Secondary" ro2="Unknown" ds1="Outdated" ds2="DUnknown"'), 'data'), { role: 'Secondary', disks: ['Outdated'], connections: ['StandAlone'] });
  t.same(parseResourceState(xml('cs="Unconfigured"'), 'data'), { role: 'Unconfigured', disks: [], connections: [] });
  t.equal(parseResourceState(xml('cs="Connected" ro1="Secondary"'), 'data'), undefined, 'no disk state: not an answer');
  t.equal(parseResourceState(xml('cs="Connected" ro1="Primary" ds1="UpToDate"'), 'other'), undefined, 'another resource');
});

t.test('drbd 9: drbdadm status text', async (t) => {
  t.same(parseResourceState('data role:Secondary\n  disk:UpToDate\n  master2 role:Primary\n    peer-disk:UpToDate\n\n', 'data'), { role: 'Secondary', disks: ['UpToDate'], connections: ['Connected'] });
  t.same(parseResourceState('data role:Secondary\n  disk:Diskless client:no\n  master2 connection:Connecting\n\n', 'data'), { role: 'Secondary', disks: ['Diskless'], connections: ['Connecting'] });
  t.same(parseResourceState(fixture('drbdsetup-status-9-standalone.txt'), 'data'), { role: 'Secondary', disks: ['Outdated'], connections: ['StandAlone'] }, 'StandAlone fixture');
  t.equal(parseResourceState('', 'data'), undefined);
  t.equal(parseResourceState('something else entirely\n', 'data'), undefined);
});
