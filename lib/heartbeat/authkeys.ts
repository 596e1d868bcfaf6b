// authkeys as heartbeat reads it: `auth N` picks key N; key lines are
// `N method [secret]` with method crc, md5 or sha1. Pure: text in, entries
// with line numbers out.

export interface AuthKey {
  index: number;
  method: string;
  secret: string;
  line: number;
}

export interface AuthKeys {
  /** The `auth N` line, if any (the last one wins). */
  auth?: { index: number | undefined; raw: string; line: number };
  keys: AuthKey[];
  /** Lines that are neither. */
  invalid: { line: number; text: string }[];
}

export const AUTH_METHODS: ReadonlySet<string> = new Set(['crc', 'md5', 'sha1']);

export function parseAuthKeys(text: string): AuthKeys {
  const result: AuthKeys = { keys: [], invalid: [] };
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/#.*/s, '').trim();
    if (!content) return;
    const words = content.split(/\s+/);
    if (words[0]!.toLowerCase() === 'auth') {
      const n = /^\d+$/.test(words[1] ?? '') ? Number(words[1]) : undefined;
      result.auth = { index: n, raw: words[1] ?? '', line };
      return;
    }
    if (/^\d+$/.test(words[0]!) && words[1]) {
      result.keys.push({ index: Number(words[0]), method: words[1].toLowerCase(), secret: words.slice(2).join(' '), line });
      return;
    }
    result.invalid.push({ line, text: content });
  });
  return result;
}
