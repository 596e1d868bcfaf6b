import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Where drbdadm is. The stock drbddisk script starts with DRBDADM=/sbin/drbdadm
// and then sources /etc/default/drbd, so a site can point it elsewhere (and,
// since the script expands $DRBDADM unquoted, add arguments such as
// "-c /etc/drbd-ha.conf"). We read that file as data, never through a shell.

export const DEFAULT_DRBDADM = '/sbin/drbdadm';
export const DEFAULT_DEFAULTS_FILE = '/etc/default/drbd';
export const DEFAULT_PROC_DRBD = '/proc/drbd';

export interface CommandLine {
  command: string;
  args: string[];
}

/** Splits a value the way an unquoted $DRBDADM expands: on blanks, after the assignment's own quotes are gone. */
function splitWords(value: string): string[] {
  return value.split(/[ \t]+/).filter(Boolean);
}

/** Characters that would make the shell do more than a plain assignment; such a value is refused, not guessed at. */
const SHELL_EXPANSION = /[$`\\;&|<>(){}*?[\]!~]/;

/**
 * Variable assignments of a shell defaults file (`NAME=value`, `export NAME=value`,
 * single or double quotes). Returns the values, or an error naming the line.
 */
export function parseDefaultsFile(text: string): { values: Map<string, string>; problems: string[] } {
  const values = new Map<string, string>();
  const problems: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) return;
    let value = m[2]!.replace(/\s+#.*$/, '').trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote!) && value.length >= 2) value = value.slice(1, -1);
    if (SHELL_EXPANSION.test(value)) {
      problems.push(`line ${index + 1}: ${m[1]} uses shell syntax (${JSON.stringify(value)}); only plain values are supported`);
      return;
    }
    values.set(m[1]!, value);
  });
  return { values, problems };
}

export interface DrbdTools {
  drbdadm: CommandLine;
  /** drbd 9's drbdsetup, for the status fallback. */
  drbdsetup: string;
  /** Where DRBDADM came from, for error messages. */
  drbdadmSource: string;
  procDrbd: string;
}

export interface ToolsProblem {
  file: string;
  message: string;
}

/**
 * DRBDADM from the environment, else from /etc/default/drbd (path overridable
 * by DRBD_DEFAULTS_FILE), else /sbin/drbdadm. DRBDSETUP likewise, else the
 * drbdsetup next to drbdadm, else `drbdsetup` from PATH. DRBD_PROC_FILE
 * overrides /proc/drbd (tests cannot create /proc/drbd).
 */
export function resolveDrbdTools(env: NodeJS.ProcessEnv): DrbdTools | ToolsProblem {
  const file = env.DRBD_DEFAULTS_FILE || DEFAULT_DEFAULTS_FILE;
  let fromFile = new Map<string, string>();
  if (existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      return { file, message: `cannot read ${file}: ${(error as Error).message}` };
    }
    const parsed = parseDefaultsFile(text);
    const bad = parsed.problems.find((p) => /DRBDADM|DRBDSETUP/.test(p));
    if (bad) return { file, message: `${file} ${bad}` };
    fromFile = parsed.values;
  }
  const pick = (name: string) => (env[name] ? { value: env[name]!, source: `${name} in the environment` } : fromFile.get(name) ? { value: fromFile.get(name)!, source: `${name} in ${file}` } : undefined);
  const adm = pick('DRBDADM');
  if (adm && SHELL_EXPANSION.test(adm.value)) return { file, message: `${adm.source} uses shell syntax (${JSON.stringify(adm.value)})` };
  const words = splitWords(adm?.value ?? DEFAULT_DRBDADM);
  if (words.length === 0) return { file, message: `${adm?.source ?? 'DRBDADM'} is empty` };
  const drbdadm = { command: words[0]!, args: words.slice(1) };
  const setup = pick('DRBDSETUP')?.value;
  const sibling = drbdadm.command.includes('/') ? join(dirname(drbdadm.command), 'drbdsetup') : '';
  return {
    drbdadm,
    drbdsetup: setup || (sibling && existsSync(sibling) ? sibling : 'drbdsetup'),
    drbdadmSource: adm?.source ?? 'the default',
    procDrbd: env.DRBD_PROC_FILE || DEFAULT_PROC_DRBD,
  };
}

/** True when `command` (a path, or a name looked up in PATH) is an executable file. */
export function isExecutable(command: string, env: NodeJS.ProcessEnv): boolean {
  const candidates = command.includes('/') ? [command] : (env.PATH ?? '').split(':').filter(Boolean).map((dir) => join(dir, command));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
