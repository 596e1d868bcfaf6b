// ha.cf as heartbeat 3.0's parse_config() reads it: `#` starts a comment
// anywhere on a line, the first word is the directive, the rest are its
// values (most directives take each word as one value: `node a b`; the
// media directives bcast/mcast/ucast/serial/ping take the whole rest).
// Pure: text in, entries with line numbers out.

export interface HaCfEntry {
  directive: string;
  /** As written (heartbeat matches directives case-insensitively). */
  directiveAsWritten: string;
  values: string[];
  line: number;
}

/** Every directive heartbeat 3.0.6 accepts (its Directives[] and media plugin names). */
export const HA_CF_DIRECTIVES: ReadonlySet<string> = new Set([
  // Directives[]
  'hopfudge', 'keepalive', 'deadtime', 'deadping', 'warntime', 'initdead', 'watchdog', 'baud', 'udpport', 'realtime', 'auto_failback',
  'hbgenmethod', 'debugfile', 'logfile', 'logfacility', 'respawn', 'rtprio', 'generation', 'node', 'uuidfrom', 'coredumps', 'coreroot',
  'autojoin', 'crm', 'pacemaker', 'msgfmt', 'compression', 'compression_threshold', 'traditional_compression', 'use_logd',
  'conn_logd_time', 'log_badpack', 'syslogmsgfmt', 'max_rexmit_delay', 'enable_config_writes', 'record_config_changes',
  'record_pengine_inputs', 'memreserve', 'quorum_server', 'apiauth', 'debug', 'env', 'stonith', 'stonith_host', 'nice_failback',
  'register_to_apphbd', 'use_apphbd', 'ping_group', 'udp',
  // communication media (HBcomm plugins)
  'bcast', 'mcast', 'mcast6', 'ucast', 'ucast6', 'serial', 'ping', 'ping6',
]);

/** Directives whose values are the whole rest of the line (one medium per line). */
export const MEDIA_DIRECTIVES: ReadonlySet<string> = new Set(['bcast', 'mcast', 'mcast6', 'ucast', 'ucast6', 'serial', 'ping', 'ping6', 'ping_group', 'udp']);

export function parseHaCf(text: string): HaCfEntry[] {
  const entries: HaCfEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const words = raw.replace(/#.*/s, '').trim().split(/\s+/).filter(Boolean);
    if (!words.length) return;
    const [directive, ...values] = words as [string, ...string[]];
    entries.push({ directive: directive.toLowerCase(), directiveAsWritten: directive, values, line: index + 1 });
  });
  return entries;
}

/**
 * heartbeat's get_msec(): a number (decimals allowed) with an optional unit,
 * seconds when none: `2`, `1.5`, `500ms`, `500msec`, `2s`, `100us`.
 * Returns milliseconds, or undefined when heartbeat would not accept it.
 */
export function parseDurationMs(value: string): number | undefined {
  const match = /^(\d+(?:\.\d*)?|\.\d+)(ms|msec|s|sec|us|usec)?$/i.exec(value.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  if (unit === 'ms' || unit === 'msec') return n;
  if (unit === 'us' || unit === 'usec') return n / 1000;
  return n * 1000;
}

/** The last value of a directive (heartbeat: later lines override earlier ones), with its line. */
export function lastValue(entries: readonly HaCfEntry[], directive: string): { value: string; line: number } | undefined {
  const found = entries.filter((e) => e.directive === directive && e.values.length).at(-1);
  return found ? { value: found.values.at(-1)!, line: found.line } : undefined;
}

/** Node names declared with `node` (lower-cased, as heartbeat compares them), with their lines. */
export function declaredNodes(entries: readonly HaCfEntry[]): { name: string; line: number }[] {
  return entries.filter((e) => e.directive === 'node').flatMap((e) => e.values.map((v) => ({ name: v.toLowerCase(), line: e.line })));
}

/** Heartbeat's defaults when the directive is absent (ms). */
export const TIMING_DEFAULTS_MS = { keepalive: 1000, deadtime: 30000, warntime: undefined, initdead: undefined } as const;
