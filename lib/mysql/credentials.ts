import { statSync } from 'node:fs';
import { effectiveOptions, OPTION_OFF, readOptionFiles, type OptionFileSource, nodeOptionFileSource } from './mycnf.ts';

// Monitoring credentials live in a MySQL option file (the format of
// Debian's /etc/mysql/debian.cnf: [client] user= password=), never on a
// command line or in the environment, where `ps` or /proc would show them.

export interface Credentials {
  user?: string;
  password?: string;
}

/** Pure: the problem with a credentials file's owner and mode, or undefined when it is private enough. */
export function credentialsFileModeProblem(stat: { mode: number; uid: number; isFile: boolean }, euid: number): string | undefined {
  if (!stat.isFile) return 'is not a regular file';
  const perms = stat.mode & 0o777;
  if (perms & 0o077) return `is mode ${perms.toString(8).padStart(4, '0')}; it holds a password, so it must be 0600 or stricter (chmod 600)`;
  if (stat.uid !== 0 && stat.uid !== euid) return `is owned by uid ${stat.uid}, not by root or by us (uid ${euid})`;
  return undefined;
}

export class CredentialsFileError extends Error {}

/** Reads [client] user/password from the file after checking it is private. */
export function readCredentialsFile(path: string, source: OptionFileSource = nodeOptionFileSource, euid = process.geteuid?.() ?? 0): Credentials {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new CredentialsFileError(`credentials file ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const problem = credentialsFileModeProblem({ mode: stat.mode, uid: stat.uid, isFile: stat.isFile() }, euid);
  if (problem) throw new CredentialsFileError(`credentials file ${path} ${problem}`);
  let options;
  try {
    options = effectiveOptions(readOptionFiles([path], source), ['client', 'client-server']);
  } catch (error) {
    throw new CredentialsFileError(`credentials file ${path}: ${(error as Error).message}`);
  }
  const value = (name: string) => {
    const v = options.get(name);
    return v === undefined || v === OPTION_OFF ? undefined : v;
  };
  return { user: value('user'), password: value('password') ?? value('pass') };
}
