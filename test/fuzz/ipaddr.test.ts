import t from 'tap';
import agent from '../../agents/ipaddr.ts';
import { checkFits, fuzzCase } from './generators.ts';
import { fuzz, fuzzSeed, regressions } from './harness.ts';
import { REGRESSIONS } from './regressions.ts';
import { ipaddrRigs, type Rigs } from './rigs.ts';

// IPaddr, v1 and OCF, generated from its parameter table; the rig is a
// namespace with eth1 = 198.18.0.1/24 + fd00::1/64. The atoms are what
// exists there (or plainly does not: eth9, 198.18.9.9 with no route). The
// rig's own base addresses are never generated: a stop naming them would
// rightly remove them. The rig holds two VIPs (198.18.0.9, fd00::9) that a
// stop may release (and nothing else; rigs.ts puts them back). A start that
// adds an address is undone by its stop (harness.ts).

const ATOMS = ['198.18.0.5', '198.18.0.77', '198.18.9.9', 'fd00::5', 'fd00:9::9', 'fe80::5', '24', '16', '32', '64', '255.255.255.0', 'eth1', 'eth1:fz', 'eth9', 'lo', '198.18.0.255', '+', '-'];
const FITS = {
  ip: ['198.18.0.5', '198.18.0.77', '198.18.9.9', 'fd00::5', 'fd00:9::9', 'fe80::5', '198.18.0.9', 'fd00::9'],
  cidr_netmask: ['24', '16', '32', '64', '255.255.255.0'],
  nic: ['eth1', 'eth9', 'lo'],
  iflabel: ['fz', '0', '1'],
  broadcast: ['198.18.0.255', '+', '-'],
  arp_count: ['0', '1', '3'],
  arp_interval: ['1', '50', '200'],
};
const WORKERS = Number(process.env.FUZZ_WORKERS) || 3;

const RIG = { atoms: ATOMS, fits: FITS };

let rigs: Rigs | undefined;
t.before(async () => {
  rigs = await ipaddrRigs(WORKERS);
});
t.teardown(async () => rigs?.destroy());

t.test('the rig values fit parameters of the table', async (t) => t.doesNotThrow(() => checkFits(agent, RIG)));
t.test('regressions', async (t) => regressions(t, agent, REGRESSIONS.IPaddr!, rigs!.workers[0]!));
t.test('fuzz', async (t) => fuzz(t, agent, fuzzCase(agent, RIG), rigs!.workers, { cases: 1000, seed: fuzzSeed(15_301), timeLimitMs: 200_000 }));
