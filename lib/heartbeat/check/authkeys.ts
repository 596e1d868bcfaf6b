import { statSync } from 'node:fs';
import { AUTH_METHODS, parseAuthKeys } from '../authkeys.ts';
import type { Findings } from './codes.ts';
import type { NodeFiles } from './context.ts';

// authkeys (HA2xx) as heartbeat reads it: there, mode 0600, an auth line
// naming a key that exists, a method that authenticates.

export function checkAuthkeys(files: NodeFiles, file: string, findings: Findings): void {
  const text = files.read(file);
  if (typeof text !== 'string') {
    findings.add('HA201', file, 0, `cannot read ${file} (${text.error}); heartbeat does not start without it`, `create it with "auth 1" and "1 sha1 SECRET" (the same on both nodes), then chmod 600 ${file}`);
    return;
  }
  const mode = statSync(files.path(file)).mode & 0o777;
  if (mode & 0o077) {
    findings.add('HA202', file, 0, `${file} is mode ${mode.toString(8).padStart(4, '0')}; heartbeat refuses to start unless only root can read it ("Bad permissions on keyfile")`, `chmod 600 ${file}`);
  }
  const keys = parseAuthKeys(text);
  for (const bad of keys.invalid) findings.add('HA206', file, bad.line, `"${bad.text}" is neither "auth N" nor "N method secret"`, 'write key lines as "1 sha1 SECRET"');
  for (const key of keys.keys) {
    if (!AUTH_METHODS.has(key.method)) findings.add('HA206', file, key.line, `key ${key.index} uses the unknown method "${key.method}"`, 'use sha1 (or md5)');
    else if (key.method !== 'crc' && !key.secret) findings.add('HA206', file, key.line, `key ${key.index} (${key.method}) has no secret`, `write "${key.index} ${key.method} SECRET" with a long random secret, the same on both nodes`);
  }
  if (!keys.auth) {
    findings.add('HA203', file, 0, 'no "auth N" line: heartbeat does not know which key to use and refuses to start ("Missing auth directive")', `add "auth ${keys.keys[0]?.index ?? 1}"`);
    return;
  }
  const used = keys.keys.find((k) => k.index === keys.auth!.index);
  if (!used) {
    findings.add('HA204', file, keys.auth.line, `auth ${keys.auth.raw} names key ${keys.auth.raw || '(none)'}, but ${keys.keys.length ? `the keys are ${keys.keys.map((k) => k.index).join(', ')}` : 'there is no key line'}`, keys.keys.length ? `write "auth ${keys.keys[0]!.index}" or add a key line "${keys.auth.raw} sha1 SECRET"` : `add "${keys.auth.raw || 1} sha1 SECRET"`);
  } else if (used.method === 'crc') {
    findings.add('HA205', file, used.line, 'key method crc authenticates nothing: anyone on the heartbeat network can send heartbeat messages', 'use "sha1 SECRET" on both nodes');
  }
}
