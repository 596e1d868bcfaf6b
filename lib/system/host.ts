import { readFileSync } from 'node:fs';

// uname -n. Read from /proc rather than node:os, whose module set-up alone
// costs the Bun binary ~2 ms per call (bench/STARTUP.md's method); the file
// is the UTS namespace's own nodename, the same answer gethostname(2) gives.
export function hostName(): string {
  try {
    const name = readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
    if (name) return name;
  } catch {
    // No /proc: fall through.
  }
  return process.getBuiltinModule('node:os').hostname();
}
