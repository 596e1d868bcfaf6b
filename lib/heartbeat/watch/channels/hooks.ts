import type { WatchEvent } from '../events.ts';

// --alert-exec PATH: Pacemaker's alert agent interface, so its sample
// agents (alert_file.sh.sample, alert_smtp.sh.sample) and site scripts
// written for Pacemaker run unchanged. Every event is of kind "node" (it is
// about this node); the description starts with our code and state, so a
// Pacemaker agent's one line ("Node 'master1' is now '...'") says it all.

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Pacemaker's default alert timestamp-format, "%H:%M:%S.%06N" (local time). */
export function pacemakerTimestamp(at: Date, usec: number): string {
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(usec, 6)}`;
}

export function alertDescription(event: WatchEvent): string {
  return `${event.code} ${event.severity} ${event.state}: ${event.desc}`;
}

/** The environment of one hook run: CRM_alert_* as Pacemaker sets it, HA_alert_* ours. */
export function hookEnvironment(event: WatchEvent, recipient: string, version: string): Record<string, string> {
  const ms = event.at.getTime();
  const usec = (ms % 1000) * 1000;
  const env: Record<string, string> = {
    CRM_alert_kind: 'node',
    CRM_alert_node: event.node,
    CRM_alert_desc: alertDescription(event),
    CRM_alert_timestamp: pacemakerTimestamp(event.at, usec),
    CRM_alert_timestamp_epoch: String(Math.floor(ms / 1000)),
    CRM_alert_timestamp_usec: String(usec),
    CRM_alert_node_sequence: String(event.sequence),
    CRM_alert_recipient: recipient,
    CRM_alert_version: version,
    HA_alert_code: event.code,
    HA_alert_severity: event.severity,
    HA_alert_state: event.state,
    HA_alert_desc: event.desc,
    HA_alert_fix: event.fix,
  };
  const s = event.subject;
  if (s.resource) env.HA_alert_resource = s.resource;
  if (s.link) env.HA_alert_link = s.link;
  if (s.vip) env.HA_alert_vip = s.vip;
  if (s.mac) env.HA_alert_mac = s.mac;
  if (s.drbd_resource) env.HA_alert_drbd_resource = s.drbd_resource;
  if (s.volume) env.HA_alert_volume = s.volume;
  return env;
}

/** `PATH` or `PATH=RECIPIENT` (a recipient for a Pacemaker agent: alert_file's file, alert_smtp's address). */
export function parseHookSpec(spec: string): { path: string; recipient: string } {
  const eq = spec.indexOf('=');
  return eq > 0 ? { path: spec.slice(0, eq), recipient: spec.slice(eq + 1) } : { path: spec, recipient: '' };
}
