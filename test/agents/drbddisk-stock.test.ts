import t from 'tap';
import { execa } from 'execa';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resourceManagerReadsAsHeld } from '../../lib/contract/status-text.ts';
import { runAgent } from '../rig/agents.ts';
import { DRBD_VERSIONS, DrbdDouble } from '../rig/drbd-double.ts';

// drbd-utils' stock drbddisk (/etc/ha.d/resource.d/drbddisk) and ours on the
// same states of the double, read through heartbeat's own status matching.
// The stock script hard-codes /etc/default/drbd and /proc/drbd; its copy here
// differs in exactly those two paths (the host's files are never touched).

const STOCK = '/etc/ha.d/resource.d/drbddisk';
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/drbd/${name}`, import.meta.url));

function stockCopy(dir: string, procDrbd: string): { script: string; defaults: string } {
  const text = readFileSync(STOCK, 'utf8');
  const defaults = join(dir, 'default-drbd');
  const script = join(dir, 'drbddisk-stock');
  const patched = text.replace('DEFAULTFILE="/etc/default/drbd"', `DEFAULTFILE="${defaults}"`).replaceAll('/proc/drbd', procDrbd);
  t.not(patched, text, 'the stock script still has the two paths we redirect');
  writeFileSync(script, patched);
  chmodSync(script, 0o755);
  return { script, defaults };
}

for (const version of DRBD_VERSIONS) {
  t.test(`drbd ${version}: drbdadm fails and the role is unknown: stock reads as released, ours as held`, async (t) => {
    const drbd = DrbdDouble.create(version, `drbddisk-stock-${process.pid}-`).defineResource('data');
    t.teardown(() => drbd.cleanup());
    drbd.setRole('data', 'master1', 'Primary').setRole('data', 'master2', 'Secondary');
    const proc = version === '9' ? fixture('proc-drbd-9.0.6.txt') : fixture('proc-drbd-8.3.13-tutorial-master1.txt');
    const { script, defaults } = stockCopy(drbd.stateDir, proc);
    writeFileSync(defaults, `DRBDADM=${drbd.env('master1').DRBDADM}\n`);
    const env = { ...drbd.env('master1'), HA_RSCTMP: drbd.stateDir, DRBD_PROC_FILE: proc };

    // Healthy: both say the same.
    const stockOk = await execa(script, ['data', 'status'], { env, reject: false });
    const oursOk = await runAgent('drbddisk', ['data', 'status'], { env });
    t.equal(stockOk.stdout, 'running (Primary)');
    t.equal(oursOk.stdout, 'running (Primary)');

    // The configuration no longer parses: every drbdadm call fails, including the sh-dev the
    // /proc/drbd fallback needs (and drbd 9's /proc/drbd has no per-device lines anyway).
    drbd.injectFailure('data', 'all', 10, "/etc/drbd.conf:22: Parse error: 'an option keyword' expected,\n\tbut got 'unplug-watermark'");
    drbd.injectFailure('data', 'setup-status', 20, "Could not connect to 'drbd' generic netlink family");
    const stock = await execa(script, ['data', 'status'], { env, reject: false });
    const ours = await runAgent('drbddisk', ['data', 'status'], { env });
    t.equal(stock.stdout, 'cannot determine status, may be running (Unknown)', `stock: ${stock.stderr}`);
    t.equal(stock.exitCode, 4);
    t.notOk(resourceManagerReadsAsHeld(stock.stdout), 'ResourceManager reads the stock words as NOT held: it would start the group elsewhere while this node may be Primary');
    t.match(ours.stdout, /^running \(role unknown: /);
    t.ok(resourceManagerReadsAsHeld(ours.stdout), 'ResourceManager reads ours as held: it errs on the safe side');
  });
}
