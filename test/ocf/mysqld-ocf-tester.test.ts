import t from 'tap';
import { execa } from 'execa';
import { agentPath } from '../rig/agents.ts';
import { destroySandboxes, makeSandbox, serverPidsOn } from '../rig/mariadb.ts';

// Debian's ocf-tester against the built mysqld with real parameters: a
// throwaway MariaDB (socket only) that it starts, monitors and stops.

t.teardown(destroySandboxes);

t.test('ocf-tester passes for mysqld on a real MariaDB datadir', async (t) => {
  const box = await makeSandbox('ocf-tester');
  const r = await execa('ocf-tester', ['-v', '-n', 'mysqld-test', '-o', `config=${box.config}`, '-o', 'shutdown_timeout=60', agentPath('mysqld')], { reject: false, timeout: 300_000, all: true });
  t.equal(r.exitCode, 0, `ocf-tester exit 0:\n${r.all}`);
  t.match(r.all, /passed all tests/);
  t.match(r.all, /Testing: start/, 'it started the server');
  t.match(r.all, /Testing: stop/, 'it stopped the server');
  t.match(r.all, /Testing: meta-data/, 'meta-data (validated by ocf-tester with xmllint)');
  t.same(serverPidsOn(box.datadir), [], 'ocf-tester ends with the server stopped');
});
