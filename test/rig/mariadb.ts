import { execa } from 'execa';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

// A throwaway MariaDB for tests: a datadir initialised with
// mariadb-install-db (the agent never initialises), a run directory for
// socket and pid file, and a my.cnf with `skip-networking` so the server
// listens on its Unix socket only (no TCP port, so no network namespace is
// needed). Paths are unique per test file; teardown ends only servers whose
// working directory is one of our datadirs (i.e. ones our tests started).

export interface MariadbSandbox {
  root: string;
  datadir: string;
  runDir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  config: string;
  /** OCF parameters that point the agent at this sandbox. */
  ocfParams: Record<string, string>;
}

export const MYSQL_UID_GID = async (): Promise<[number, number]> => {
  const { stdout } = await execa('id', ['-u', 'mysql']);
  const { stdout: g } = await execa('id', ['-g', 'mysql']);
  return [Number(stdout), Number(g)];
};

/** Small and quick: 16 MiB buffer pool, 4 MiB redo log, no performance schema, socket only, durable commits. */
export function sandboxConfig(box: Pick<MariadbSandbox, 'datadir' | 'socket' | 'pidFile' | 'errorLog' | 'runDir'>, extra = ''): string {
  return `# Written by test/rig/mariadb.ts for a throwaway test server.
[mysqld]
datadir = ${box.datadir}
# Not the shared /tmp: temp-table names carry the server's PID, and servers in other PID namespaces share it.
tmpdir = ${box.runDir}
socket = ${box.socket}
pid-file = ${box.pidFile}
log-error = ${box.errorLog}
user = mysql
skip-networking
skip-name-resolve
innodb_buffer_pool_size = 16M
innodb_log_file_size = 4M
innodb_flush_log_at_trx_commit = 1
performance_schema = OFF
${extra}`;
}

let template: Promise<string> | undefined;

/** One initialised datadir per test file (install-db costs ~1.5 s); each sandbox copies it. */
function templateDatadir(base: string): Promise<string> {
  template ??= (async () => {
    const dir = `${base}/template`;
    const tmp = `${base}/template-tmp`;
    const [uid, gid] = await MYSQL_UID_GID();
    for (const d of [dir, tmp]) {
      mkdirSync(d, { mode: 0o755 });
      chownSync(d, uid, gid);
    }
    // --tmpdir (passed on to the bootstrap server): not the shared /tmp, see sandboxConfig.
    await execa('mariadb-install-db', ['--no-defaults', `--datadir=${dir}`, '--user=mysql', '--skip-test-db', '--skip-name-resolve', '--innodb-log-file-size=4M', `--tmpdir=${tmp}`], { timeout: 120_000 });
    return dir;
  })();
  // A failed install is reported by the test that asked; the next one tries afresh.
  template.catch(() => {
    template = undefined;
    rmSync(`${base}/template`, { recursive: true, force: true });
    rmSync(`${base}/template-tmp`, { recursive: true, force: true });
  });
  return template;
}

let baseDir: string | undefined;
const created: string[] = [];

function base(): string {
  if (!baseDir) {
    baseDir = mkdtempSync(`${tmpdir()}/ha-mysqld-${process.pid}-`);
    // The server runs as mysql and must reach its datadir under here.
    chmodSync(baseDir, 0o755);
  }
  return baseDir;
}

/**
 * A fresh sandbox: `initialised: false` leaves the datadir empty (for the
 * refusal tests), `configExtra` adds [mysqld] lines.
 */
export async function makeSandbox(name: string, { initialised = true, configExtra = '' } = {}): Promise<MariadbSandbox> {
  const root = `${base()}/${name}`;
  mkdirSync(root, { mode: 0o755 });
  const [uid, gid] = await MYSQL_UID_GID();
  const datadir = `${root}/data`;
  if (initialised) cpSync(await templateDatadir(base()), datadir, { recursive: true, preserveTimestamps: true });
  else mkdirSync(datadir, { mode: 0o755 });
  chownRecursive(datadir, uid, gid);
  const runDir = `${root}/run`;
  mkdirSync(runDir, { mode: 0o755 });
  chownSync(runDir, uid, gid);
  const box = { root, datadir, runDir, socket: `${runDir}/mysqld.sock`, pidFile: `${runDir}/mysqld.pid`, errorLog: `${root}/error.log`, config: `${root}/my.cnf` };
  writeFileSync(box.config, sandboxConfig(box, configExtra));
  created.push(datadir);
  return { ...box, ocfParams: { config: box.config } };
}

function chownRecursive(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = `${path}/${entry.name}`;
    if (entry.isDirectory()) chownRecursive(full, uid, gid);
    else chownSync(full, uid, gid);
  }
}

/** PIDs of mariadbd/mysqld processes serving `datadir` (found through /proc/PID/cwd). */
export function serverPidsOn(datadir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const exe = readlinkSync(`/proc/${name}/exe`);
      if (!/\/(mariadbd|mysqld)( \(deleted\))?$/.test(exe)) continue;
      if (readlinkSync(`/proc/${name}/cwd`) === datadir) pids.push(Number(name));
    } catch {
      // Exited meanwhile, or not ours to read.
    }
  }
  return pids;
}

/** mysqld_safe shells whose argv names one of our datadirs. */
function mysqldSafePidsFor(datadirs: readonly string[]): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSyncSafe(`/proc/${name}/cmdline`).split('\0');
      if (argv.some((a) => /mysqld_safe$|mariadbd-safe$/.test(a)) && argv.some((a) => datadirs.some((d) => a === `--datadir=${d}` || a.includes(d)))) pids.push(Number(name));
    } catch {
      // Gone.
    }
  }
  return pids;
}

const readFileSyncSafe = (p: string) => readFileSync(p, 'utf8');

/** Ends every server (and mysqld_safe) on our datadirs, by PID, and removes the sandboxes. Call from t.teardown. */
export async function destroySandboxes(): Promise<void> {
  const dirs = [...created];
  for (const pid of mysqldSafePidsFor(dirs)) killQuietly(pid, 'SIGKILL');
  for (const dir of dirs) for (const pid of serverPidsOn(dir)) {
    killQuietly(pid, 'SIGCONT');
    killQuietly(pid, 'SIGKILL');
  }
  const deadline = Date.now() + 10_000;
  while (dirs.some((d) => serverPidsOn(d).length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (baseDir && existsSync(baseDir)) rmSync(baseDir, { recursive: true, force: true });
  baseDir = undefined;
  template = undefined;
  created.length = 0;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Runs SQL through the mariadb client over the sandbox socket as root (unix_socket auth); no password involved. */
export async function sql(box: Pick<MariadbSandbox, 'socket'>, statement: string): Promise<string> {
  const { stdout } = await execa('mariadb', ['--no-defaults', `--socket=${box.socket}`, '-uroot', '-N', '-B', '-e', statement], { timeout: 30_000 });
  return stdout;
}
