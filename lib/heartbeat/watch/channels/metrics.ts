import { renameSync, writeFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EVENT_KINDS, type Condition } from '../events.ts';
import type { Sample } from '../sample.ts';

// Prometheus text exposition of the last sample: node_exporter's textfile
// collector (--metrics-file, written to a temporary name in the same
// directory and renamed, so a scrape never reads half a file) and
// /metrics (--listen). DRBD names and labels are ha_cluster_exporter's
// (collector/drbd: lower-case roles and disk states, 1 or absent); the
// rest are ours, prefixed ha_watch_, each with its HELP.

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: { labels?: Record<string, string>; value: number }[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function render(families: readonly Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      out.push(`${f.name}${labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : ''} ${Number.isFinite(s.value) ? s.value : 0}`);
    }
  }
  return `${out.join('\n')}\n`;
}

export interface MetricsState {
  sample?: Sample;
  active: readonly Condition[];
  /** Events raised and cleared since start, by code and state. */
  eventCounts: ReadonlyMap<string, number>;
  samples: number;
  channelFailures: number;
}

const lower = (v: string | undefined) => (v ?? 'unknown').toLowerCase();

export function renderMetrics(state: MetricsState): string {
  const s = state.sample;
  const families: Family[] = [];
  const add = (name: string, help: string, samples: Family['samples'], type: Family['type'] = 'gauge') => families.push({ name, help, type, samples });
  add('ha_watch_samples_total', 'Samples taken by ha-agent watch since it started.', [{ value: state.samples }], 'counter');
  if (s) {
    add('ha_watch_last_sample_timestamp_seconds', 'Unix time of the last sample ha-agent watch took.', [{ value: s.at.getTime() / 1000 }]);
    add('ha_watch_sample_duration_seconds', 'Wall time the last sample took.', [{ value: s.ms / 1000 }]);
    add('ha_watch_heartbeat_running', 'Whether the heartbeat daemon runs on this node (1) or not (0).', [{ labels: { node: s.node }, value: s.heartbeat.running ? 1 : 0 }]);
    if (s.peer) {
      add('ha_watch_peer_status', 'The peer as heartbeat sees it (cl_status nodestatus): 1 for the status it has now, the line is absent when heartbeat cannot be asked.',
        s.peer.status ? [{ labels: { peer: s.peer.name, status: s.peer.status }, value: 1 }] : []);
      add('ha_watch_peer_lan_answers', 'Whether the peer\'s address answered an ARP probe on the service LAN in the last sample (1) or not (0); probed only while heartbeat does not hear the peer on every link.',
        s.peer.lanMacs ? [{ labels: { peer: s.peer.name, address: s.peer.address ?? '' }, value: s.peer.lanMacs.length ? 1 : 0 }] : []);
    }
    if (s.links) {
      add('ha_watch_links_up', 'Heartbeat links to the peer that heartbeat sees up.', [{ value: s.links.filter((l) => l.status === 'up').length }]);
      add('ha_watch_links', 'Heartbeat links to the peer.', [{ value: s.links.length }]);
      add('ha_watch_link_up', 'Each heartbeat link to the peer: 1 up, 0 not.', s.links.map((l) => ({ labels: { link: l.name, status: l.status }, value: l.status === 'up' ? 1 : 0 })));
    }
    add('ha_watch_vip_held', 'Each VIP of haresources: 1 when configured on this node.', s.vips.map((v) => ({ labels: { vip: v.ip }, value: v.heldHere ? 1 : 0 })));
    add('ha_watch_vip_other_macs', 'MACs other than this node\'s that answered for a VIP held here (more than 0: two machines hold it).', s.vips.filter((v) => v.heldHere).map((v) => ({ labels: { vip: v.ip }, value: v.otherMacs.length })));
    const drbd = s.drbd.filter((d) => !d.error);
    add('ha_cluster_drbd_resources', 'The DRBD resources; 1 line per resource, per volume (as ha_cluster_exporter).',
      drbd.flatMap((d) => (d.disks.length ? d.disks : ['unknown']).map((disk, volume) => ({ labels: { resource: d.resource, role: lower(d.role), volume: String(volume), disk_state: lower(disk) }, value: 1 }))));
    add('ha_cluster_drbd_connections', 'The DRBD resource connections; 1 line per resource, per peer (as ha_cluster_exporter; peer_node_id is the connection\'s index here).',
      drbd.filter((d) => d.connection && d.connection !== 'StandAlone').flatMap((d) => (d.peerDisks.length ? d.peerDisks : ['dunknown']).map((disk, volume) => ({ labels: { resource: d.resource, peer_node_id: '0', peer_role: lower(d.peerRole), volume: String(volume), peer_disk_state: lower(disk) }, value: 1 }))));
    add('ha_watch_drbd_connection', 'Each DRBD resource\'s connection state (1 for the state it has now).', drbd.map((d) => ({ labels: { resource: d.resource, state: d.connection ?? 'unknown' }, value: 1 })));
    add('ha_cluster_drbd_split_brain', 'Split brain per DRBD resource and volume: the split-brain handler left its file (as ha_cluster_exporter); 1 or absent.',
      drbd.flatMap((d) => d.splitBrainVolumes.map((volume) => ({ labels: { resource: d.resource, volume }, value: 1 }))));
    add('ha_watch_resources_held', 'Resources of haresources held on this node, as ResourceManager\'s status calls say.', [{ value: s.groups.reduce((n, g) => n + g.resources.filter((r) => r.state === 'held').length, 0) }]);
    add('ha_watch_resource_held', 'Each resource of haresources: 1 held here, 0 not.', s.groups.flatMap((g) => g.resources.map((r) => ({ labels: { group: g.key, resource: r.resource, state: r.state }, value: r.state === 'held' ? 1 : 0 }))));
    add('ha_watch_group_held', 'Each group of haresources: 1 for its verdict now (ALL, SOME, NONE as statgroup says).', s.groups.map((g) => ({ labels: { group: g.key, node: g.node, verdict: g.verdict }, value: 1 })));
  }
  const byCode = new Map<string, number>();
  for (const c of state.active) byCode.set(EVENT_KINDS[c.kind].code, (byCode.get(EVENT_KINDS[c.kind].code) ?? 0) + 1);
  add('ha_watch_events_active', 'Events raised and not yet cleared, by code and severity.',
    Object.values(EVENT_KINDS).map((k) => ({ labels: { code: k.code, severity: k.severity }, value: byCode.get(k.code) ?? 0 })));
  add('ha_watch_events_total', 'Events raised and cleared since the watcher started, by code and state.',
    [...state.eventCounts].map(([key, value]) => {
      const [code, st] = key.split(' ');
      return { labels: { code: code!, state: st! }, value };
    }), 'counter');
  add('ha_watch_channel_failures_total', 'Hook runs and mails that failed or timed out since the watcher started.', [{ value: state.channelFailures }], 'counter');
  return render(families);
}

/** Writes `text` to `path` atomically: a temporary file in the same directory, then rename. */
export function writeAtomically(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never written.
    }
    throw error;
  }
}
