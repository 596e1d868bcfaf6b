// `drbdsetup status` / `drbdadm status` text of drbd 9 (and 8.4's drbdsetup),
// from drbd-utils user/v9/drbdsetup.c resource_status, device_status,
// connection_status and peer_device_status (not verbose, no colour):
//
//   data role:Primary
//     disk:UpToDate
//     master2 role:Secondary
//       peer-disk:UpToDate
//
// Several volumes print "volume:N disk:..."; a connection that is not
// Connected prints "NAME connection:Connecting" (or StandAlone ...).

export interface StatusVolume {
  volume: number;
  disk: string;
}

export interface StatusConnection {
  name: string;
  /** 'Connected' when drbdsetup printed a role instead of a connection state. */
  connection: string;
  role?: string;
  peerDisks: string[];
}

export interface StatusResource {
  name: string;
  role: string;
  suspended?: string;
  volumes: StatusVolume[];
  connections: StatusConnection[];
}

function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const word of text.trim().split(/\s+/)) {
    const colon = word.indexOf(':');
    if (colon > 0) out.set(word.slice(0, colon), word.slice(colon + 1));
  }
  return out;
}

export function parseDrbdsetupStatus(text: string): StatusResource[] {
  const resources: StatusResource[] = [];
  let current: StatusResource | undefined;
  let connection: StatusConnection | undefined;
  for (const raw of text.split('\n')) {
    if (!raw.trim() || raw.startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 0) {
      const [name, ...rest] = line.split(/\s+/);
      const f = fields(rest.join(' '));
      current = { name: name!, role: f.get('role') ?? 'Unknown', suspended: f.get('suspended'), volumes: [], connections: [] };
      connection = undefined;
      resources.push(current);
      continue;
    }
    if (!current) continue;
    const f = fields(line);
    if (indent <= 2 && (line.startsWith('disk:') || line.startsWith('volume:'))) {
      current.volumes.push({ volume: Number(f.get('volume') ?? 0), disk: f.get('disk') ?? 'Unknown' });
      connection = undefined;
    } else if (indent <= 2) {
      const name = line.split(/\s+/)[0]!;
      connection = { name, connection: f.get('connection') ?? (f.has('role') ? 'Connected' : 'Unknown'), role: f.get('role'), peerDisks: [] };
      current.connections.push(connection);
    } else if (connection) {
      const peerDisk = f.get('peer-disk') ?? f.get('disk');
      if (peerDisk) connection.peerDisks.push(peerDisk);
    }
  }
  return resources;
}
