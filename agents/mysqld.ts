import { existsSync, unlinkSync } from 'node:fs';
import type { AgentContext, AgentDefinition, Params } from '../lib/contract/agent.ts';
import { GenericError, InvalidParameterError, NotInstalledError, PermissionError, RefusedError, TimeoutError } from '../lib/contract/errors.ts';
import { log } from '../lib/system/log.ts';
import { readMountinfo } from '../lib/fs/mountinfo.ts';
import { OptionFileError, readOptionFiles } from '../lib/mysql/mycnf.ts';
import { CredentialsFileError, readCredentialsFile } from '../lib/mysql/credentials.ts';
import { lookUpGroupId, lookUpUser } from '../lib/mysql/accounts.ts';
import { datadirFilesystemProblem, datadirProblem, declaredMountPointFor, notOnDeclaredMount, onOtherFilesystem } from '../lib/mysql/datadir.ts';
import { canonicalDatadir, findMysqldSafePids, findPidsStartedWith, findServerPids, uninspectableServerPids } from '../lib/mysql/proc.ts';
import { ensureRuntimeDirectory, fileSize, logTail, serverArguments, spawnDetached } from '../lib/mysql/server.ts';
import { terminate } from '../lib/system/terminate.ts';
import { DEFAULT_CONFIG_FILES, resolveBinaryPath, resolveServerSettings, unreachableFromVip, type ServerSettings } from '../lib/mysql/settings.ts';
import { parseBoolean } from '../lib/contract/params.ts';

// mysqld: MySQL/MariaDB on the replicated disk. Start refuses anything that
// could make an unmounted or foreign datadir a fresh primary, and returns
// only once the server answers a query; stop waits for the clean shutdown
// (SIGKILL only after a generous bound) and makes sure no mysqld_safe
// respawns it; status is /proc only.

const KILL_WAIT_MS = 5000;

// validate and the action both need the settings; read the files once per call.
interface Settings {
  settings: ServerSettings;
  defaultsFile?: string;
  /** No config given and none of the default option files exists. */
  noOptionFile: boolean;
}
const settingsCache = new WeakMap<Params, Settings>();

function settingsFor({ params, env }: AgentContext): Settings {
  const cached = settingsCache.get(params);
  if (cached) return cached;
  const config = params.get('config');
  let entries;
  try {
    entries = config ? readOptionFiles([config]) : readOptionFiles(DEFAULT_CONFIG_FILES, undefined, { optional: true });
  } catch (error) {
    if (!(error instanceof OptionFileError)) throw error;
    // Missing here may mean "on a disk this node does not have mounted": node-local (5), not a broken config (6).
    if (error.reason === 'ENOENT') throw new NotInstalledError(`${error.message} on this node`);
    throw new InvalidParameterError('config', error.message);
  }
  const settings = resolveServerSettings(entries, {
    binary: params.get('binary') && resolveBinaryPath(params.get('binary'), env.PATH),
    datadir: params.get('datadir'),
    user: params.get('user'),
    group: params.get('group'),
    log: params.get('log'),
    pid: params.get('pid'),
    socket: params.get('socket'),
  });
  const result = { settings, defaultsFile: config || undefined, noOptionFile: !config && !DEFAULT_CONFIG_FILES.some((file) => existsSync(file)) };
  settingsCache.set(params, result);
  return result;
}

function monitorLogin(params: Params): { user: string; password?: string } {
  const file = params.get('test_credentials_file');
  if (!file) return { user: params.get('test_user') };
  try {
    const creds = readCredentialsFile(file);
    return { user: params.has('test_user') && params.get('test_user') !== 'root' ? params.get('test_user') : (creds.user ?? params.get('test_user')), password: creds.password };
  } catch (error) {
    if (error instanceof CredentialsFileError) throw new InvalidParameterError('test_credentials_file', error.message);
    throw error;
  }
}

function running(settings: ServerSettings): number[] {
  return findServerPids(settings.datadir, settings.pidFile, settings.binary).pids;
}

/**
 * No option file anywhere and no datadir parameter: the server would start
 * on its compiled-in datadir (/var/lib/mysql), this node's own disk, and a
 * takeover would serve an empty or stale database with exit 0. Node-local
 * (/etc is this node's), so OCF_ERR_INSTALLED: another node may be set up.
 */
function refuseWithoutOptionFile(ctx: AgentContext, { settings, noOptionFile }: Settings): void {
  if (!noOptionFile || settings.origin.datadir !== 'default') return;
  const name = ctx.mode === 'v1' ? 'no mysqld::FILE' : 'no config parameter';
  throw new NotInstalledError(
    `no option file: neither ${DEFAULT_CONFIG_FILES.join(' nor ')} exists on this node and ${name} names one, so the server would start on its compiled-in datadir ${settings.datadir} (this node's own disk, not the replicated one); refusing`,
  );
}

async function start(ctx: AgentContext): Promise<void> {
  const found = settingsFor(ctx);
  refuseWithoutOptionFile(ctx, found);
  const { settings, defaultsFile } = found;
  const already = running(settings);
  if (already.length) {
    log.info(`mysqld already running on ${settings.datadir} (pid ${already.join(', ')})`);
    return;
  }
  if (!existsSync(settings.binary)) throw new NotInstalledError(`server binary ${settings.binary} not found`);
  const login = monitorLogin(ctx.params);
  const owner = await lookUpUser(settings.user);
  if (!owner) throw new NotInstalledError(`the server user ${settings.user} does not exist on this node`);
  const problem = datadirProblem(settings.datadir, settings.user, owner.uid);
  if (problem?.kind === 'missing') throw new NotInstalledError(problem.message);
  if (problem?.kind === 'permission') throw new PermissionError(problem.message);
  if (problem) throw new RefusedError(problem.message);
  const declared = ctx.params.has('datadir_mountpoint')
    ? { mountPoint: ctx.params.get('datadir_mountpoint').replace(/\/+$/, ''), source: 'parameter datadir_mountpoint' }
    : declaredMountPointFor(canonicalDatadir(settings.datadir), ctx.env);
  if (declared) {
    const wrongDisk = notOnDeclaredMount(settings.datadir, declared.mountPoint, readMountinfo());
    if (wrongDisk) throw new RefusedError(`${wrongDisk} (from ${declared.source})`);
  }
  const unwritable = datadirFilesystemProblem(settings.datadir);
  if (unwritable) throw new RefusedError(unwritable);
  if (settings.logBin && onOtherFilesystem(settings.logBin, settings.datadir)) {
    log.warn(`log-bin ${settings.logBin} is not on the datadir's filesystem (${settings.datadir}): after a failover the other node has none of these binlogs, and replicas following the VIP break; put log-bin on the replicated disk`);
  }
  const unreachable = unreachableFromVip(settings);
  if (unreachable) log.info(`${unreachable}; applications and replicas following the VIP cannot reach it over TCP`);
  const group = settings.group === settings.user ? owner.gid : ((await lookUpGroupId(settings.group)) ?? owner.gid);
  ensureRuntimeDirectory(settings.socket, owner.uid, group);
  ensureRuntimeDirectory(settings.pidFile, owner.uid, group);
  ensureRuntimeDirectory(settings.logError, owner.uid, group);
  const additional = ctx.params.get('additional_parameters').split(/\s+/).filter(Boolean);
  const args = serverArguments(settings, defaultsFile, additional);
  const logStart = fileSize(settings.logError);
  log.info(`starting ${settings.binary} on ${settings.datadir} (socket ${settings.socket})`);
  const child = await spawnDetached(settings.binary, args, settings.logError, owner.uid, group);
  const serverAlive = () => child.exit() === undefined;
  const { waitForMysqlReady } = await import('../lib/mysql/client.ts');
  const outcome = await waitForMysqlReady({ socket: settings.socket, ...login }, { deadline: ctx.deadline, serverAlive });
  const tail = () => {
    const lines = logTail(settings.logError, logStart, 200);
    if (!lines.length) return `; nothing in ${settings.logError}`;
    // The cause is usually the first [ERROR] (disk full: "preallocating ... failed with error 28"), the last lines only its echo.
    const firstError = lines.find((l) => /\[ERROR\]/.test(l));
    const last = lines.slice(-2);
    const shown = firstError && !last.includes(firstError) ? [firstError, '...', ...last] : lines.slice(-3);
    return `; last lines of ${settings.logError}: ${shown.join(' | ')}`;
  };
  if (outcome.state === 'exited') throw new GenericError(`${settings.binary} ${child.exit()} during startup${tail()}`);
  if (outcome.state === 'timeout') {
    throw new TimeoutError(`mysqld (pid ${child.pid}) did not accept a connection on ${settings.socket} within ${Math.round(ctx.timeoutMs / 1000)} s${outcome.lastError ? ` (last: ${outcome.lastError})` : ''}; left running${tail()}`);
  }
  if (outcome.state === 'login-refused') log.warn(`mysqld accepts connections, but the monitor login was refused (${outcome.message}); depth-10 monitors will fail until test_user/test_credentials_file are right`);
  const pid = running(settings)[0] ?? child.pid;
  log.info(`mysqld (pid ${pid}) accepts connections on ${settings.socket}${settings.underMysqldSafe ? ` (under mysqld_safe, pid ${child.pid})` : ''}`);
}

function stopBoundMs(ctx: AgentContext): number {
  if (ctx.params.has('shutdown_timeout')) return ctx.params.int('shutdown_timeout') * 1000;
  // Everything the action's timeout allows, minus the time SIGKILL needs: data first.
  return Math.max(1000, ctx.deadline - Date.now() - KILL_WAIT_MS);
}

/** The servers a stop or status is about, and the mysqld_safe shells that would respawn them. */
interface Target {
  label: string;
  /** The servers, and (stop only: `withSafes`) the mysqld_safe shells: finding those reads every process's command line. */
  find(withSafes?: boolean): { servers: number[]; safes: number[]; fromPidFile: boolean };
  pidFile?: string;
  errorLog?: string;
}

/**
 * How long a server may go without any sign of acting on SIGTERM. MariaDB
 * 10.11 deadlocks for good when SIGTERM lands while it is still starting
 * (found by test/faults/kill-points-mysqld.test.ts: a start killed, then
 * heartbeat's stop): it never logs the shutdown and would hold the stop for
 * its whole bound. A server that is shutting down says so in its error log
 * at once ("Normal shutdown", "InnoDB: Starting shutdown"); one that has
 * said nothing by now gets SIGKILL, which InnoDB recovers from (as from any
 * crash) at the next start.
 */
const NO_SHUTDOWN_SIGN_MS = 5_000;

function ignoresTerm(errorLog: string | undefined, from: number, since: number): () => boolean {
  let acted = errorLog === undefined;
  return () => {
    if (acted || Date.now() - since < NO_SHUTDOWN_SIGN_MS) return false;
    acted = logTail(errorLog!, from, 200).some((line) => /shutdown/i.test(line));
    return !acted;
  };
}

function isConfigReadError(error: unknown): boolean {
  return error instanceof NotInstalledError || (error instanceof InvalidParameterError && error.param === 'config');
}

/**
 * Normally the config's datadir. When the named config cannot be read (it
 * may be on the replicated disk), status and stop still answer, as the
 * stock agent does: about the servers started with --defaults-file=CONFIG.
 */
function targetFor(ctx: AgentContext): Target {
  try {
    const { settings } = settingsFor(ctx);
    return {
      label: settings.datadir,
      pidFile: settings.pidFile,
      errorLog: settings.logError,
      find: (withSafes = true) => {
        const found = findServerPids(settings.datadir, settings.pidFile, settings.binary);
        return { servers: found.pids, safes: withSafes ? findMysqldSafePids(settings.datadir, found.pids) : [], fromPidFile: found.fromPidFile };
      },
    };
  } catch (error) {
    const config = ctx.params.get('config');
    if (!config || !isConfigReadError(error)) throw error;
    const note = `${(error as Error).message}; looking for servers started with it instead`;
    if (ctx.action === 'stop') log.warn(note);
    else log.debug(note);
    return { label: `the servers started with ${config}`, find: () => ({ ...findPidsStartedWith(config), fromPidFile: true }) };
  }
}

async function stop(ctx: AgentContext): Promise<void> {
  const target = targetFor(ctx);
  const bound = stopBoundMs(ctx);
  // A few rounds: a respawn we did not foresee (a mysqld_safe we could not
  // tie to this datadir) is caught and stopped too, not reported as stopped.
  for (let round = 0; round < 3; round++) {
    const { servers, safes } = target.find();
    // mysqld_safe ignores SIGTERM (trap '' 15) and restarts a server that dies
    // uncleanly; end it first so it cannot respawn behind our back.
    for (const pid of safes) {
      log.info(`ending mysqld_safe (pid ${pid}) for ${target.label} so it cannot respawn the server`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    if (!servers.length) {
      if (round === 0) log.info(`mysqld not running on ${target.label}`);
      return;
    }
    log.info(`stopping mysqld (pid ${servers.join(', ')}) on ${target.label}: SIGTERM, SIGKILL after ${Math.round(bound / 1000)} s`);
    const logMark = target.errorLog ? fileSize(target.errorLog) : 0;
    const stuck = ignoresTerm(target.errorLog, logMark, Date.now());
    const outcome = await terminate(servers, {
      termWaitMs: bound,
      killWaitMs: KILL_WAIT_MS,
      pollMs: 20,
      resumeStopped: true,
      abandonTermWait: stuck,
      onKill: (pids) =>
        log.warn(stuck()
          ? `mysqld (pid ${pids.join(', ')}) shows no sign of shutting down ${NO_SHUTDOWN_SIGN_MS / 1000} s after SIGTERM (nothing in ${target.errorLog}; stuck in startup?); sending SIGKILL (InnoDB crash recovery will run at the next start)`
          : `mysqld (pid ${pids.join(', ')}) did not shut down within ${Math.round(bound / 1000)} s; sending SIGKILL (InnoDB crash recovery will run at the next start)`),
    });
    if (outcome.resumed.length) log.warn(`mysqld (pid ${servers.join(', ')}) was frozen (SIGSTOP); resumed it so it could shut down cleanly`);
    if (outcome.survivors.length) {
      throw new GenericError(`mysqld (pid ${outcome.survivors.join(', ')}) is still alive ${KILL_WAIT_MS / 1000} s after SIGKILL (stuck in the kernel?); it still holds ${target.label}`);
    }
    if (outcome.killed.length && target.pidFile) {
      // A stale pid file is what makes a mysqld_safe respawn; none should be left, but be sure.
      try {
        unlinkSync(target.pidFile);
      } catch {
        // Not there.
      }
    }
  }
  const left = target.find(false).servers;
  if (left.length) throw new GenericError(`mysqld keeps coming back on ${target.label} (now pid ${left.join(', ')}): something respawns it`);
}

async function status(ctx: AgentContext) {
  const target = targetFor(ctx);
  // Held or not is the server alone; the mysqld_safe shells matter to stop.
  const found = target.find(false);
  if (!found.servers.length) {
    // Without root another user's server is invisible in /proc: "not running" would be a guess.
    const hidden = uninspectableServerPids();
    if (hidden.length) throw new PermissionError(`status needs root here: mysqld pid ${hidden.join(', ')} belongs to another user, and only root can read which datadir it serves (/proc/PID/cwd)`);
    return { held: false, detail: target.label };
  }
  return { held: true, detail: `pid ${found.servers.join(' ')} on ${target.label}${found.fromPidFile ? '' : ', pid file missing or stale'}` };
}

async function deepCheck(ctx: AgentContext): Promise<void> {
  const { settings } = settingsFor(ctx);
  const login = monitorLogin(ctx.params);
  const table = ctx.params.get('test_table');
  const { queryOverSocket } = await import('../lib/mysql/client.ts');
  const result = await queryOverSocket({ socket: settings.socket, ...login }, `SELECT COUNT(*) FROM ${table}`, Math.max(1000, ctx.deadline - Date.now()));
  if (!result.ok) throw new GenericError(`mysqld runs but the monitor query on ${table} failed: ${result.code}: ${result.message}`);
}

function validate(ctx: AgentContext): void {
  if (ctx.env.OCF_RESKEY_test_passwd) {
    throw new InvalidParameterError('test_passwd', 'test_passwd is not accepted (a password in the environment or on a command line is visible to others); put it in a credentials file (test_credentials_file, mode 0600)');
  }
  if (parseBoolean(ctx.env.OCF_RESKEY_enable_creation ?? '')) {
    throw new InvalidParameterError('enable_creation', 'enable_creation is not supported: this agent never initialises a database (an unmounted disk would become an empty primary); initialise the datadir once by hand');
  }
  if (ctx.action === 'validate-all') {
    const found = settingsFor(ctx);
    refuseWithoutOptionFile(ctx, found);
    const { settings } = found;
    if (!existsSync(settings.binary)) throw new NotInstalledError(`server binary ${settings.binary} not found`);
    monitorLogin(ctx.params);
  }
}

const TABLE_NAME = /^[A-Za-z0-9_$]+(\.[A-Za-z0-9_$]+)?$/;

const agent: AgentDefinition = {
  name: 'mysqld',
  version: '1.0.0',
  shortdesc: 'MySQL/MariaDB server on replicated storage',
  longdesc:
    'Starts, stops and monitors one MySQL or MariaDB server. Settings come from the server\'s own option files ' +
    '(/etc/my.cnf then /etc/mysql/my.cnf, or the file named by config) and the parameters below override them. ' +
    'start refuses a missing, foreign-owned or uninitialised datadir and a datadir that is not on the filesystem ' +
    'the HA configuration mounts for it (it never initialises a database), and returns only once the server answers ' +
    'a query on its socket. stop waits for the clean shutdown and uses SIGKILL only after shutdown_timeout. ' +
    'Monitoring credentials come only from test_credentials_file, never from a command line.',
  params: [
    { name: 'config', type: 'string', default: '', v1: 0, shortdesc: 'Server option file (my.cnf) to use instead of /etc/my.cnf + /etc/mysql/my.cnf', longdesc: 'Passed to the server as --defaults-file. Empty: the server\'s default files, /etc/my.cnf then /etc/mysql/my.cnf (with their !include/!includedir). Heartbeat v1: mysqld::/path/to/my.cnf.' },
    { name: 'binary', type: 'string', default: '', shortdesc: 'Server binary (mariadbd or mysqld; mysqld_safe only if you want its respawn loop)', longdesc: 'Empty: the first of /usr/sbin/mariadbd, /usr/sbin/mysqld, /usr/local/mysql/bin/mysqld, /usr/libexec/mysqld. A path ending in mysqld_safe runs the server under mysqld_safe.' },
    { name: 'client_binary', type: 'string', default: 'mysql', shortdesc: 'Accepted for compatibility with the stock mysql agent; not used (this agent speaks the protocol itself)' },
    { name: 'datadir', type: 'string', default: '', shortdesc: 'Data directory (overrides datadir in the config)' },
    { name: 'user', type: 'string', default: '', shortdesc: 'User the server runs as (overrides user in the config; default mysql)' },
    { name: 'group', type: 'string', default: '', shortdesc: 'Group for directories and logs the agent creates (default: the user\'s group)' },
    { name: 'log', type: 'string', default: '', shortdesc: 'Error log (overrides log-error in the config; default DATADIR/HOSTNAME.err)' },
    { name: 'pid', type: 'string', default: '', shortdesc: 'Pid file (overrides pid-file in the config; default DATADIR/HOSTNAME.pid)' },
    { name: 'socket', type: 'string', default: '', shortdesc: 'Unix socket (overrides socket in the config; default /run/mysqld/mysqld.sock)' },
    { name: 'test_user', type: 'string', default: 'root', shortdesc: 'User for the readiness check and depth-10 monitor (root logs in by unix_socket when the agent runs as root)' },
    { name: 'test_credentials_file', type: 'string', default: '', shortdesc: 'Option file with [client] user= and password= for the monitor login (mode 0600 or stricter)', longdesc: 'A MySQL option file like /etc/mysql/debian.cnf. Its user overrides test_user unless test_user is set to something other than root. Replaces the stock agent\'s test_passwd, which this agent refuses: a password in the environment or argv is visible to others.' },
    { name: 'test_table', type: 'string', default: 'mysql.user', shortdesc: 'Table the depth-10 monitor counts rows of', check: (v) => (TABLE_NAME.test(v) ? undefined : 'must be a table name like mysql.user') },
    { name: 'additional_parameters', type: 'string', default: '', shortdesc: 'Extra server options, space separated (e.g. --skip-networking)' },
    { name: 'shutdown_timeout', type: 'integer', default: '', shortdesc: 'Seconds stop waits for the clean shutdown before SIGKILL (default: all the stop timeout allows, minus 5 s)' },
    { name: 'datadir_mountpoint', type: 'string', default: '', shortdesc: 'Mount point the datadir must be on; start refuses when it is not mounted', longdesc: 'Empty: taken from the Filesystem resources in HA_DIR/haresources and from /etc/fstab, whichever mounts a directory the datadir lies under.' },
  ],
  v1Synopsis: '[/path/to/my.cnf]',
  timeouts: { start: 120, stop: 120, monitor: 30 },
  lockKey: (params) => `${params.get('config') || 'default-config'}:${params.get('datadir')}`,
  validate,
  start,
  stop,
  status,
  deepCheck,
};
export default agent;
