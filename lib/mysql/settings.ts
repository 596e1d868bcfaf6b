import { existsSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { MYSQLD_SAFE_GROUPS, OPTION_OFF, SERVER_GROUPS, effectiveOptions, type OptionEntry } from './mycnf.ts';
import { hostName } from '../system/host.ts';

// What the server will use: its option files as the server reads them,
// [mysqld_safe] where mysqld_safe would pass it on, and the agent's
// parameters over both. We then pass datadir, pid-file, socket, user and
// log-error explicitly on the server's command line, so the agent and the
// server cannot disagree about where things are.

/** The files mariadbd reads when given no --defaults-file (its --help --verbose), minus ~/.my.cnf. */
export const DEFAULT_CONFIG_FILES = ['/etc/my.cnf', '/etc/mysql/my.cnf'] as const;

export const DEFAULT_DATADIR = '/var/lib/mysql';
export const DEFAULT_SOCKET = '/run/mysqld/mysqld.sock';
export const DEFAULT_USER = 'mysql';

/** Where a server binary usually is; the first that exists is the default. */
export const SERVER_BINARY_CANDIDATES = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/local/mysql/bin/mysqld', '/usr/libexec/mysqld', '/usr/bin/mysqld_safe'] as const;

/** mysqld_safe takes these from its own groups and passes them to the server. */
const PASSED_BY_MYSQLD_SAFE = ['datadir', 'pid_file', 'socket', 'user', 'log_error'] as const;

export interface SettingOverrides {
  binary?: string;
  datadir?: string;
  user?: string;
  group?: string;
  log?: string;
  pid?: string;
  socket?: string;
}

export interface ServerSettings {
  binary: string;
  /** The binary is mysqld_safe (asked for by name): it runs and respawns the server. */
  underMysqldSafe: boolean;
  datadir: string;
  user: string;
  group: string;
  pidFile: string;
  socket: string;
  logError: string;
  /** Absolute base path of the binary logs, when log-bin is on. */
  logBin?: string;
  port?: string;
  bindAddress?: string;
  /** skip-networking: Unix socket only. */
  skipNetworking: boolean;
  /** Where each value came from, for messages: "config", "parameter", "default". */
  origin: Record<'datadir' | 'pidFile' | 'socket' | 'logError' | 'user', string>;
}

const given = (value: string | undefined): value is string => value !== undefined && value !== '' && value !== OPTION_OFF;

function underDatadir(datadir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(datadir, path);
}

export function defaultServerBinary(exists: (path: string) => boolean = existsSync): string {
  return SERVER_BINARY_CANDIDATES.find(exists) ?? SERVER_BINARY_CANDIDATES[0];
}

/** A bare name ("mariadbd") is looked up in PATH, as the stock agent's `which` does; a path is taken as given. */
export function resolveBinaryPath(binary: string, path: string | undefined, exists: (p: string) => boolean = existsSync): string {
  if (binary.includes('/')) return binary;
  const dirs = (path || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter(Boolean);
  return dirs.map((d) => `${d}/${binary}`).find(exists) ?? binary;
}

/** Pure: option entries (already read) + parameters → what the server will use. */
export function resolveServerSettings(entries: readonly OptionEntry[], overrides: SettingOverrides, host: string = hostName(), binaryExists?: (path: string) => boolean): ServerSettings {
  const server = effectiveOptions(entries, SERVER_GROUPS);
  const safe = effectiveOptions(entries, MYSQLD_SAFE_GROUPS);
  const option = (name: string): string | undefined => {
    const fromSafe = (PASSED_BY_MYSQLD_SAFE as readonly string[]).includes(name) ? safe.get(name) : undefined;
    return given(fromSafe) ? fromSafe : server.get(name);
  };
  const pick = (param: string | undefined, name: string, fallback: string): [string, string] =>
    given(param) ? [param, 'parameter'] : given(option(name)) ? [option(name)!, 'config'] : [fallback, 'default'];

  const [datadirRaw, datadirOrigin] = pick(overrides.datadir, 'datadir', DEFAULT_DATADIR);
  const datadir = resolve(datadirRaw);
  const baseName = given(server.get('log_basename')) ? server.get('log_basename')! : host.split('.')[0]!;
  const [pidRaw, pidOrigin] = pick(overrides.pid, 'pid_file', `${baseName}.pid`);
  const [socketRaw, socketOrigin] = pick(overrides.socket, 'socket', DEFAULT_SOCKET);
  const [logRaw, logOrigin] = pick(overrides.log, 'log_error', `${baseName}.err`);
  const [user, userOrigin] = pick(overrides.user, 'user', DEFAULT_USER);
  const binary = given(overrides.binary) ? overrides.binary : defaultServerBinary(binaryExists);
  const logBinValue = server.get('log_bin');
  const logBinOn = server.has('log_bin') && logBinValue !== OPTION_OFF && !/^(0|off|false)$/i.test(logBinValue ?? '');
  return {
    binary,
    underMysqldSafe: /safe/.test(basename(binary)),
    datadir,
    user,
    group: given(overrides.group) ? overrides.group : user,
    pidFile: underDatadir(datadir, pidRaw),
    socket: underDatadir(datadir, socketRaw),
    logError: underDatadir(datadir, logRaw),
    logBin: logBinOn ? underDatadir(datadir, given(logBinValue) ? logBinValue : `${baseName}-bin`) : undefined,
    port: server.get('port'),
    bindAddress: server.get('bind_address'),
    skipNetworking: server.has('skip_networking') && !/^(0|off|false)$/i.test(server.get('skip_networking') ?? ''),
    origin: { datadir: datadirOrigin, pidFile: pidOrigin, socket: socketOrigin, logError: logOrigin, user: userOrigin },
  };
}

/** Pure: why clients following the VIP could not reach this server, if they could not. */
export function unreachableFromVip(settings: Pick<ServerSettings, 'bindAddress' | 'skipNetworking'>): string | undefined {
  if (settings.skipNetworking) return 'skip-networking is set: the server listens on its Unix socket only';
  const bind = settings.bindAddress?.trim();
  if (bind && /^(127\.|::1$|localhost$)/.test(bind)) return `bind-address is ${bind}: only local clients can connect`;
  return undefined;
}
