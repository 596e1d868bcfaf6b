import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { credentialsFileModeProblem, readCredentialsFile } from '../../../lib/mysql/credentials.ts';

t.test('credentials file owner and mode', async (t) => {
  const cases: [number, number, boolean, RegExp | undefined][] = [
    [0o100600, 0, true, undefined],
    [0o100400, 0, true, undefined],
    [0o100600, 1000, true, /owned by uid 1000/],
    [0o100640, 0, true, /mode 0640.*0600 or stricter/],
    [0o100604, 0, true, /mode 0604/],
    [0o100660, 0, true, /mode 0660/],
    [0o040700, 0, false, /not a regular file/],
  ];
  for (const [mode, uid, isFile, expected] of cases) {
    const problem = credentialsFileModeProblem({ mode, uid, isFile }, 0);
    if (expected) t.match(problem, expected, mode.toString(8));
    else t.equal(problem, undefined, mode.toString(8));
  }
  t.equal(credentialsFileModeProblem({ mode: 0o100600, uid: 1000, isFile: true }, 1000), undefined, 'owned by the caller');
});

t.test('reads [client] user and password (debian.cnf format), refuses loose files', async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/ha-mysqld-creds-${process.pid}-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = `${dir}/monitor.cnf`;
  writeFileSync(file, '# like /etc/mysql/debian.cnf\n[client]\nhost = localhost\nuser = hamon\npassword = "s3cret # not a comment"\nsocket = /run/mysqld/mysqld.sock\n[mysql_upgrade]\nuser = other\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  t.same(readCredentialsFile(file), { user: 'hamon', password: 's3cret # not a comment' });
  chmodSync(file, 0o644);
  t.throws(() => readCredentialsFile(file), /is mode 0644/);
  t.throws(() => readCredentialsFile(`${dir}/none.cnf`), /cannot be read: ENOENT/);
});
