import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { logTail, serverArguments } from '../../../lib/mysql/server.ts';
import { resolveServerSettings } from '../../../lib/mysql/settings.ts';

t.test('server command line: --defaults-file first, then everything the agent relies on, explicitly', async (t) => {
  const settings = resolveServerSettings([], { datadir: '/data', socket: '/run/mysqld/mysqld.sock', pid: '/run/mysqld/mysqld.pid', log: '/var/log/mysql/error.log' }, 'master1');
  t.same(serverArguments(settings, '/etc/ha.d/my.cnf', ['--skip-networking']), [
    '--defaults-file=/etc/ha.d/my.cnf',
    '--datadir=/data',
    '--user=mysql',
    '--pid-file=/run/mysqld/mysqld.pid',
    '--socket=/run/mysqld/mysqld.sock',
    '--log-error=/var/log/mysql/error.log',
    '--skip-networking',
  ]);
  t.equal(serverArguments(settings, undefined, [])[0], '--datadir=/data', 'no config named: the server reads its default files itself');
  t.notOk(serverArguments(settings, undefined, []).some((a) => /pass/i.test(a)), 'no password on the command line, ever');
});

t.test('error log tail: only what this start wrote, last lines, blank lines dropped', async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/ha-mysqld-tail-${process.pid}-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = `${dir}/error.log`;
  writeFileSync(log, 'old 1\nold 2\n');
  const from = 12;
  appendFileSync(log, '2026-11-25 [Note] Starting\n\n2026-11-25 [ERROR] unknown variable x\n2026-11-25 [ERROR] Aborting\n');
  t.same(logTail(log, from, 2), ['2026-11-25 [ERROR] unknown variable x', '2026-11-25 [ERROR] Aborting']);
  t.same(logTail(log, from, 10), ['2026-11-25 [Note] Starting', '2026-11-25 [ERROR] unknown variable x', '2026-11-25 [ERROR] Aborting']);
  t.same(logTail(`${dir}/none.log`, 0), [], 'no log: nothing to quote');
  t.same(logTail(log, 10_000, 1), ['2026-11-25 [ERROR] Aborting'], 'a log rotated (now shorter than where we started): read it from the top');
});
