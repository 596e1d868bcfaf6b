import type { FuzzCase } from './generators.ts';

// Shrunk counterexamples the fuzzer found, kept as named cases: each agent's
// fuzz test runs its rows first, on its rig, with the same checks as the
// generated cases (harness.ts judge + the node snapshot). Templates as in
// generators.ts: {{dev}} is the rig's loop device, {{xff}} a raw byte.

export interface Regression {
  name: string;
  case: FuzzCase;
}

export const REGRESSIONS: Record<string, readonly Regression[]> = {
  IPaddr: [],
  drbddisk: [
    // Fuzzer, seed 15302: an empty resource name fell back to the default "all" and tried to promote every resource.
    { name: 'empty resource name (a stray drbddisk:: in haresources) is refused, not "all"', case: { mode: 'v1', args: [''], action: 'start' } },
    { name: 'empty resource name, stop', case: { mode: 'v1', args: [''], action: 'stop' } },
  ],
  Filesystem: [],
  mysqld: [
    // Same mechanism as drbddisk's: an empty option file name meant "the default files", and a start there starts the host's MariaDB.
    { name: 'empty option file argument is refused, not the default my.cnf', case: { mode: 'v1', args: [''], action: 'start' } },
  ],
};
