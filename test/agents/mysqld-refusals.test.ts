import t, { type Test } from 'tap';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { runAgent, runOcf } from '../rig/agents.ts';
import { destroySandboxes, makeSandbox, sandboxConfig, serverPidsOn } from '../rig/mariadb.ts';

// Refusals and bad input: one line naming the problem, the right exit code,
// and no change (no server process, nothing created in the datadir). None
// of these starts a server.

t.teardown(destroySandboxes);

const oneLine = (t: Test, stderr: string, pattern: RegExp, what: string) => {
  const lines = stderr.trim().split('\n').filter((l) => !/^\S+ \d+ [\d:]+ (INFO|WARNING):/.test(l) && !/^\d{4}\/\d\d\/\d\d_[\d:]+ (INFO|WARNING):/.test(l));
  t.equal(lines.length, 1, `${what}: exactly one error line (${JSON.stringify(stderr)})`);
  t.match(lines[0] ?? '', pattern, `${what}: names the problem`);
};

t.test('start refuses a datadir that is missing, empty (uninitialised) or owned by someone else', async (t) => {
  const empty = await makeSandbox('empty', { initialised: false });
  let r = await runAgent('mysqld', [empty.config, 'start']);
  t.equal(r.exitCode, 1, 'empty datadir: refused (generic error, not retried as success)');
  oneLine(t, r.stderr, /^mysqld: datadir .*\/empty\/data holds no initialised system schema.*never initialises/, 'empty datadir');
  t.same(readdirSync(empty.datadir), [], 'the empty datadir is still empty (nothing initialised)');
  t.same(serverPidsOn(empty.datadir), [], 'no server started');

  const missing = await makeSandbox('missing', { initialised: false });
  rmSync(missing.datadir, { recursive: true });
  r = await runAgent('mysqld', [missing.config, 'start']);
  t.equal(r.exitCode, 5, 'missing datadir: not installed on this node (5)');
  oneLine(t, r.stderr, /datadir .*\/missing\/data does not exist \(is the replicated disk mounted\?\)/, 'missing datadir');
  t.throws(() => readdirSync(missing.datadir), 'and it was not created');
  r = await runAgent('mysqld', [missing.config, 'stop']);
  t.equal(r.exitCode, 0, 'stop with the datadir missing: nothing runs there, success');
  r = await runAgent('mysqld', [missing.config, 'status']);
  t.equal(r.exitCode, 3, 'status with the datadir missing: stopped');

  const foreign = await makeSandbox('foreign');
  chownSync(foreign.datadir, 0, 0);
  r = await runAgent('mysqld', [foreign.config, 'start']);
  t.equal(r.exitCode, 4, 'datadir owned by root, server user mysql: permission error (4)');
  oneLine(t, r.stderr, /datadir .* is owned by uid 0, not by the server user mysql/, 'wrong owner');
  r = await runOcf('mysqld', 'start', { ...foreign.ocfParams, user: 'nobody' });
  t.equal(r.exitCode, 4, 'user=nobody: the datadir is not theirs (4)');
  r = await runOcf('mysqld', 'start', { ...foreign.ocfParams, user: 'no_such_user_x' });
  t.equal(r.exitCode, 5, 'a user that does not exist: not installed (5)');
  t.match(r.stderr, /ocf-exit-reason:the server user no_such_user_x does not exist/);
  t.same(serverPidsOn(foreign.datadir), [], 'no server started');
});

t.test('start refuses a datadir on the root filesystem when the HA config mounts a disk there', async (t) => {
  const box = await makeSandbox('mount');
  // The configuration says the datadir is on a disk mounted at <root>/mnt; nothing is mounted there.
  const mnt = `${box.root}/mnt`;
  mkdirSync(mnt);
  rmSync(box.config);
  const datadir = `${mnt}/data`;
  // Move the initialised datadir under the (unmounted) mount point, as an
  // unmounted /data with a stale copy on the root disk would look.
  await import('node:fs').then((fs) => fs.renameSync(box.datadir, datadir));
  writeFileSync(box.config, sandboxConfig({ ...box, datadir }));
  let r = await runOcf('mysqld', 'start', { ...box.ocfParams, datadir_mountpoint: mnt });
  t.equal(r.exitCode, 1, 'refused');
  t.match(r.stderr, new RegExp(`ocf-exit-reason:datadir ${datadir} is on the root filesystem, but the configuration puts it on the filesystem mounted at ${mnt}, which is not mounted`));
  t.same(serverPidsOn(datadir), [], 'no server started');

  // Heartbeat v1: the same knowledge from haresources' Filesystem resource (HA_DIR as ResourceManager exports it).
  const haDir = `${box.root}/ha.d`;
  mkdirSync(haDir);
  writeFileSync(`${haDir}/haresources`, `# the tutorial's group\nmaster1 IPaddr::198.18.4.1/16/eth1 drbddisk::data \\\n  Filesystem::/dev/drbd1::${mnt}::ext3 mysqld\n`);
  r = await runAgent('mysqld', [box.config, 'start'], { env: { HA_DIR: haDir } });
  t.equal(r.exitCode, 1, 'v1: refused');
  oneLine(t, r.stderr, new RegExp(`is on the root filesystem, but .* mounted at ${mnt}, which is not mounted.*from ${haDir}/haresources`), 'haresources says otherwise');
  t.same(serverPidsOn(datadir), [], 'no server started');
});

t.test('bad input: unreadable config, missing binary, loose credentials file, test_passwd, shell metacharacters', async (t) => {
  const box = await makeSandbox('bad');
  const cases: [string, () => ReturnType<typeof runAgent>, number, RegExp][] = [
    ['missing config (v1 start): not on this node', () => runAgent('mysqld', [`${box.root}/nope.cnf`, 'start']), 5, /cannot read option file .*nope\.cnf: it does not exist \(ENOENT\) on this node/],
    ['not an option file (mysqld /etc/passwd start): named with its line, before the datadir', () => runAgent('mysqld', ['/etc/passwd', 'start']), 6, /^mysqld: option file \/etc\/passwd line 1: .* comes before any \[group\] header/],
    ['malformed group header, datadir empty: the config is named, not the datadir', () => {
      writeFileSync(`${box.root}/unclosed.cnf`, `# ok\n[mysqld\ndatadir = ${box.root}/empty\n`);
      return runOcf('mysqld', 'start', { config: `${box.root}/unclosed.cnf` });
    }, 6, /option file .*unclosed\.cnf line 2: group header "\[mysqld" has no closing "\]"/],
    ['!include without a file name', () => {
      writeFileSync(`${box.root}/bare-include.cnf`, `${readFileSync(box.config, 'utf8')}!include\n`);
      return runOcf('mysqld', 'start', { config: `${box.root}/bare-include.cnf` });
    }, 6, /bare-include\.cnf line \d+: !include without a file name/],
    ['config is a directory', () => runOcf('mysqld', 'start', { config: box.root }), 6, /cannot read option file .*: it is a directory, not a file \(EISDIR\)/],
    ['config includes a missing file', () => {
      writeFileSync(`${box.root}/inc.cnf`, `[mysqld]\n!include ${box.root}/missing-include.cnf\n`);
      return runOcf('mysqld', 'start', { config: `${box.root}/inc.cnf` });
    }, 5, /missing-include\.cnf: it does not exist \(ENOENT\)/],
    ['missing binary', () => runOcf('mysqld', 'start', { ...box.ocfParams, binary: '/usr/sbin/no-such-mysqld' }), 5, /server binary \/usr\/sbin\/no-such-mysqld not found/],
    ['missing binary (validate-all)', () => runOcf('mysqld', 'validate-all', { ...box.ocfParams, binary: '/nonexistent/mysqld' }), 5, /not found/],
    ['credentials file mode 0644', () => {
      writeFileSync(`${box.root}/loose.cnf`, '[client]\nuser=x\npassword=y\n');
      chmodSync(`${box.root}/loose.cnf`, 0o644);
      return runOcf('mysqld', 'start', { ...box.ocfParams, test_credentials_file: `${box.root}/loose.cnf` });
    }, 6, /credentials file .*loose\.cnf is mode 0644; .* must be 0600 or stricter/],
    ['credentials file mode 0640 (validate-all)', () => {
      chmodSync(`${box.root}/loose.cnf`, 0o640);
      return runOcf('mysqld', 'validate-all', { ...box.ocfParams, test_credentials_file: `${box.root}/loose.cnf` });
    }, 6, /is mode 0640/],
    ['missing credentials file', () => runOcf('mysqld', 'start', { ...box.ocfParams, test_credentials_file: `${box.root}/none.cnf` }), 6, /credentials file .*none\.cnf cannot be read: ENOENT/],
    ['test_passwd in the environment', () => runOcf('mysqld', 'start', { ...box.ocfParams, test_passwd: 'secret' }), 6, /test_passwd is not accepted/],
    ['enable_creation=1 (stock agent initialises; we never do)', () => runOcf('mysqld', 'start', { ...box.ocfParams, enable_creation: '1' }), 6, /enable_creation is not supported/],
    ['shell metacharacter in datadir', () => runOcf('mysqld', 'start', { ...box.ocfParams, datadir: '/data;rm -rf /' }), 6, /datadir .* contains the shell metacharacter/],
    ['non-numeric shutdown_timeout', () => runOcf('mysqld', 'stop', { ...box.ocfParams, shutdown_timeout: 'soon' }), 6, /shutdown_timeout "soon" must be a whole number/],
    ['test_table that is not a table name', () => runOcf('mysqld', 'monitor', { ...box.ocfParams, test_table: 'mysql.user where 1' }), 6, /test_table/],
  ];
  for (const [what, call, code, pattern] of cases) {
    const r = await call();
    t.equal(r.exitCode, code, `${what}: exit ${code}`);
    oneLine(t, r.stderr, pattern, what);
  }
  t.same(serverPidsOn(box.datadir), [], 'nothing started by any of them');

  // status, monitor and stop must still answer when the config is missing
  // (it may live on the unmounted replicated disk), as the stock agent does.
  const nope = `${box.root}/nope.cnf`;
  let r = await runAgent('mysqld', [nope, 'status']);
  t.equal(r.exitCode, 3, 'v1 status with a missing config: stopped');
  t.equal(r.stdout.trim(), `stopped (the servers started with ${nope})`);
  r = await runOcf('mysqld', 'monitor', { config: nope }, { env: { OCF_RESKEY_CRM_meta_interval: '0' } });
  t.equal(r.exitCode, 7, 'OCF probe with a missing config: not running');
  r = await runAgent('mysqld', [nope, 'stop']);
  t.equal(r.exitCode, 0, 'stop with a missing config: nothing started with it runs, success');
  t.match(r.stderr, /WARNING: cannot read option file .*nope\.cnf.*looking for servers started with it instead/);
});

t.test('an OCF probe (monitor, interval 0) reports not running when the binary is missing', async (t) => {
  const box = await makeSandbox('probe', { initialised: false });
  const r = await runOcf('mysqld', 'monitor', { ...box.ocfParams, binary: '/nonexistent/mariadbd' }, { env: { OCF_RESKEY_CRM_meta_interval: '0' } });
  t.equal(r.exitCode, 7, 'probe: 7 (not running)');
});

t.test('a server that exits during startup: start fails at once, naming the exit and quoting the error log', async (t) => {
  const box = await makeSandbox('dies', { configExtra: 'no-such-server-option = 1\n' });
  const r = await runAgent('mysqld', [box.config, 'start']);
  t.equal(r.exitCode, 1, 'start fails');
  oneLine(t, r.stderr, /^mysqld: \/usr\/sbin\/mariadbd exited with status \d+ during startup; last lines of .*error\.log: .*unknown variable 'no-such-server-option=1'/, 'early exit');
  t.same(serverPidsOn(box.datadir), [], 'nothing left running');
});

t.test('a server that never becomes ready (frozen before its handshake): start fails at its timeout, saying so', async (t) => {
  const box = await makeSandbox('slow');
  const started = Date.now();
  const starting = runOcf('mysqld', 'start', box.ocfParams, { env: { OCF_RESKEY_CRM_meta_timeout: '6000' } });
  // Freeze the server the moment it exists: its socket may appear (the kernel
  // queues connections) but no handshake ever comes. SIGSTOP, unlike a slow
  // init-file, cannot race the server into readiness on a busy machine.
  let frozen: number | undefined;
  while (frozen === undefined && Date.now() - started < 5000) {
    frozen = serverPidsOn(box.datadir)[0];
    if (frozen === undefined) await new Promise((r) => setTimeout(r, 2));
  }
  t.ok(frozen, 'the agent started a server');
  if (frozen) process.kill(frozen, 'SIGSTOP');
  t.teardown(() => {
    if (frozen) try { process.kill(frozen, 'SIGCONT'); } catch { /* gone */ }
  });
  let r = await starting;
  const took = Date.now() - started;
  t.equal(r.exitCode, 1, 'start fails');
  t.match(r.stderr, /ocf-exit-reason:mysqld \(pid \d+\) did not accept a connection on .*mysqld\.sock within 6 s.*left running/, 'says what it waited for');
  t.ok(took < 15_000, `within the action timeout (${took} ms)`);
  t.equal(serverPidsOn(box.datadir).length, 1, 'the server is left running (it may be recovering); stop is the caller\'s next step');
  r = await runOcf('mysqld', 'stop', { ...box.ocfParams, shutdown_timeout: '10' });
  t.equal(r.exitCode, 0, `stop ends it (resuming the frozen server for a clean shutdown): ${r.stderr}`);
  t.same(serverPidsOn(box.datadir), [], 'gone');
});

t.test('which process is "the server on this datadir": /proc cwd, same mount namespace or the same directory', async (t) => {
  // Stand-ins named mysqld (a copy of sleep): this is about telling processes
  // apart through /proc, which a real server would only make slower.
  const box = await makeSandbox('identity', { initialised: false });
  const fake = `${box.root}/bin/mysqld`;
  mkdirSync(`${box.root}/bin`);
  copyFileSync('/bin/sleep', fake);
  chmodSync(fake, 0o755);
  const started: ResultPromise[] = [];
  t.teardown(() => {
    for (const p of started) {
      try {
        if (p.pid) process.kill(p.pid, 'SIGKILL');
      } catch {
        // Already ended by the test.
      }
    }
  });
  const spawnFake = async (args: string[]) => {
    const p = execa(args[0]!, args.slice(1), { reject: false, stdio: 'ignore' });
    started.push(p);
    // Wait until the fake runs as mysqld with its cwd set.
    for (let i = 0; i < 500; i++) {
      const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
        try {
          return readlinkSync(`/proc/${n}/exe`) === fake;
        } catch {
          return false;
        }
      });
      const fresh = pids.map(Number).filter((n) => !known.has(n));
      if (fresh.length) {
        fresh.forEach((n) => known.add(n));
        return fresh[0]!;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('fake mysqld did not start');
  };
  const known = new Set<number>();

  // Another mount namespace, a different directory under the same path (its own tmpfs): not ours.
  const foreign = await spawnFake(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs other "$0" && cd "$0" && exec "$1" 600`, box.datadir, fake]);
  let r = await runAgent('mysqld', [box.config, 'status']);
  t.equal(r.exitCode, 3, `a "mysqld" in another mount namespace on another directory with the same path is not ours: ${r.stdout}`);
  r = await runAgent('mysqld', [box.config, 'stop']);
  t.equal(r.exitCode, 0, 'stop: nothing of ours runs');
  t.ok(process.kill(foreign, 0), 'and the foreign process was not touched');

  // Another mount namespace, but the very same directory: that is our data, in use.
  const sameDir = await spawnFake(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'cd "$0" && exec "$1" 600', box.datadir, fake]);
  r = await runAgent('mysqld', [box.config, 'status']);
  t.equal(r.exitCode, 0, 'a "mysqld" in another mount namespace on the same directory holds our datadir');
  t.match(r.stdout, new RegExp(`running \\(pid ${sameDir} on .*pid file missing or stale\\)`));
  process.kill(sameDir, 'SIGKILL');

  // Our namespace, cwd in the datadir, no pid file: running.
  const local = await spawnFake(['sh', '-c', 'cd "$0" && exec "$1" 600', box.datadir, fake]);
  r = await runAgent('mysqld', [box.config, 'status']);
  t.equal(r.exitCode, 0, 'a "mysqld" in our namespace working in the datadir: running');
  t.match(r.stdout, new RegExp(`running \\(pid ${local} on`));
  r = await runOcf('mysqld', 'stop', { ...box.ocfParams, shutdown_timeout: '5' });
  t.equal(r.exitCode, 0, `stop ends it (sleep dies on SIGTERM): ${r.stderr}`);
  const exited = (pid: number) => {
    try {
      return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
    } catch {
      return true;
    }
  };
  t.ok(exited(local), 'gone (or a zombie waiting for execa to reap it)');
  t.ok(process.kill(foreign, 0), 'the foreign one still untouched');
});

t.test('no option file anywhere (no /etc/my.cnf, no /etc/mysql/my.cnf, no mysqld::FILE): start refuses, status and stop still answer', async (t) => {
  // A private mount namespace (slave propagation) where /etc/mysql, /var/lib/mysql and /run are
  // empty tmpfs: the option files are absent there, and the compiled-in datadir holds an initialised
  // copy, so a start that ignored the danger would really start a server (on the copy, never the host's).
  const box = await makeSandbox('nocnf');
  const holder = execa('unshare', ['--mount', '--propagation', 'slave', '--', 'sh', '-euc', [
    'mount -t tmpfs -o mode=0755 ha-test-nocnf /etc/mysql',
    'mount -t tmpfs -o mode=0755 ha-test-nocnf /var/lib/mysql',
    'mount -t tmpfs -o mode=0755 ha-test-nocnf /run',
    'cp -a "$1/." /var/lib/mysql/',
    'if [ -e /etc/my.cnf ] || [ -e /etc/mysql/my.cnf ]; then echo "an option file is still there"; exit 1; fi',
    'echo ready',
    'exec sleep 600',
  ].join('\n'), 'sh', box.datadir], { reject: false, buffer: false });
  const ready = await new Promise<boolean>((resolve) => {
    holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(true));
    holder.once('exit', () => resolve(false));
  });
  const ns = readlinkSync(`/proc/${holder.pid}/ns/mnt`);
  /** Servers in that namespace (their cwd there is /var/lib/mysql). */
  const serversThere = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return /\/(mariadbd|mysqld)$/.test(readlinkSync(`/proc/${pid}/exe`)) && readlinkSync(`/proc/${pid}/ns/mnt`) === ns;
    } catch {
      return false;
    }
  });
  const rsctmp = `${box.root}/rsctmp`;
  const inThere = async (args: string[], env: Record<string, string> = {}) => {
    const r = await execa('nsenter', ['--target', String(holder.pid), '--mount', '--', `${process.env.HA_AGENTS_DIR ?? `${process.cwd()}/dist/resource.d`}/mysqld`, ...args], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HA_RSCTMP: rsctmp, ...env }, extendEnv: false, reject: false, timeout: 120_000,
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  try {
    t.ok(ready, 'the namespace has no option file and an initialised /var/lib/mysql');
    const looked = /neither \/etc\/my\.cnf nor \/etc\/mysql\/my\.cnf exists on this node/;

    let r = await inThere(['start']);
    t.equal(r.exitCode, 5, `v1 start refused, node-local (5): ${r.stderr}`);
    oneLine(t, r.stderr, /^mysqld: no option file: neither \/etc\/my\.cnf nor \/etc\/mysql\/my\.cnf exists on this node and no mysqld::FILE names one, so the server would start on its compiled-in datadir \/var\/lib\/mysql \(this node's own disk, not the replicated one\); refusing$/, 'v1 start');
    t.same(serversThere(), [], 'no server started');

    r = await inThere(['status']);
    t.equal(r.exitCode, 3, `status: stopped (LSB 3): ${r.stderr}`);
    t.equal(r.stdout, 'stopped (/var/lib/mysql)');
    r = await inThere(['stop']);
    t.equal(r.exitCode, 0, `stop: nothing runs, success: ${r.stderr}`);

    const ocf = { OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'db' };
    for (const action of ['start', 'validate-all']) {
      r = await inThere([action], ocf);
      t.equal(r.exitCode, 5, `OCF ${action}: OCF_ERR_INSTALLED: ${r.stderr}`);
      t.match(r.stderr, looked);
      t.match(r.stderr, /^ocf-exit-reason:no option file: .*no config parameter names one/m);
    }
    r = await inThere(['monitor'], ocf);
    t.equal(r.exitCode, 7, `OCF probe: not running: ${r.stderr}`);
    t.same(serversThere(), [], 'still no server');

    // The datadir named outright: nothing falls back to the compiled-in one, so it starts; stop ends it, still without an option file.
    const given = { ...ocf, OCF_RESKEY_datadir: '/var/lib/mysql' };
    r = await inThere(['start'], given);
    t.equal(r.exitCode, 0, `OCF start with datadir given: ${r.stderr}`);
    t.equal(serversThere().length, 1, 'that one starts');
    r = await inThere(['monitor'], given);
    t.equal(r.exitCode, 0, 'monitor: running');
    r = await inThere(['stop'], given);
    t.equal(r.exitCode, 0, `stop: ${r.stderr}`);
    t.same(serversThere(), [], 'stopped');
  } finally {
    for (const pid of serversThere()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
    holder.kill('SIGKILL');
    await holder;
  }
});
