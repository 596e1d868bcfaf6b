// Parsers for `drbdadm role|cstate|dstate` output. drbd 8.3/8.4 print
// "local/peer" per minor (drbdsetup role_scmd: "%s/%s", or "Unconfigured"
// for a minor with neither disk nor network); drbd 9 prints only the local
// role per resource (drbdsetup role_cmd: "%s"), and dstate "local/peer..."
// with one peer per connection. `drbdadm ... all` prints one line per resource.

export const ROLES = ['Primary', 'Secondary', 'Unknown'] as const;
export type DrbdRole = (typeof ROLES)[number];

/** What one line of `drbdadm role` says. `peer` is absent in drbd 9's format. */
export interface RoleLine {
  /** 'Unconfigured' when drbd 8.3 reports the minor as not set up. */
  local: DrbdRole | 'Unconfigured';
  peer?: DrbdRole;
}

const isRole = (word: string): word is DrbdRole => (ROLES as readonly string[]).includes(word);

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * One entry per line, or undefined when there is no line or any line does not
 * parse. drbd 8.3 prints "Unconfigured" for a minor that is not set up.
 */
function perLine<T>(text: string, unconfigured: () => T, parse: (line: string) => T | undefined): T[] | undefined {
  const all = lines(text);
  if (all.length === 0) return undefined;
  const out: T[] = [];
  for (const line of all) {
    const entry = line === 'Unconfigured' ? unconfigured() : parse(line);
    if (entry === undefined) return undefined;
    out.push(entry);
  }
  return out;
}

/** `drbdadm role` → one entry per line, or undefined if any line is not a role. */
export function parseRoleOutput(text: string): RoleLine[] | undefined {
  return perLine<RoleLine>(text, () => ({ local: 'Unconfigured' }), (line) => {
    const [local, peer, extra] = line.split('/');
    if (extra !== undefined || local === undefined || !isRole(local)) return undefined;
    if (peer === undefined) return { local };
    return isRole(peer) ? { local, peer } : undefined;
  });
}

/** drbd's disk states (drbd_strings.c), local first. */
export const DISK_STATES = ['Diskless', 'Attaching', 'Detaching', 'Failed', 'Negotiating', 'Inconsistent', 'Outdated', 'DUnknown', 'Consistent', 'UpToDate'] as const;
export type DiskState = (typeof DISK_STATES)[number];

export interface DiskLine {
  local: DiskState | 'Unconfigured';
  peers: DiskState[];
}

/** `drbdadm dstate`: "UpToDate/UpToDate" (8.x), "UpToDate/UpToDate[/...]" (9), "Unconfigured" (8.3). */
export function parseDstateOutput(text: string): DiskLine[] | undefined {
  const known = (s: string | undefined): s is DiskState => !!s && (DISK_STATES as readonly string[]).includes(s);
  return perLine<DiskLine>(text, () => ({ local: 'Unconfigured', peers: [] }), (line) => {
    const [local, ...peers] = line.split('/');
    return known(local) && peers.every(known) ? { local, peers: peers as DiskState[] } : undefined;
  });
}

/** drbd 8 connection states and drbd 9 connection states (drbd_strings.c). */
const CONNECTION_STATES = new Set([
  'StandAlone', 'Disconnecting', 'Unconnected', 'Timeout', 'BrokenPipe', 'NetworkFailure', 'ProtocolError', 'TearDown',
  'WFConnection', 'WFReportParams', 'Connecting', 'Connected', 'StartingSyncS', 'StartingSyncT', 'WFBitMapS', 'WFBitMapT',
  'WFSyncUUID', 'SyncSource', 'SyncTarget', 'VerifyS', 'VerifyT', 'PausedSyncS', 'PausedSyncT', 'Ahead', 'Behind', 'Unconfigured',
]);

/** `drbdadm cstate`: one state per line (per resource in 8.x, per connection in 9). */
export function parseCstateOutput(text: string): string[] | undefined {
  const all = lines(text);
  if (all.length === 0 || !all.every((l) => CONNECTION_STATES.has(l))) return undefined;
  return all;
}
