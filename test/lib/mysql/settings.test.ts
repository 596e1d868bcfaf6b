import t from 'tap';
import { fileURLToPath } from 'node:url';
import { readOptionFiles, type OptionEntry } from '../../../lib/mysql/mycnf.ts';
import { resolveBinaryPath, resolveServerSettings, defaultServerBinary, unreachableFromVip } from '../../../lib/mysql/settings.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/mycnf/', import.meta.url));
const fixture = (name: string) => readOptionFiles([`${FIXTURES}${name}`]);
const mariadbOnly = (p: string) => p === '/usr/sbin/mariadbd';

t.test('what the server will use, from config and parameters', async (t) => {
  const cases: [string, OptionEntry[], Record<string, string>, Record<string, unknown>][] = [
    ['no config at all: compiled defaults, pid and log named after the host, in the datadir', [], {}, {
      datadir: '/var/lib/mysql', socket: '/run/mysqld/mysqld.sock', pidFile: '/var/lib/mysql/master1.pid', logError: '/var/lib/mysql/master1.err', user: 'mysql', group: 'mysql', logBin: undefined, binary: '/usr/sbin/mariadbd', underMysqldSafe: false,
    }],
    ["the tutorial's my.cnf: [mysqld_safe] pid-file and log-error are honoured, log-bin outside the datadir", fixture('tutorial-centos6-my.cnf'), {}, {
      datadir: '/var/lib/mysql', socket: '/var/lib/mysql/mysql.sock', pidFile: '/var/run/mysqld/mysqld.pid', logError: '/var/log/mysqld.log', logBin: '/usr/local/mysql/mysql-bin',
      origin: { datadir: 'config', pidFile: 'config', socket: 'config', logError: 'config', user: 'config' },
    }],
    ['the tutorial with datadir=/data in my.cnf', fixture('tutorial-data-my.cnf'), {}, { datadir: '/data', logBin: '/usr/local/mysql/mysql-bin' }],
    ['parameters override the config', fixture('tutorial-data-my.cnf'), { datadir: '/srv/db/', pid: 'db.pid', socket: '/tmp/s.sock', user: 'dbuser', group: 'dbgroup', log: '/var/log/db.err', binary: '/usr/bin/mysqld_safe' }, {
      datadir: '/srv/db', pidFile: '/srv/db/db.pid', socket: '/tmp/s.sock', user: 'dbuser', group: 'dbgroup', logError: '/var/log/db.err', binary: '/usr/bin/mysqld_safe', underMysqldSafe: true,
      origin: { datadir: 'parameter', pidFile: 'parameter' },
    }],
    ['edge cases: relative log-error in the datadir, log-bin switched off again', fixture('edge-cases.cnf'), {}, { datadir: '/srv/my data', logError: '/srv/my data/mysqld.err', logBin: undefined, socket: '/run/my sql/mysqld.sock' }],
  ];
  for (const [what, entries, params, expected] of cases) t.match(resolveServerSettings(entries, params, 'master1.example.com', mariadbOnly), expected, what);
});

t.test('log-bin forms', async (t) => {
  const cases: [string, string | undefined][] = [
    ['[mysqld]\nlog-bin\n', '/data/master1-bin'],
    ['[mysqld]\nlog-bin = mysql-bin\n', '/data/mysql-bin'],
    ['[mysqld]\nlog-bin = /binlogs/mysql-bin\n', '/binlogs/mysql-bin'],
    ['[mysqld]\nlog-bin = OFF\n', undefined],
    ['[mysqld]\nlog-bin = x\nskip-log-bin\n', undefined],
    ['[mysqld]\nlog-basename = node\nlog-bin\n', '/data/node-bin'],
    ['[mysqld]\n', undefined],
  ];
  for (const [text, expected] of cases) {
    const entries = readOptionFiles(['/my.cnf'], { readFile: () => text, listDir: () => [] });
    t.equal(resolveServerSettings(entries, { datadir: '/data' }, 'master1').logBin, expected, JSON.stringify(text));
  }
});

t.test('default binary: the first server binary that exists', async (t) => {
  t.equal(defaultServerBinary((p) => p === '/usr/sbin/mysqld'), '/usr/sbin/mysqld');
  t.equal(defaultServerBinary((p) => p === '/usr/local/mysql/bin/mysqld'), '/usr/local/mysql/bin/mysqld', "the tutorial's source build");
  t.equal(defaultServerBinary(() => false), '/usr/sbin/mariadbd', 'none: name the usual one (start then says it is missing)');
});

t.test('binary: a bare name is looked up in PATH', async (t) => {
  const exists = (p: string) => p === '/usr/sbin/mariadbd';
  t.equal(resolveBinaryPath('mariadbd', '/usr/bin:/usr/sbin', exists), '/usr/sbin/mariadbd');
  t.equal(resolveBinaryPath('no_such', '/usr/bin:/usr/sbin', exists), 'no_such', 'not found: left as given (start says it is missing)');
  t.equal(resolveBinaryPath('/opt/mysqld', '/usr/sbin', exists), '/opt/mysqld', 'a path is taken as given');
});

t.test('a server clients following the VIP cannot reach', async (t) => {
  const cases: [Parameters<typeof unreachableFromVip>[0], RegExp | undefined][] = [
    [{ bindAddress: '127.0.0.1', skipNetworking: false }, /bind-address is 127\.0\.0\.1/],
    [{ bindAddress: '::1', skipNetworking: false }, /::1/],
    [{ bindAddress: '0.0.0.0', skipNetworking: false }, undefined],
    [{ bindAddress: undefined, skipNetworking: false }, undefined],
    [{ bindAddress: '198.18.4.1', skipNetworking: false }, undefined],
    [{ bindAddress: undefined, skipNetworking: true }, /skip-networking/],
  ];
  for (const [settings, expected] of cases) {
    const why = unreachableFromVip(settings);
    if (expected) t.match(why, expected, JSON.stringify(settings));
    else t.equal(why, undefined, JSON.stringify(settings));
  }
  const debian = resolveServerSettings(readOptionFiles(['/x'], { readFile: () => '[mysqld]\nbind-address = 127.0.0.1\n', listDir: () => [] }), {});
  t.match(unreachableFromVip(debian), /only local clients/, "Debian's default 50-server.cnf");
  const sandbox = resolveServerSettings(readOptionFiles(['/x'], { readFile: () => '[mysqld]\nskip-networking\n', listDir: () => [] }), {});
  t.equal(sandbox.skipNetworking, true);
});
