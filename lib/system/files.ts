import { readFileSync } from 'node:fs';

// Files whose absence is itself the answer (no /etc/fstab: nothing mounted
// from it; no modules.alias: nothing loadable): their text, or '' when
// they cannot be read.

export function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
