import t from 'tap';
import { execa, type ResultPromise } from 'execa';
import { pollUntil } from '../../lib/system/wait.ts';
import { processState } from '../../lib/system/terminate.ts';
import { runOcf } from '../rig/agents.ts';
import { destroySandboxes, makeSandbox, serverPidsOn, sql } from '../rig/mariadb.ts';

// Issue 15, item 4 (found by kill-points-mysqld.test.ts): MariaDB deadlocks
// for good when SIGTERM lands while it is still starting, and never logs a
// shutdown. stop must not sit out its whole bound (here 60 s) on such a
// server: no sign of shutting down in the error log 5 s after SIGTERM means
// SIGKILL, said in one warning, and the next start recovers every row.
// A ptrace stop (gdb attached) makes the server deaf to SIGTERM on cue.

t.teardown(() => destroySandboxes());

t.test('a server that shows no sign of acting on SIGTERM gets SIGKILL after 5 s, not after shutdown_timeout', async (t) => {
  const box = await makeSandbox('deaf');
  let r = await runOcf('mysqld', 'start', box.ocfParams);
  t.equal(r.exitCode, 0, r.stderr);
  await sql(box, 'CREATE DATABASE ha; CREATE TABLE ha.t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO ha.t VALUES (1),(2),(3)');
  const [pid] = serverPidsOn(box.datadir);
  let gdb: ResultPromise | undefined = execa('gdb', ['--batch', '--nx', '-p', String(pid), '-ex', 'shell sleep 120'], { reject: false, stdio: 'ignore' });
  t.teardown(() => {
    if (gdb?.pid) process.kill(gdb.pid, 'SIGKILL');
  });
  t.ok(await pollUntil(() => (processState(pid!) === 't' ? true : undefined), { intervalMs: 20, timeoutMs: 60_000 }), 'the server is in a tracing stop');
  const began = Date.now();
  r = await runOcf('mysqld', 'stop', { ...box.ocfParams, shutdown_timeout: '60' });
  const took = Date.now() - began;
  t.equal(r.exitCode, 0, `stop succeeds: ${r.stderr}`);
  t.match(r.stderr, /shows no sign of shutting down 5 s after SIGTERM .*; sending SIGKILL/, 'says why it did not wait the 60 s');
  t.ok(took >= 5000 && took < 30_000, `killed after the 5 s, long before shutdown_timeout (${took} ms)`);
  t.same(serverPidsOn(box.datadir), [], 'no server left');
  if (gdb.pid) process.kill(gdb.pid, 'SIGKILL');
  await gdb;
  gdb = undefined;
  r = await runOcf('mysqld', 'start', box.ocfParams);
  t.equal(r.exitCode, 0, `start again (crash recovery): ${r.stderr}`);
  t.equal(await sql(box, 'SELECT COUNT(*) FROM ha.t'), '3', 'every committed row is there');
  r = await runOcf('mysqld', 'stop', box.ocfParams);
  t.equal(r.exitCode, 0, r.stderr);
});
