// /proc/drbd of drbd 8.x (drbd_proc.c): a version header, then per minor
//    1: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
// (8.3 and later), or with `st:` instead of `ro:` (8.0-8.2), or just
//    1: cs:Unconfigured
// for a minor without configuration. drbd 9 prints only the header.

export interface ProcDrbdDevice {
  minor: number;
  cs: string;
  /** Local and peer role; undefined for an unconfigured minor. */
  role?: string;
  peerRole?: string;
  disk?: string;
  peerDisk?: string;
}

export interface ProcDrbd {
  /** "8.3.13", "8.4.11", "9.2.12" ... */
  version?: string;
  devices: Map<number, ProcDrbdDevice>;
}

export function parseProcDrbd(text: string): ProcDrbd {
  const version = /^version: (\S+)/m.exec(text)?.[1];
  const devices = new Map<number, ProcDrbdDevice>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+): cs:(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const minor = Number(m[1]);
    const fields = new Map<string, string>();
    for (const word of m[3]!.trim().split(/\s+/)) {
      const colon = word.indexOf(':');
      if (colon > 0) fields.set(word.slice(0, colon), word.slice(colon + 1));
    }
    const [role, peerRole] = (fields.get('ro') ?? fields.get('st') ?? '').split('/');
    const [disk, peerDisk] = (fields.get('ds') ?? '').split('/');
    devices.set(minor, { minor, cs: m[2]!, role: role || undefined, peerRole: peerRole || undefined, disk: disk || undefined, peerDisk: peerDisk || undefined });
  }
  return { version, devices };
}
