import { run } from '../system/exec.ts';
import { readOrEmpty } from '../system/files.ts';

// The server's user and group. /etc/passwd and /etc/group answer for local
// accounts without a spawn; NSS accounts (LDAP, sssd) need getent. Only
// start asks.

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** Pure: one user from passwd(5) text. */
export function findPasswdEntry(passwd: string, name: string): PasswdEntry | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** Pure: a group's gid from group(5) text. */
export function findGroupId(group: string, name: string): number | undefined {
  for (const line of group.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 3) return Number(f[2]);
  }
  return undefined;
}

export async function lookUpUser(name: string): Promise<PasswdEntry | undefined> {
  const local = findPasswdEntry(readOrEmpty('/etc/passwd'), name);
  if (local) return local;
  const r = await run('getent', ['passwd', name], { allowFailure: true, timeoutMs: 5000 });
  return r.exitCode === 0 ? findPasswdEntry(r.stdout, name) : undefined;
}

export async function lookUpGroupId(name: string): Promise<number | undefined> {
  const local = findGroupId(readOrEmpty('/etc/group'), name);
  if (local !== undefined) return local;
  const r = await run('getent', ['group', name], { allowFailure: true, timeoutMs: 5000 });
  return r.exitCode === 0 ? findGroupId(r.stdout, name) : undefined;
}
