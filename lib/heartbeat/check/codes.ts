// The finding codes of `ha-agent check`: the one table of every code, its
// severity and a short title. The README's code list (section "Debugging a
// node") is written from it, and test/cli/check.test.ts fails when a code
// here has no test that provokes it.
//
// Adding a code:
//   1. Add a line below in its hundred, with the next free number:
//        HA1xx ha.cf                              → check/hacf.ts
//        HA2xx authkeys                           → check/authkeys.ts
//        HA30x haresources lines (files, nodes,
//              arguments, one resource twice)     → check/haresources.ts
//        HA305, HA31x–HA36x our resources
//              (validate-all, per-agent checks,
//              order inside a group)              → check/resources.ts
//        HA4xx the node (boot, OS config, names)  → check/node.ts
//      A kind of finding that fits none of these gets its own hundred and its
//      own module, run from check/index.ts.
//   2. Raise it in that module with findings.add('HAnnn', file, line, what, fix):
//      what names the thing the user wrote, fix says what to do.
//   3. Add it to the README's code list, and a variant that provokes it to
//      test/cli/check.test.ts (a code no scratch tree can reach goes in that
//      test's `elsewhere` list, with the test that covers it).

/** info: nothing wrong, a hint (exit code and ok unaffected). */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  file: string;
  /** 1-based; 0 when the finding is about the file as a whole. */
  line: number;
  code: string;
  /** What is wrong. */
  message: string;
  /** How to fix it. */
  fix: string;
}

/** Every code the checker can report: severity and a short title (README and tests use them). */
export const CODES = {
  HA101: ['error', 'ha.cf missing or unreadable'],
  HA102: ['error', 'unknown ha.cf directive'],
  HA103: ['error', 'this node is not a node of ha.cf'],
  HA104: ['error', 'haresources needs exactly two nodes'],
  HA105: ['error', 'crm on: haresources ignored'],
  HA106: ['error', 'deadtime not well above keepalive'],
  HA107: ['warning', 'warntime not below deadtime'],
  HA108: ['warning', 'initdead below twice deadtime'],
  HA109: ['error', 'invalid time value'],
  HA110: ['error', 'heartbeat interface missing on this node'],
  HA111: ['error', 'ucast peer not on the interface\'s networks'],
  HA112: ['warning', 'auto_failback not set'],
  HA113: ['warning', 'no log destination'],
  HA114: ['error', 'no heartbeat medium'],
  HA115: ['error', 'initdead below deadtime'],
  HA116: ['warning', 'one heartbeat link only'],
  HA117: ['warning', 'the same heartbeat medium twice'],
  HA118: ['error', 'ucast names only this node\'s own address'],
  HA119: ['error', 'firewall drops heartbeat\'s UDP port'],
  HA120: ['warning', 'firewall rules unreadable'],
  HA121: ['error', 'dopd without apiauth dopd'],
  HA122: ['warning', 'dopd with one heartbeat link'],
  HA201: ['error', 'authkeys missing or unreadable'],
  HA202: ['error', 'authkeys mode not 0600'],
  HA203: ['error', 'authkeys without an auth line'],
  HA204: ['error', 'auth names a key that does not exist'],
  HA205: ['warning', 'crc: no authentication'],
  HA206: ['error', 'invalid authkeys line'],
  HA301: ['error', 'haresources missing or unreadable'],
  HA302: ['error', 'haresources node not in ha.cf'],
  HA303: ['error', 'resource script not found'],
  HA304: ['error', 'resource arguments do not parse'],
  HA305: ['error', 'validate-all fails'],
  HA306: ['error', 'comment on a continued line'],
  HA307: ['error', 'backslash on the last line'],
  HA308: ['warning', 'group without resources'],
  HA310: ['error', 'IPaddr interface missing'],
  HA311: ['error', 'VIP on no network of its interface'],
  HA312: ['warning', 'no arping: IPv4 VIP added without the duplicate check'],
  HA320: ['error', 'DRBD resource unknown to drbdadm'],
  HA321: ['error', 'drbdadm not usable'],
  HA330: ['warning', 'mount point missing'],
  HA331: ['error', 'filesystem type unknown to the kernel'],
  HA340: ['error', 'my.cnf unreadable'],
  HA341: ['error', 'datadir not on a Filesystem of the group'],
  HA342: ['warning', 'log-bin not on a Filesystem of the group'],
  HA343: ['error', 'server binary missing'],
  HA350: ['error', 'Filesystem on DRBD before its drbddisk'],
  HA351: ['error', 'mysqld before the Filesystem of its datadir'],
  HA352: ['error', 'resource in two groups'],
  HA360: ['warning', 'DRBD without fencing'],
  HA361: ['warning', 'DRBD without a split-brain handler'],
  HA362: ['error', 'DRBD fencing without a fence-peer handler'],
  HA401: ['error', 'group service started at boot'],
  HA402: ['error', 'replicated filesystem mounted at boot'],
  HA403: ['warning', 'heartbeat not started at boot'],
  HA404: ['warning', 'peer name does not resolve'],
  HA405: ['error', 'VIP configured by the OS at boot'],
  HA406: ['warning', 'no watch configured'],
  HA407: ['info', 'log lines stamped to the second (no HA_DATEFMT with %N)'],
} as const satisfies Record<string, readonly [Severity, string]>;
export type FindingCode = keyof typeof CODES;

/** The findings of one run, in the order the checks raise them; the severity comes from the table. */
export class Findings {
  readonly list: Finding[] = [];
  add(code: FindingCode, file: string, line: number, message: string, fix: string): void {
    this.list.push({ severity: CODES[code][0], file, line, code, message, fix });
  }
  has(predicate: (f: Finding) => boolean): boolean {
    return this.list.some(predicate);
  }
}
