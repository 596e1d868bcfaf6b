import t from 'tap';
import agent from '../../agents/mysqld.ts';
import { checkFits, fuzzCase, type FuzzCase } from './generators.ts';
import { fuzz, fuzzSeed, regressions } from './harness.ts';
import { REGRESSIONS } from './regressions.ts';
import { mysqldRigs, type Rigs } from './rigs.ts';

// mysqld, v1 and OCF, generated from its parameter table. The rig's option
// file names a datadir that is not initialised, so no start can start a
// server (the agent never initialises one); the process check catches any
// server that appears on the rig's datadirs or /var/lib/mysql.
// Excluded by construction: calls that name *no* option file (v1 without an
// argument, OCF without OCF_RESKEY_config or with it empty). They read this
// machine's /etc/mysql/my.cnf, whose datadir (/var/lib/mysql) the Debian
// package initialised: a valid start there would start the host's MariaDB.
// A v1 argument that is present but empty stays in: it must be refused.

const ATOMS = [
  '{{cnf}}', '{{badcnf}}', '/etc/passwd', '{{root}}/nonexistent.cnf', '{{root}}', '{{datadir}}', '{{empty}}', '{{run}}/mysqld.sock', '{{run}}/mysqld.pid', '{{creds}}',
  '/usr/sbin/mariadbd', '/bin/true', '/usr/bin/mysqld_safe', 'mariadbd', 'mysql', 'root', 'nobody', 'mysql.user', '--skip-networking', '--port=0',
];
const FITS = {
  config: ['{{cnf}}', '{{cnf}}', '{{badcnf}}', '/etc/passwd', '{{root}}/nonexistent.cnf', '{{root}}'],
  binary: ['/usr/sbin/mariadbd', '/bin/true', '/usr/bin/mysqld_safe', ''],
  datadir: ['{{datadir}}', '{{empty}}', '{{root}}/nodir', ''],
  user: ['mysql', 'root', 'nobody', 'nosuchuser', ''],
  group: ['mysql', 'root', ''],
  log: ['{{run}}/error.log', ''],
  pid: ['{{run}}/mysqld.pid', ''],
  socket: ['{{run}}/mysqld.sock', ''],
  test_credentials_file: ['{{creds}}', '{{badcnf}}', ''],
  shutdown_timeout: ['1', '5', ''],
  datadir_mountpoint: ['{{root}}', '/', ''],
};
const WORKERS = Number(process.env.FUZZ_WORKERS) || 3;

function namesAnOptionFile(c: FuzzCase): FuzzCase {
  if (c.mode === 'v1') return c.args.length ? c : { ...c, args: ['{{cnf}}'] };
  return c.env.OCF_RESKEY_config ? c : { ...c, env: { ...c.env, OCF_RESKEY_config: '{{cnf}}' } };
}

const RIG = { atoms: ATOMS, fits: FITS };

let rigs: Rigs | undefined;
t.before(async () => {
  rigs = await mysqldRigs(WORKERS);
});
t.teardown(async () => rigs?.destroy());

t.test('the rig values fit parameters of the table', async (t) => t.doesNotThrow(() => checkFits(agent, RIG)));
t.test('regressions', async (t) => regressions(t, agent, REGRESSIONS.mysqld!, rigs!.workers[0]!));
t.test('fuzz', async (t) => fuzz(t, agent, fuzzCase(agent, RIG).map(namesAnOptionFile), rigs!.workers, { cases: 1000, seed: fuzzSeed(15_304), timeLimitMs: 200_000 }));
