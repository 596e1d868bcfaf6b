import type { Sample } from './sample.ts';

// `ha-agent watch`: from one sample of the node, the conditions that hold
// now (pure), and a tracker that turns conditions into events raised once
// when they start and cleared once when they end (keepalived's notify
// model: one event per state change, never one per interval).
//
// Damping: a condition is raised after `raiseAfter` consecutive samples
// that show it (default 1: the detection targets are 2 s at a 1 s
// interval), and cleared only once it has been absent for `clearAfterMs`
// without a break (default 5 s: a condition that flaps on and off faster
// than that stays raised, one raise and one clear in all).

export type Severity = 'warning' | 'critical';
export type EventState = 'raised' | 'cleared';

export interface Subject {
  resource?: string;
  link?: string;
  vip?: string;
  mac?: string;
  drbd_resource?: string;
  volume?: string;
}

export interface WatchEvent {
  code: string;
  severity: Severity;
  state: EventState;
  node: string;
  desc: string;
  fix: string;
  subject: Subject;
  at: Date;
  /** 1, 2, ... per watcher process: CRM_alert_node_sequence. */
  sequence: number;
}

export interface EventKind {
  code: string;
  severity: Severity;
  /** What is wrong, for the table in --help and the README. */
  title: string;
  fix: string;
}

/** The stable codes. HA7xx: watch events (check's findings are HA1xx-HA4xx). */
export const EVENT_KINDS = {
  linkDown: { code: 'HA701', severity: 'warning', title: 'one heartbeat link to the peer is down', fix: 'check the cable, switch port, firewall (UDP port of ha.cf udpport, default 694) and NIC settings of that link on both nodes' },
  splitBrain: { code: 'HA702', severity: 'critical', title: 'every heartbeat link is down while the peer still answers on the service LAN: split brain', fix: 'restore a heartbeat link (cable, firewall, NIC) before anything else; do not start resources by hand on the other node; add a second heartbeat medium' },
  peerDead: { code: 'HA703', severity: 'warning', title: 'heartbeat sees the peer dead and it does not answer on the service LAN', fix: 'the peer is down or unreachable: bring it back; until then this node is the only one' },
  heldWithoutHeartbeat: { code: 'HA704', severity: 'critical', title: 'resources are held here while heartbeat is not running', fix: 'nothing will fail them over: start heartbeat here (/etc/init.d/heartbeat start), or stop the group by hand (ResourceManager givegroup) before the peer takes over' },
  heartbeatStopped: { code: 'HA705', severity: 'warning', title: 'heartbeat is not running on this node', fix: 'start heartbeat (/etc/init.d/heartbeat start); this node cannot take over while it is stopped' },
  vipTwoMacs: { code: 'HA711', severity: 'critical', title: 'a VIP held here also answers from another MAC', fix: 'another machine holds the VIP too (split brain, or a duplicate address): remove it there (ip addr del) and find out why it was added' },
  drbdSplitBrain: { code: 'HA721', severity: 'critical', title: 'DRBD reported split brain (its split-brain handler left a file)', fix: 'resolve it as DRBD\'s guide says (choose a victim: drbdadm secondary; drbdadm connect --discard-my-data RES there; drbdadm connect RES on the survivor), then remove the handler\'s file' },
  drbdBothPrimary: { code: 'HA722', severity: 'critical', title: 'DRBD is Primary on both nodes', fix: 'stop the service on one node and make its DRBD Secondary (drbdadm secondary RES), then resolve the split brain' },
  drbdStandAlone: { code: 'HA723', severity: 'critical', title: 'DRBD is StandAlone: it will not reconnect to its peer by itself', fix: 'find out why it disconnected (split brain? drbdadm disconnect?), resolve it, then drbdadm connect RES' },
  drbdDegraded: { code: 'HA724', severity: 'warning', title: 'DRBD is degraded: not connected, or a disk not UpToDate', fix: 'bring the peer back (drbdadm connect RES there) and let it resync; watch /proc/drbd or drbdadm status' },
  groupPartial: { code: 'HA731', severity: 'critical', title: 'this node\'s group is held partially (some resources held, some not)', fix: 'ha-agent status shows which; restart the group (ResourceManager givegroup then takegroup KEY) or start the missing resource; heartbeat v1 does not monitor resources' },
  resourceStopped: { code: 'HA732', severity: 'critical', title: 'a resource of a held group is not running', fix: 'start it again (resource.d/NAME ARGS start) and find out why it stopped (its log); heartbeat v1 never restarts it' },
  sampleFailed: { code: 'HA790', severity: 'warning', title: 'the watcher cannot read part of the node\'s state', fix: 'see the description: a tool missing, a permission, a timeout; the watcher keeps sampling the rest' },
} as const satisfies Record<string, EventKind>;

export type EventKindName = keyof typeof EVENT_KINDS;

/** One condition that holds in a sample. */
export interface Condition {
  kind: EventKindName;
  desc: string;
  subject: Subject;
}

/** Identity of a condition across samples: its code and subject. */
export function conditionKey(c: Pick<Condition, 'kind' | 'subject'>): string {
  const s = c.subject;
  return [EVENT_KINDS[c.kind].code, s.resource, s.link, s.vip, s.mac, s.drbd_resource, s.volume].map((v) => v ?? '').join('|');
}

const UP_STATUSES = new Set(['up', 'active']);

/** The conditions that hold in one sample. Pure. */
export function deriveConditions(sample: Sample): Condition[] {
  const out: Condition[] = [];
  const peer = sample.peer;
  const hb = sample.heartbeat;
  const held = sample.groups.flatMap((g) => g.resources.filter((r) => r.state === 'held'));

  if (!hb.running) {
    if (held.length) {
      out.push({ kind: 'heldWithoutHeartbeat', subject: {}, desc: `heartbeat is not running on ${sample.node} (${hb.detail}), yet ${held.length} resource(s) of its group are held here: ${held.map((r) => r.resource).join(', ')}` });
    } else {
      out.push({ kind: 'heartbeatStopped', subject: {}, desc: `heartbeat is not running on ${sample.node} (${hb.detail})` });
    }
  } else if (peer && sample.links) {
    const down = sample.links.filter((l) => !UP_STATUSES.has(l.status));
    const peerDead = peer.status !== undefined && !UP_STATUSES.has(peer.status);
    const allDown = sample.links.length > 0 && down.length === sample.links.length;
    // A peer that stopped heartbeat on purpose (its shutdown notice in heartbeat's log: a graceful
    // failover) and stays up on the LAN is not a partition: the peer is gone as far as heartbeat goes.
    // A crashed peer back on the LAN before its heartbeat runs (a reboot) is not a partition: see PeerLossMemo.
    if ((allDown || peerDead) && peer.lanMacs && peer.lanMacs.length && !peer.leftOnPurpose && peer.partitioned !== false) {
      out.push({ kind: 'splitBrain', subject: { mac: peer.lanMacs[0] }, desc: `heartbeat hears nothing from ${peer.name} (${sample.links.map((l) => `${l.name} ${l.status}`).join(', ') || 'no links'}; node ${peer.status ?? 'unknown'}), but ${peer.address} still answers on the LAN from ${peer.lanMacs.join(', ')}: split brain` });
    } else if (peerDead) {
      out.push({ kind: 'peerDead', subject: {}, desc: peer.leftOnPurpose
        ? `heartbeat sees ${peer.name} ${peer.status}: it stopped heartbeat (shutdown notice in heartbeat's log)${peer.lanMacs?.length ? `; ${peer.address} still answers on the LAN` : ''}`
        : peer.lanMacs?.length
          ? `heartbeat sees ${peer.name} ${peer.status ?? 'unheard'}; ${peer.address} answers on the LAN again (it was not answering when heartbeat lost it: a node coming back, its heartbeat not running yet)`
          : `heartbeat sees ${peer.name} ${peer.status}${peer.address ? ` and ${peer.address} does not answer on the LAN` : ''}` });
    }
    if (!allDown && !peerDead) {
      for (const l of down) out.push({ kind: 'linkDown', subject: { link: l.name }, desc: `heartbeat link ${l.name} to ${peer.name} is ${l.status} (${sample.links.length - down.length} of ${sample.links.length} up)` });
    }
  }

  for (const v of sample.vips) {
    if (!v.heldHere) continue;
    for (const mac of v.otherMacs) {
      out.push({ kind: 'vipTwoMacs', subject: { vip: v.ip, mac }, desc: `VIP ${v.ip} is held here on ${v.nic ?? '?'} and also answers from ${mac}` });
    }
  }

  for (const d of sample.drbd) {
    if (d.error) continue;
    for (const volume of d.splitBrainVolumes) {
      out.push({ kind: 'drbdSplitBrain', subject: { drbd_resource: d.resource, volume }, desc: `DRBD resource ${d.resource} volume ${volume}: split brain detected (${d.splitBrainDir}/drbd-split-brain-detected-${d.resource}-${volume})` });
    }
    if (d.role === 'Primary' && d.peerRole === 'Primary') {
      out.push({ kind: 'drbdBothPrimary', subject: { drbd_resource: d.resource }, desc: `DRBD resource ${d.resource} is Primary here and on the peer` });
    }
    const standalone = d.connection === 'StandAlone';
    if (standalone) out.push({ kind: 'drbdStandAlone', subject: { drbd_resource: d.resource }, desc: `DRBD resource ${d.resource} is StandAlone on ${sample.node} (role ${d.role}, disk ${d.disks.join('/') || '?'})` });
    const connected = d.connection !== undefined && !['StandAlone', 'Unconnected', 'WFConnection', 'Connecting', 'Disconnecting', 'Timeout', 'BrokenPipe', 'NetworkFailure', 'ProtocolError', 'TearDown', 'Unconfigured'].includes(d.connection);
    const badDisks = [...d.disks, ...d.peerDisks].filter((disk) => disk !== 'UpToDate');
    if (d.role !== 'Unconfigured' && !standalone && (!connected || badDisks.length)) {
      out.push({ kind: 'drbdDegraded', subject: { drbd_resource: d.resource }, desc: `DRBD resource ${d.resource} is degraded: connection ${d.connection ?? 'unknown'}, disk ${d.disks.join('/') || '?'}, peer disk ${d.peerDisks.join('/') || 'unknown'}` });
    }
  }

  for (const g of sample.groups) {
    if (g.verdict !== 'SOME' || sample.transition) continue;
    const notHeld = g.resources.filter((r) => r.state !== 'held');
    out.push({ kind: 'groupPartial', subject: { resource: g.key }, desc: `group ${g.key} is held partially on ${sample.node}: ${g.resources.length - notHeld.length} of ${g.resources.length} held; not held: ${notHeld.map((r) => r.resource).join(', ')}` });
    for (const r of notHeld) out.push({ kind: 'resourceStopped', subject: { resource: r.resource }, desc: `${r.resource} is ${r.state} (${r.detail}) while the rest of group ${g.key} is held on ${sample.node}` });
  }

  for (const problem of sample.problems) out.push({ kind: 'sampleFailed', subject: { resource: problem.part }, desc: problem.message });
  return out;
}

export interface Damping {
  /** Consecutive samples showing a condition before it is raised. */
  raiseAfter: number;
  /** How long a raised condition must be absent, without a break, before it is cleared (ms). */
  clearAfterMs: number;
}

export const DEFAULT_DAMPING: Damping = { raiseAfter: 1, clearAfterMs: 5000 };

interface Track {
  condition: Condition;
  seen: number;
  raised: boolean;
  /** When a raised condition was first seen absent (undefined while present). */
  absentSince?: number;
}

/** Conditions in, events out: raise once, clear once, with damping. */
export class EventTracker {
  private tracks = new Map<string, Track>();
  private sequence = 0;

  constructor(
    private readonly node: string,
    private damping: Damping = DEFAULT_DAMPING,
  ) {}

  setDamping(damping: Damping): void {
    this.damping = damping;
  }

  private event(c: Condition, state: EventState, at: Date): WatchEvent {
    const kind = EVENT_KINDS[c.kind];
    return { code: kind.code, severity: kind.severity, state, node: this.node, desc: c.desc, fix: kind.fix, subject: c.subject, at, sequence: ++this.sequence };
  }

  /** Feeds one sample's conditions; returns the events it raises and clears, in order. */
  update(conditions: readonly Condition[], at: Date): WatchEvent[] {
    const events: WatchEvent[] = [];
    const now = at.getTime();
    const present = new Map(conditions.map((c) => [conditionKey(c), c]));
    for (const [key, track] of this.tracks) {
      if (present.has(key)) continue;
      if (!track.raised) {
        this.tracks.delete(key);
        continue;
      }
      track.absentSince ??= now;
      if (now - track.absentSince >= this.damping.clearAfterMs) {
        events.push(this.event(track.condition, 'cleared', at));
        this.tracks.delete(key);
      }
    }
    for (const [key, c] of present) {
      const track = this.tracks.get(key) ?? { condition: c, seen: 0, raised: false };
      this.tracks.set(key, track);
      track.seen++;
      track.absentSince = undefined;
      if (!track.raised) track.condition = c;
      if (!track.raised && track.seen >= this.damping.raiseAfter) {
        track.raised = true;
        events.push(this.event(c, 'raised', at));
      }
    }
    return events;
  }

  /** Raised events that have not cleared: the metrics' active events, --once's verdict. */
  active(): Condition[] {
    return [...this.tracks.values()].filter((t) => t.raised).map((t) => t.condition);
  }
}

/** Monitoring Plugins exit codes. */
export const PLUGIN = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;

export function pluginStatus(conditions: readonly Pick<Condition, 'kind'>[]): keyof typeof PLUGIN {
  if (conditions.some((c) => EVENT_KINDS[c.kind].severity === 'critical')) return 'CRITICAL';
  if (conditions.some((c) => c.kind === 'sampleFailed')) return 'UNKNOWN';
  return conditions.length ? 'WARNING' : 'OK';
}
