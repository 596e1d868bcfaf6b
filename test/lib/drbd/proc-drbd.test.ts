import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseProcDrbd } from '../../../lib/drbd/proc-drbd.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/drbd/${name}`, import.meta.url), 'utf8');

t.test('/proc/drbd of 8.0 (st:), 8.3 and 8.4 (ro:), unconfigured minors, and 9 (header only)', async (t) => {
  const cases: [string, string | undefined, [number, object][]][] = [
    ['proc-drbd-8.3.13-tutorial-master1.txt', '8.3.13', [[1, { cs: 'Connected', role: 'Primary', peerRole: 'Secondary', disk: 'UpToDate', peerDisk: 'UpToDate' }]]],
    ['proc-drbd-8.3.13-tutorial-master2.txt', '8.3.13', [[1, { cs: 'Connected', role: 'Secondary', peerRole: 'Primary' }]]],
    ['proc-drbd-8.3.13-tutorial-master2-peer-down.txt', '8.3.13', [[1, { cs: 'WFConnection', role: 'Secondary', peerRole: 'Unknown', peerDisk: 'DUnknown' }]]],
    ['proc-drbd-8.3.11-two-minors.txt', '8.3.11', [[0, { role: 'Primary', peerDisk: 'Outdated' }], [1, { role: 'Primary', peerDisk: 'Inconsistent' }]]],
    ['proc-drbd-8.0.13-st-primary.txt', '8.0.13', [[0, { cs: 'Connected', role: 'Primary', peerRole: 'Secondary' }]]],
    ['proc-drbd-8.0.13-st-standalone.txt', '8.0.13', [[0, { cs: 'StandAlone', role: 'Secondary', peerRole: 'Unknown' }]]],
    ['proc-drbd-8.4-unconfigured-minor.txt', '8.4.11-1', [[0, { cs: 'Connected', role: 'Secondary' }], [1, { cs: 'Unconfigured', role: undefined }]]],
    ['proc-drbd-9.0.6.txt', '9.0.6-1', []],
  ];
  for (const [name, version, devices] of cases) {
    const parsed = parseProcDrbd(fixture(name));
    t.equal(parsed.version, version, name);
    t.equal(parsed.devices.size, devices.length, `${name}: device count`);
    for (const [minor, expected] of devices) t.match(parsed.devices.get(minor), { minor, ...expected }, `${name}: minor ${minor}`);
  }
  t.equal(parseProcDrbd('').devices.size, 0);
});
