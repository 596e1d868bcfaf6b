import { parseDrbdsetupStatus } from './drbdsetup-status.ts';

// One resource's role, disk and connection from a single `drbdadm status RES`
// call, so that drbddisk start decides with one drbdadm run instead of three
// (role, dstate, cstate). Two formats:
//   drbd 8.3 (drbdadm-83 → drbdsetup-83 status), one XML element per minor:
//     <resource minor="1" name="data" cs="Connected" ro1="Secondary" ro2="Secondary" ds1="UpToDate" ds2="UpToDate" />
//     <resource minor="1" name="data" cs="Unconfigured" />
//   drbd 8.4 / 9: drbdsetup's status text (drbdsetup-status.ts).
// Anything else (an older drbdadm without `status`, a form not seen here)
// gives undefined, and the caller asks the three questions separately.

export interface ResourceState {
  /** 'Unconfigured': the resource is not up on this node. */
  role: 'Primary' | 'Secondary' | 'Unknown' | 'Unconfigured';
  /** Local disk state per volume (empty when Unconfigured). */
  disks: string[];
  /** Connection state per peer ('Connected', 'StandAlone', 'WFConnection', ...). */
  connections: string[];
  /** drbdadm's words when it said the resource is not up here. */
  notUp?: string;
}

const attribute = (element: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(element)?.[1];

function fromXml(text: string, resource: string): ResourceState | undefined {
  const element = [...text.matchAll(/<resource\s[^>]*>/g)].map((m) => m[0]).find((e) => attribute(e, 'name') === resource);
  if (!element) return undefined;
  const cs = attribute(element, 'cs');
  if (!cs) return undefined;
  if (cs === 'Unconfigured') return { role: 'Unconfigured', disks: [], connections: [] };
  const role = attribute(element, 'ro1');
  const disk = attribute(element, 'ds1');
  if (!role || !disk) return undefined;
  return { role: role === 'Primary' || role === 'Secondary' ? role : 'Unknown', disks: [disk], connections: [cs] };
}

export function parseResourceState(text: string, resource: string): ResourceState | undefined {
  if (/<drbd-status\b/.test(text)) return fromXml(text, resource);
  const res = parseDrbdsetupStatus(text).find((r) => r.name === resource);
  if (!res || res.volumes.length === 0) return undefined;
  const role = res.role === 'Primary' || res.role === 'Secondary' ? res.role : 'Unknown';
  return { role, disks: res.volumes.map((v) => v.disk), connections: res.connections.map((c) => c.connection) };
}
