import t from 'tap';
import agent from '../../agents/drbddisk.ts';
import { checkFits, fuzzCase } from './generators.ts';
import { fuzz, fuzzSeed, regressions } from './harness.ts';
import { REGRESSIONS } from './regressions.ts';
import { drbddiskRigs, type Rigs } from './rigs.ts';

// drbddisk, v1 and OCF, generated from its parameter table, against the
// drbdadm double (rigs.ts: r0 promotable, r1 Outdated, r2 StandAlone, r3
// down, r4 Primary here). A start that promotes is undone by its stop
// (harness.ts); a stop may demote (then the rig is restored); any other
// change of a role is a failure.

const ATOMS = ['r0', 'r1', 'r2', 'r3', 'r9', 'all', '{{conf}}', '/etc/drbd.conf', '0', '1', '2'];
const FITS = { drbd_resource: ['r0', 'r1', 'r2', 'r3', 'r4', 'r9', 'all'], drbdconf: ['{{conf}}', ''], peer_wait: ['0', '1'], demote_wait: ['0', '1'] };
const WORKERS = Number(process.env.FUZZ_WORKERS) || 3;

const RIG = { atoms: ATOMS, fits: FITS };

let rigs: Rigs | undefined;
t.before(() => {
  rigs = drbddiskRigs(WORKERS);
});
t.teardown(async () => rigs?.destroy());

t.test('the rig values fit parameters of the table', async (t) => t.doesNotThrow(() => checkFits(agent, RIG)));
t.test('regressions', async (t) => regressions(t, agent, REGRESSIONS.drbddisk!, rigs!.workers[0]!));
t.test('fuzz', async (t) => fuzz(t, agent, fuzzCase(agent, RIG), rigs!.workers, { cases: 1000, seed: fuzzSeed(15_302), timeLimitMs: 200_000 }));
