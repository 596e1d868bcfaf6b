import { appendFileSync } from 'node:fs';
import { isTerminal, writeStderr } from './stdio.ts';

// Mirrors __ha_log / ha_debug / ocf_log from resource-agents' ocf-shellfuncs
// line for line, so our lines sit in heartbeat's logs exactly like the
// stock agents' lines do and the same greps find them.

export type Priority = 'crit' | 'err' | 'warn' | 'info' | 'debug';

const PRIORITY_WORD: Record<Priority, string> = {
  crit: 'CRIT',
  err: 'ERROR',
  warn: 'WARNING',
  info: 'INFO',
  debug: 'DEBUG',
};

/**
 * ocf-directories' fallback. The heartbeat daemon exports
 * HA_DATEFMT="%Y/%m/%d_%T " to its children, which gives the familiar
 * `IPaddr[PID]: 2013/01/23_04:09:37 INFO: ...` lines.
 */
const DEFAULT_DATEFMT = '%b %d %T ';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * The strftime subset that HA_DATEFMT values use in practice, plus GNU
 * date's %N (nanoseconds; %3N milliseconds), which the stock shell agents
 * get from date(1): HA_DATEFMT="%Y/%m/%d_%T.%3N " stamps every line of
 * ResourceManager, the stock agents and ours to the millisecond (the test
 * rig's timeline). The default formats have no %N.
 */
export function formatHaDate(format: string, date: Date): string {
  return format.replace(/%(\d?)([a-zA-Z%])/g, (whole, width: string, letter: string) => {
    if (letter === 'N') {
      const digits = `${pad(date.getMilliseconds(), 3)}000000`;
      return digits.slice(0, width ? Math.min(9, Number(width)) || 9 : 9);
    }
    if (width) return whole;
    switch (letter) {
      case 'Y': return String(date.getFullYear());
      case 'y': return pad(date.getFullYear() % 100);
      case 'm': return pad(date.getMonth() + 1);
      case 'd': return pad(date.getDate());
      case 'e': return String(date.getDate()).padStart(2, ' ');
      case 'b': case 'h': return MONTHS[date.getMonth()]!;
      case 'H': return pad(date.getHours());
      case 'M': return pad(date.getMinutes());
      case 'S': return pad(date.getSeconds());
      case 'T': return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
      case 'F': return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
      case 's': return String(Math.floor(date.getTime() / 1000));
      case '%': return '%';
      default: return whole;
    }
  });
}

export interface LogSink {
  /** Where a line goes: a file path (appended) or 'stderr'. */
  append(target: string, line: string): void;
  syslog(tag: string, facilityDotLevel: string, message: string): void;
}

const realSink: LogSink = {
  append(target, line) {
    try {
      if (target === 'stderr') writeStderr(line);
      else appendFileSync(target, line);
    } catch {
      // A log we cannot write must never turn a good stop into a failed one.
    }
  },
  syslog(tag, priority, message) {
    // Loaded here, not at import: node:child_process costs every call a few ms in the Bun binary, and syslog is opt-in.
    const { spawnSync } = process.getBuiltinModule('node:child_process');
    spawnSync('logger', ['-t', tag, '-p', priority, message], { stdio: 'ignore', timeout: 5000 });
  },
};

export class Logger {
  private name = 'ha-agent';
  private env: NodeJS.ProcessEnv = process.env;
  /** Asked only when a line is logged: most status calls log nothing. */
  private stdinIsTtyOverride: boolean | undefined;
  private sink: LogSink = realSink;
  private now: () => Date = () => new Date();

  configure(options: { name: string; env?: NodeJS.ProcessEnv; stdinIsTty?: boolean; sink?: LogSink; now?: () => Date }): void {
    this.name = options.name;
    this.env = options.env ?? process.env;
    this.stdinIsTtyOverride = options.stdinIsTty;
    if (options.sink) this.sink = options.sink;
    if (options.now) this.now = options.now;
  }

  private get stdinIsTty(): boolean {
    this.stdinIsTtyOverride ??= isTerminal(0);
    return this.stdinIsTtyOverride;
  }

  get tag(): string {
    const { HA_LOGTAG, OCF_RESOURCE_INSTANCE } = this.env;
    if (HA_LOGTAG) return HA_LOGTAG;
    return OCF_RESOURCE_INSTANCE ? `${this.name}(${OCF_RESOURCE_INSTANCE})[${process.pid}]` : `${this.name}[${process.pid}]`;
  }

  private date(): string {
    return formatHaDate(this.env.HA_DATEFMT ?? DEFAULT_DATEFMT, this.now());
  }

  private facility(): string {
    const facility = this.env.HA_LOGFACILITY ?? '';
    return facility === 'none' ? '' : facility;
  }

  /** __ha_log: `message` already carries its "INFO: " style prefix. */
  haLog(message: string, { ignoreStderr = false } = {}): void {
    const env = this.env;
    if (this.stdinIsTty) {
      if (!ignoreStderr) this.sink.append('stderr', `${env.HA_LOGTAG ? `${env.HA_LOGTAG}: ` : ''}${message}\n`);
      return;
    }
    const tag = this.tag;
    const facility = this.facility();
    if (facility) {
      const level = /ERROR/.test(message) ? 'err' : /WARN/.test(message) ? 'warning' : /INFO/.test(message) || message === 'info' ? 'info' : 'notice';
      this.sink.syslog(tag, `${facility}.${level}`, message);
    }
    const logfile = env.HA_LOGFILE ?? '';
    if (logfile) this.sink.append(logfile, `${this.date()} ${tag}:    ${message}\n`);
    if (!facility && !logfile && !ignoreStderr) this.sink.append('stderr', `${this.date()}${message}\n`);
    const debuglog = env.HA_DEBUGLOG ?? '';
    if (debuglog && debuglog !== logfile) this.sink.append(debuglog, `${tag}:\t${this.date()}${message}\n`);
  }

  /** ha_debug */
  haDebug(message: string): void {
    const env = this.env;
    if (!env.HA_debug || env.HA_debug === '0') return;
    if (this.stdinIsTty) {
      this.sink.append('stderr', `${env.HA_LOGTAG ? `${env.HA_LOGTAG}: ` : ''}${message}\n`);
      return;
    }
    const tag = this.tag;
    const facility = this.facility();
    if (facility) this.sink.syslog(tag, `${facility}.debug`, message);
    const debuglog = env.HA_DEBUGLOG ?? '';
    if (debuglog) this.sink.append(debuglog, `${tag}:\t${this.date()}${message}\n`);
    if (!facility && !debuglog) this.sink.append('stderr', `${tag}:\t${this.date()}${message}:\t${facility}\n`);
  }

  /** ocf_log */
  log(priority: Priority, message: string, options?: { ignoreStderr?: boolean }): void {
    const line = `${PRIORITY_WORD[priority]}: ${message}`;
    if (priority === 'debug') this.haDebug(line);
    else this.haLog(line, options);
  }

  crit(message: string): void { this.log('crit', message); }
  error(message: string, options?: { ignoreStderr?: boolean }): void { this.log('err', message, options); }
  warn(message: string): void { this.log('warn', message); }
  info(message: string): void { this.log('info', message); }
  debug(message: string): void { this.log('debug', message); }
}

/** One logger per process: an agent call is one process. The dispatcher configures it. */
export const log = new Logger();
