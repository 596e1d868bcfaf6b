import t from 'tap';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { runAgent, runOcf } from '../rig/agents.ts';
import { destroySandboxes, makeSandbox, MYSQL_UID_GID, serverPidsOn, sql } from '../rig/mariadb.ts';
import { resourceManagerReadsAsHeld } from '../../lib/contract/status-text.ts';

// The mysqld agent against a real MariaDB (Debian's), driven as heartbeat
// drives it (v1: `mysqld /path/my.cnf ACTION`) and as Pacemaker does (OCF).

t.teardown(destroySandboxes);

/** Every argv on the machine right now, joined: what `ps` would show. */
function allCommandLines(): string[] {
  const lines: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      lines.push(readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // Exited between readdir and read.
    }
  }
  return lines;
}

/** Samples /proc/*\/cmdline every few ms while `action` runs; returns the lines that contain `secret`. */
async function watchForSecret<T>(secret: string, action: () => Promise<T>): Promise<{ result: T; leaks: string[]; samples: number }> {
  const leaks: string[] = [];
  let running = true;
  let samples = 0;
  const sampler = (async () => {
    while (running) {
      for (const line of allCommandLines()) if (line.includes(secret)) leaks.push(line);
      samples++;
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  try {
    const result = await action();
    return { result, leaks, samples };
  } finally {
    running = false;
    await sampler;
  }
}

t.test('lifecycle: status, start, idempotent start/stop, ready on return, durability across kill -9, no password in ps', async (t) => {
  // The tutorial's mistake: log-bin outside the replicated disk (here on /dev/shm, another filesystem).
  const binlogDir = `/dev/shm/ha-mysqld-${process.pid}-binlog`;
  mkdirSync(binlogDir, { mode: 0o750 });
  t.teardown(() => rmSync(binlogDir, { recursive: true, force: true }));
  const [uid, gid] = await MYSQL_UID_GID();
  chownSync(binlogDir, uid, gid);
  const box = await makeSandbox('life', { configExtra: `log-bin = ${binlogDir}/mysql-bin\nserver-id = 3\n` });
  const v1 = (action: string, env: Record<string, string> = {}) => runAgent('mysqld', [box.config, action], { env });

  // Stopped: status says so in words ResourceManager reads as "not held", LSB 3.
  let r = await v1('status');
  t.equal(r.exitCode, 3, 'status of a stopped server exits 3');
  t.match(r.stdout, /^stopped/);
  t.notOk(resourceManagerReadsAsHeld(r.stdout), 'ResourceManager reads it as not running');
  r = await v1('stop');
  t.equal(r.exitCode, 0, `stop when stopped succeeds: ${r.stderr}`);

  // Start returns only when the server answers: query at once, no retry.
  r = await v1('start');
  t.equal(r.exitCode, 0, `start succeeds: ${r.stderr}`);
  t.equal((await sql(box, 'SELECT 1')).trim(), '1', 'a query succeeds immediately after start returns');
  t.match(r.stderr, new RegExp(`WARNING: log-bin ${binlogDir}/mysql-bin is not on the datadir's filesystem`), 'warns: log-bin is not on the replicated disk');
  const [pid] = serverPidsOn(box.datadir);
  t.ok(pid, 'a mariadbd serves the datadir');
  t.equal(readFileSync(box.pidFile, 'utf8').trim(), String(pid), 'pid file names it');

  r = await v1('status');
  t.equal(r.exitCode, 0, 'status of a running server exits 0');
  t.match(r.stdout, new RegExp(`^running \\(pid ${pid} on ${box.datadir}\\)`));
  t.ok(resourceManagerReadsAsHeld(r.stdout), 'ResourceManager reads it as running');

  // The pid file is a hint, /proc is the truth: a lost pid file does not make a running server "stopped".
  renameSync(box.pidFile, `${box.pidFile}.away`);
  r = await v1('status');
  t.equal(r.exitCode, 0, 'pid file gone: still running (found through /proc cwd)');
  t.match(r.stdout, /pid file missing or stale/);
  renameSync(`${box.pidFile}.away`, box.pidFile);

  r = await v1('start');
  t.equal(r.exitCode, 0, 'start when started succeeds');
  t.same(serverPidsOn(box.datadir), [pid], 'and starts nothing new');

  // OCF: monitor depth 0 and depth 10 (runs a query).
  r = await runOcf('mysqld', 'monitor', box.ocfParams);
  t.equal(r.exitCode, 0, 'OCF monitor: running');
  r = await runOcf('mysqld', 'monitor', box.ocfParams, { env: { OCF_CHECK_LEVEL: '10' } });
  t.equal(r.exitCode, 0, `OCF monitor depth 10 runs its query: ${r.stderr}`);
  r = await runOcf('mysqld', 'monitor', { ...box.ocfParams, test_table: 'nosuchdb.nosuchtable' }, { env: { OCF_CHECK_LEVEL: '10' } });
  t.equal(r.exitCode, 1, 'depth 10 fails when its query fails');
  t.match(r.stderr, /ocf-exit-reason:.*nosuchtable/);

  // Durability: committed rows survive kill -9.
  await sql(box, 'CREATE DATABASE ha; CREATE TABLE ha.t (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB');
  const rows = 300;
  const inserts = Array.from({ length: rows }, (_, i) => `INSERT INTO ha.t VALUES (${i}, 'row ${i}');`).join('');
  await sql(box, `SET autocommit=1; ${inserts}`);
  t.equal((await sql(box, 'SELECT @@innodb_flush_log_at_trx_commit')).trim(), '1');
  process.kill(pid!, 'SIGKILL');
  while (serverPidsOn(box.datadir).length) await new Promise((res) => setTimeout(res, 10));
  r = await v1('status');
  t.equal(r.exitCode, 3, 'status after kill -9: stopped (stale pid file is not trusted)');

  // A monitor user with a password, read from a 0600 credentials file. Every
  // agent action from here on runs while /proc/*/cmdline is sampled.
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const creds = `${box.root}/monitor.cnf`;
  writeFileSync(creds, `[client]\nuser = hamonitor\npassword = "${password}"\n`, { mode: 0o600 });
  chmodSync(creds, 0o600);
  const withCreds = { ...box.ocfParams, test_credentials_file: creds };

  const restarted = await watchForSecret(password, () => runOcf('mysqld', 'start', withCreds));
  t.equal(restarted.result.exitCode, 0, `start after kill -9 succeeds (crash recovery): ${restarted.result.stderr}`);
  t.match(restarted.result.stderr, /monitor login was refused/, 'the monitor user does not exist yet: start warns, server is up');
  t.equal((await sql(box, 'SELECT COUNT(*) FROM ha.t')).trim(), String(rows), 'every committed row is there after kill -9 and start');
  await sql(box, `CREATE USER hamonitor@localhost IDENTIFIED BY '${password}'; GRANT SELECT ON mysql.* TO hamonitor@localhost`);

  const checks = await watchForSecret(password, async () => [
    await runOcf('mysqld', 'monitor', withCreds, { env: { OCF_CHECK_LEVEL: '10' } }),
    await runAgent('mysqld', [box.config, 'status']),
    await runOcf('mysqld', 'validate-all', withCreds),
    await runOcf('mysqld', 'stop', withCreds),
    await runOcf('mysqld', 'start', withCreds),
    await runOcf('mysqld', 'monitor', withCreds, { env: { OCF_CHECK_LEVEL: '10' } }),
  ]);
  t.same(checks.result.map((x) => x.exitCode), [0, 0, 0, 0, 0, 0], `monitor-10, status, validate-all, stop, start, monitor-10 with the credentials file: ${checks.result.map((x) => x.stderr).join(' ')}`);
  t.notMatch(checks.result[5]!.stderr, /refused/, 'the monitor login works once the user exists');
  const samples = restarted.samples + checks.samples;
  t.ok(samples > 20, `sampled every process's argv ${samples} times`);
  t.same([...restarted.leaks, ...checks.leaks], [], 'no command line ever showed the password');

  // A wrong password: depth-10 monitor fails honestly (the server runs, our login does not work).
  const wrong = `${box.root}/wrong.cnf`;
  writeFileSync(wrong, '[client]\nuser = hamonitor\npassword = not-the-password\n', { mode: 0o600 });
  r = await runOcf('mysqld', 'monitor', { ...box.ocfParams, test_credentials_file: wrong }, { env: { OCF_CHECK_LEVEL: '10' } });
  t.equal(r.exitCode, 1, 'depth-10 monitor with a wrong password fails');
  t.match(r.stderr, /ACCESS_DENIED/);

  // The config disappears while the server runs (say it lived on a disk that
  // went away): status and stop still find the server started with it.
  renameSync(box.config, `${box.config}.away`);
  r = await v1('status');
  t.equal(r.exitCode, 0, `config gone: the server started with it still counts as running: ${r.stderr}`);
  t.match(r.stdout, new RegExp(`^running \\(pid \\d+ on the servers started with ${box.config}\\)`));
  r = await v1('stop');
  t.equal(r.exitCode, 0, `stop succeeds without its config: ${r.stderr}`);
  t.same(serverPidsOn(box.datadir), [], 'no server left on the datadir');
  renameSync(`${box.config}.away`, box.config);
  t.match(readFileSync(box.errorLog, 'utf8'), /Shutdown complete[^]*$/, 'the server logged a clean shutdown');
  r = await v1('status');
  t.equal(r.exitCode, 3, 'status after stop: stopped');
  r = await runOcf('mysqld', 'monitor', box.ocfParams);
  t.equal(r.exitCode, 7, 'OCF monitor after stop: not running');
  r = await v1('stop');
  t.equal(r.exitCode, 0, 'stop when stopped succeeds again');
  // A stale pid file naming a live process that is not a mysqld on this datadir (PID reuse).
  writeFileSync(box.pidFile, `${process.pid}\n`);
  r = await v1('status');
  t.equal(r.exitCode, 3, 'a reused PID in a stale pid file: stopped');
  r = await v1('stop');
  t.equal(r.exitCode, 0, 'and stop does not touch that process');
  t.ok(process.kill(process.pid, 0), 'the test process is alive');
});

t.test('the v1 form without a config reads /etc/my.cnf and /etc/mysql/my.cnf (Debian: /var/lib/mysql, not running here)', async (t) => {
  const r = await runAgent('mysqld', ['status']);
  t.equal(r.exitCode, 3, `bare "mysqld status": ${r.stderr}`);
  t.equal(r.stdout.trim(), 'stopped (/var/lib/mysql)', 'datadir from Debian\'s config tree');
  const usage = await runAgent('mysqld', ['a', 'b', 'status']);
  t.equal(usage.exitCode, 2, 'two positional arguments: usage error');
});
