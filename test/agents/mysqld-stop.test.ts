import t from 'tap';
import { execa, type ResultPromise } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { runAgent, runOcf } from '../rig/agents.ts';
import { destroySandboxes, makeSandbox, serverPidsOn, sql } from '../rig/mariadb.ts';

// stop is where data is lost: it must wait for the clean shutdown, use
// SIGKILL only after its bound, say so honestly, and leave nothing that
// respawns the server behind heartbeat's back.

t.teardown(destroySandboxes);

const state = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return 'gone';
  }
};

/** Exited: no process, or a zombie waiting for a parent that is not us (it holds nothing any more). */
const exited = (pid: number) => ['gone', 'Z'].includes(state(pid));

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('stop with a long-running transaction and a long query open: clean shutdown, committed rows kept, uncommitted rolled back', async (t) => {
  const box = await makeSandbox('longtx', { configExtra: 'log-bin = mysql-bin\nserver-id = 3\n' });
  let r = await runAgent('mysqld', [box.config, 'start']);
  t.equal(r.exitCode, 0, `start: ${r.stderr}`);
  t.notMatch(r.stderr, /WARNING/, 'log-bin inside the datadir: no warning');
  await sql(box, 'CREATE DATABASE ha; CREATE TABLE ha.t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO ha.t VALUES (1),(2),(3)');
  const mysql = await import('mysql2/promise');
  const open = await mysql.createConnection({ socketPath: box.socket, user: 'root' });
  const busy = await mysql.createConnection({ socketPath: box.socket, user: 'root' });
  open.on('error', () => {});
  busy.on('error', () => {});
  await open.beginTransaction();
  await open.query('INSERT INTO ha.t VALUES (100),(101)');
  const sleeping = busy.query('SELECT SLEEP(600)').catch((e: Error) => e);
  const [pid] = serverPidsOn(box.datadir);
  r = await runAgent('mysqld', [box.config, 'stop']);
  t.equal(r.exitCode, 0, `stop succeeds with a transaction open: ${r.stderr}`);
  t.ok(exited(pid!), `the server process is gone (${state(pid!)})`);
  t.notMatch(r.stderr, /sending SIGKILL/, 'no SIGKILL was needed');
  t.match(readFileSync(box.errorLog, 'utf8'), /Normal shutdown[^]*Shutdown complete/, 'the server logged a clean shutdown');
  t.type(await sleeping, Error, 'the long query was ended by the shutdown');
  open.destroy();
  busy.destroy();
  r = await runAgent('mysqld', [box.config, 'start']);
  t.equal(r.exitCode, 0, 'start again');
  t.equal((await sql(box, 'SELECT GROUP_CONCAT(id ORDER BY id) FROM ha.t')).trim(), '1,2,3', 'committed rows kept, the uncommitted ones rolled back');
  r = await runAgent('mysqld', [box.config, 'stop']);
  t.equal(r.exitCode, 0, 'stop');
});

t.test('stop of a server frozen with SIGSTOP: resumed so it shuts down cleanly, within the bound, and says so', async (t) => {
  const box = await makeSandbox('frozen');
  let r = await runOcf('mysqld', 'start', box.ocfParams);
  t.equal(r.exitCode, 0, `start: ${r.stderr}`);
  const [pid] = serverPidsOn(box.datadir);
  process.kill(pid!, 'SIGSTOP');
  await until('state T', () => state(pid!) === 'T');
  r = await runOcf('mysqld', 'monitor', box.ocfParams);
  t.equal(r.exitCode, 0, 'a frozen server still counts as running (it holds the datadir)');
  const started = Date.now();
  r = await runOcf('mysqld', 'stop', { ...box.ocfParams, shutdown_timeout: '20' });
  const took = Date.now() - started;
  t.equal(r.exitCode, 0, `stop succeeds: ${r.stderr}`);
  t.ok(took < 25_000, `returned within the bound (${took} ms)`);
  t.ok(exited(pid!), `the process is really gone (exit 0 only then; ${state(pid!)})`);
  t.match(r.stderr, /was frozen \(SIGSTOP\); resumed it so it could shut down cleanly/, 'says it was frozen');
  t.notMatch(r.stderr, /sending SIGKILL/, 'no SIGKILL');
  t.match(readFileSync(box.errorLog, 'utf8'), /Shutdown complete/, 'clean shutdown');
});

t.test('a server that cannot act on SIGTERM (ptrace-stopped) and its mysqld_safe: SIGKILL after shutdown_timeout, no respawn, rows intact', async (t) => {
  const box = await makeSandbox('safe');
  const params = { ...box.ocfParams, binary: '/usr/bin/mysqld_safe' };
  let r = await runOcf('mysqld', 'start', params);
  t.equal(r.exitCode, 0, `start under mysqld_safe: ${r.stderr}`);
  const [pid] = serverPidsOn(box.datadir);
  const parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
  t.match(readFileSync(`/proc/${parent}/cmdline`, 'utf8'), /mysqld_safe/, 'the server runs under mysqld_safe, which respawns a server that dies uncleanly');
  await sql(box, 'CREATE DATABASE ha; CREATE TABLE ha.t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO ha.t VALUES (1),(2),(3)');

  // gdb holds the server in a tracing stop: SIGTERM stays pending, SIGCONT does not resume it.
  let gdb: ResultPromise | undefined = execa('gdb', ['--batch', '--nx', '-p', String(pid), '-ex', 'shell sleep 120'], { reject: false, stdio: 'ignore' });
  t.teardown(() => {
    if (gdb?.pid) process.kill(gdb.pid, 'SIGKILL');
  });
  await until('tracing stop', () => state(pid!) === 't', 60_000);
  const started = Date.now();
  r = await runOcf('mysqld', 'stop', { ...params, shutdown_timeout: '2' });
  const took = Date.now() - started;
  t.equal(r.exitCode, 0, `stop succeeds once the process is gone: ${r.stderr}`);
  t.match(r.stderr, /ending mysqld_safe \(pid \d+\)/, 'mysqld_safe ended first');
  t.match(r.stderr, /did not shut down within 2 s; sending SIGKILL/, 'says honestly that it needed SIGKILL');
  t.ok(took >= 2000 && took < 15_000, `waited the bound, then killed (${took} ms)`);
  t.ok(exited(pid!), `the server is gone (${state(pid!)})`);
  t.ok(exited(parent), 'mysqld_safe is gone');
  // gdb is still in its `shell sleep`; we started it, we end it.
  if (gdb.pid) process.kill(gdb.pid, 'SIGKILL');
  await gdb;
  gdb = undefined;
  // mysqld_safe would respawn within a second of an unclean death; give it three.
  const deadline = Date.now() + 3000;
  const respawned: number[] = [];
  while (Date.now() < deadline) {
    respawned.push(...serverPidsOn(box.datadir));
    await new Promise((res) => setTimeout(res, 20));
  }
  t.same(respawned, [], 'no server was respawned on the datadir');
  t.notOk(existsSync(box.pidFile), 'no stale pid file left to invite a respawn');
  r = await runOcf('mysqld', 'monitor', params);
  t.equal(r.exitCode, 7, 'monitor: not running');

  r = await runOcf('mysqld', 'start', box.ocfParams);
  t.equal(r.exitCode, 0, `start again (directly, crash recovery): ${r.stderr}`);
  t.equal((await sql(box, 'SELECT COUNT(*) FROM ha.t')).trim(), '3', 'every committed row is there');
  r = await runOcf('mysqld', 'stop', box.ocfParams);
  t.equal(r.exitCode, 0, 'stop');
});
