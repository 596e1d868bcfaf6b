import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  effectiveOptions, normaliseOptionName, OPTION_OFF, parseOptionFileText, parseOptionValue, readOptionFiles,
  SERVER_GROUPS, MYSQLD_SAFE_GROUPS, type OptionFileSource,
} from '../../../lib/mysql/mycnf.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/mycnf/', import.meta.url));

/** The real file system, with /etc/mysql/ mapped onto the Debian fixture tree. */
const debianSource: OptionFileSource = {
  readFile: (path) => readFileSync(path.replace(/^\/etc\/mysql\//, `${FIXTURES}debian12-etc-mysql/`), 'utf8'),
  listDir: (path) => readdirSync(path.replace(/^\/etc\/mysql\/?/, `${FIXTURES}debian12-etc-mysql/`)),
};

/** An in-memory tree for include rules. */
const memory = (files: Record<string, string>): OptionFileSource => ({
  readFile: (path) => {
    if (!(path in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return files[path]!;
  },
  listDir: (path) => {
    const names = Object.keys(files).filter((f) => f.startsWith(`${path}/`)).map((f) => f.slice(path.length + 1));
    if (!names.length) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return names.reverse();
  },
});

t.test('option names: case, dashes and underscores alike, loose- dropped', async (t) => {
  const cases: [string, string][] = [
    ['datadir', 'datadir'],
    ['pid-file', 'pid_file'],
    ['pid_file', 'pid_file'],
    ['loose-innodb-flush-log-at-trx-commit', 'innodb_flush_log_at_trx_commit'],
    ['loose_log_bin', 'log_bin'],
    ['Innodb_Buffer_Pool_Size', 'innodb_buffer_pool_size'],
    ['  bind-address ', 'bind_address'],
  ];
  for (const [raw, expected] of cases) t.equal(normaliseOptionName(raw), expected, raw);
});

t.test('option values: quotes, escapes, end comments (my_default.c rules)', async (t) => {
  const cases: [string, string][] = [
    [' /data ', '/data'],
    ['/data # comment', '/data'],
    ['/data#comment', '/data'],
    ['"/my data"', '/my data'],
    ["'/my data'", '/my data'],
    ['"p#ss"  # real comment', 'p#ss'],
    ["'it''s'", "it''s"],
    ['a\\sb', 'a b'],
    ['C:\\\\dir', 'C:\\dir'],
    ['tab\\there', 'tab\there'],
    ['\\x stays', '\\x stays'],
    ['"unbalanced', '"unbalanced'],
    ['', ''],
  ];
  for (const [raw, expected] of cases) t.equal(parseOptionValue(raw), expected, JSON.stringify(raw));
});

t.test('lines: groups, options, bare options, directives, comments', async (t) => {
  t.same(parseOptionFileText('# c\n; c\n[MySQLd]\nskip-networking\nport = 3307\n!include /a.cnf\n!includedir /b/\n!unknown x'), [
    { kind: 'group', group: 'mysqld', line: 3 },
    { kind: 'option', name: 'skip_networking', value: undefined, line: 4 },
    { kind: 'option', name: 'port', value: '3307', line: 5 },
    { kind: 'include', path: '/a.cnf', line: 6 },
    { kind: 'includedir', path: '/b/', line: 7 },
  ]);
});

t.test("Debian 12's /etc/mysql tree: includedir order, [client-server] socket, [mysqld] pid-file", async (t) => {
  const entries = readOptionFiles(['/etc/my.cnf', '/etc/mysql/my.cnf'], debianSource, { optional: true });
  const files = [...new Set(entries.map((e) => e.file))];
  t.same(files, [
    '/etc/mysql/my.cnf',
    '/etc/mysql/conf.d/mysqldump.cnf',
    '/etc/mysql/mariadb.conf.d/50-mysqld_safe.cnf',
    '/etc/mysql/mariadb.conf.d/50-server.cnf',
    '/etc/mysql/mariadb.conf.d/provider_bzip2.cnf',
    '/etc/mysql/mariadb.conf.d/provider_lz4.cnf',
    '/etc/mysql/mariadb.conf.d/provider_lzma.cnf',
    '/etc/mysql/mariadb.conf.d/provider_lzo.cnf',
    '/etc/mysql/mariadb.conf.d/provider_snappy.cnf',
  ], 'files with options, in the order the server reads them (/etc/my.cnf absent, skipped)');
  const server = effectiveOptions(entries, SERVER_GROUPS);
  t.equal(server.get('socket'), '/run/mysqld/mysqld.sock', 'socket from [client-server]');
  t.equal(server.get('pid_file'), '/run/mysqld/mysqld.pid');
  t.equal(server.get('bind_address'), '127.0.0.1');
  t.equal(server.get('character_set_server'), 'utf8mb4');
  t.notOk(server.has('datadir'), 'Debian sets no datadir: the compiled default applies');
  t.notOk(server.has('max_allowed_packet'), '[mysqldump] is not a server group');
  const safe = effectiveOptions(entries, MYSQLD_SAFE_GROUPS);
  t.equal(safe.get('nice'), '0');
  t.equal(safe.get('log_error'), OPTION_OFF, 'skip_log_error switches log-error off for mysqld_safe');
});

t.test("the tutorial's my.cnf (CentOS 6 default + log-bin, server-id)", async (t) => {
  const entries = readOptionFiles([`${FIXTURES}tutorial-centos6-my.cnf`]);
  const server = effectiveOptions(entries, SERVER_GROUPS);
  t.equal(server.get('log_bin'), '/usr/local/mysql/mysql-bin');
  t.equal(server.get('server_id'), '3');
  t.equal(server.get('datadir'), '/var/lib/mysql');
  t.notOk(server.has('pid_file'), 'pid-file is only in [mysqld_safe]');
  const safe = effectiveOptions(entries, MYSQLD_SAFE_GROUPS);
  t.equal(safe.get('pid_file'), '/var/run/mysqld/mysqld.pid');
  t.equal(safe.get('log_error'), '/var/log/mysqld.log');
});

t.test('edge cases: later groups override earlier ones, skip- turns options off, versioned groups ignored', async (t) => {
  const entries = readOptionFiles([`${FIXTURES}edge-cases.cnf`]);
  const server = effectiveOptions(entries, SERVER_GROUPS);
  const expected: [string, string | undefined][] = [
    ['datadir', '/srv/my data'],
    ['socket', '/run/my sql/mysqld.sock'],
    ['innodb_flush_log_at_trx_commit', '1'],
    ['innodb_buffer_pool_size', '64M'],
    ['skip_networking', undefined],
    ['networking', OPTION_OFF],
    ['log_bin', OPTION_OFF],
    ['tmpdir', '/tmp\\mysql dir'],
    ['bind_address', '0.0.0.0'],
  ];
  for (const [name, value] of expected) t.equal(server.get(name), value, name);
  t.ok(server.has('skip_networking'));
  const client = effectiveOptions(entries, ['client']);
  t.equal(client.get('password'), 'p#ss word');
  t.equal(client.get('user'), 'mon');
  t.equal(effectiveOptions(entries, MYSQLD_SAFE_GROUPS).get('log_error'), 'mysqld.err', 'group names are case-insensitive');
});

t.test('includes: relative paths, *.cnf only in name order, missing files are errors, loops are bounded', async (t) => {
  const files = {
    '/etc/my.cnf': '[mysqld]\ndatadir=/a\n!include extra.cnf\n!includedir /etc/my.cnf.d\nport=1\n',
    '/etc/extra.cnf': '[mysqld]\ndatadir=/b\n',
    '/etc/my.cnf.d/20-z.cnf': '[mysqld]\ndatadir=/d\n',
    '/etc/my.cnf.d/10-a.cnf': '[mysqld]\ndatadir=/c\nport=2\n',
    '/etc/my.cnf.d/README': '[mysqld]\ndatadir=/not-a-cnf\n',
  };
  const entries = readOptionFiles(['/etc/my.cnf'], memory(files));
  t.same(entries.filter((e) => e.name === 'datadir').map((e) => e.value), ['/a', '/b', '/c', '/d']);
  t.throws(() => readOptionFiles(['/etc/my.cnf'], memory({ ...files, '/etc/extra.cnf': 'orphan=1\n[mysqld]\n' })), /extra\.cnf line 1/, 'an included file starts outside any group');
  const server = effectiveOptions(entries, SERVER_GROUPS);
  t.equal(server.get('datadir'), '/d');
  t.equal(server.get('port'), '1', 'a line after the includes overrides them');
  t.throws(() => readOptionFiles(['/etc/my.cnf'], memory({ '/etc/my.cnf': '!include /nope.cnf\n' })), /cannot read option file \/nope\.cnf/);
  t.throws(() => readOptionFiles(['/nope.cnf'], memory({})), /cannot read option file \/nope\.cnf: it does not exist \(ENOENT\)/);
  t.same(readOptionFiles(['/nope.cnf'], memory({}), { optional: true }), [], 'an absent default file is skipped');
  t.throws(() => readOptionFiles(['/loop.cnf'], memory({ '/loop.cnf': '!include /loop.cnf\n' })), /nest deeper/);
});

t.test('lines the server refuses are errors naming file and line (my_print_defaults: "Fatal error in defaults handling")', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['passwd', 'root:x:0:0:root:/root:/bin/bash\n', /^option file \/c\/passwd line 1: .*before any \[group\] header/],
    ['unclosed', '# x\n[mysqld\ndatadir=/x\n', /^option file \/c\/unclosed line 2: group header "\[mysqld" has no closing "\]"/],
    ['include', '[mysqld]\n!include\n', /^option file \/c\/include line 2: !include without a file name/],
  ];
  for (const [name, text, message] of cases) {
    t.throws(() => readOptionFiles([`/c/${name}`], memory({ [`/c/${name}`]: text })), { name: 'OptionFileError', message }, name);
  }
  t.throws(() => readOptionFiles(['/c/top'], memory({ '/c/top': '[mysqld]\n!include /c/bad\n', '/c/bad': 'x=1\n' })), { message: /^option file \/c\/bad line 1:/ }, 'in an included file too');
});
