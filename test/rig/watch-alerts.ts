import type { Cluster, ClusterOptions, NodeName } from './cluster.ts';
import { NODES } from './cluster.ts';

// `ha-agent watch` in the two-node rig: the alert hook each node's watcher
// runs (a real receiver: a script appending one line per raise and clear to
// /var/log/alerts.log, which the tests read on the host), the watcher's
// arguments, and a reader of what was delivered.

/** The hook: Pacemaker's alert environment plus ours, one line per call. */
export const ALERT_HOOK = `#!/bin/sh
# test rig: ha-agent watch --alert-exec receiver (one line per raise/clear)
subject="$HA_alert_resource,$HA_alert_link,$HA_alert_vip,$HA_alert_drbd_resource,$HA_alert_volume"
printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\\n' "$(date +%s%N)" "$CRM_alert_timestamp_epoch" "$CRM_alert_timestamp_usec" "$CRM_alert_node" "$HA_alert_state" "$HA_alert_code" "$HA_alert_severity" "$subject" "$CRM_alert_desc" >> /var/log/alerts.log
`;

/**
 * Cluster options for watchers on both nodes: every 0.5 s, cleared after
 * 1 s without the condition (the rig's faults heal at once; the default 5 s
 * damps a real flapping link).
 */
export function watchOptions(interval = 0.5): Pick<ClusterOptions, 'watch' | 'extraEtc'> {
  return {
    watch: { args: ['--interval', String(interval), '--clear-after', '1', '--alert-exec', '/etc/ha.d/alert-hook.sh', '--alert-timeout', '5'] },
    extraEtc: { 'ha.d/alert-hook.sh': { content: ALERT_HOOK, mode: 0o755 } },
  };
}

export interface Alert {
  /** When the hook ran (its own clock reading, ms): the alert delivered. */
  deliveredAt: number;
  /** When the sample that saw it began (CRM_alert_timestamp_epoch/usec), ms. */
  t: number;
  node: string;
  state: 'raised' | 'cleared';
  code: string;
  severity: string;
  /** What the event names: resource, link, VIP, DRBD resource, volume (comma-separated, empty parts). */
  subject: string;
  desc: string;
  /** The node whose hook delivered it. */
  via: NodeName;
}

export function alerts(cluster: Cluster): Alert[] {
  const out: Alert[] = [];
  for (const via of NODES) {
    for (const line of cluster.nodeLog(via, 'alerts.log').split('\n')) {
      const [delivered, epoch, usec, node, state, code, severity, subject, ...desc] = line.split('|');
      if (!code) continue;
      out.push({ deliveredAt: Math.floor(Number(delivered) / 1e6), t: Number(epoch) * 1000 + Math.floor(Number(usec) / 1000), node: node!, state: state as Alert['state'], code, severity: severity!, subject: subject!, desc: desc.join('|'), via });
    }
  }
  return out.sort((a, b) => a.deliveredAt - b.deliveredAt);
}

/** Events raised and not (yet) cleared: per delivering node, code and subject. */
export function active(list: readonly Alert[]): Alert[] {
  const open = new Map<string, Alert>();
  for (const a of list) {
    const key = `${a.via} ${a.code} ${a.subject}`;
    if (a.state === 'raised') open.set(key, a);
    else open.delete(key);
  }
  return [...open.values()];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `predicate` holds for the alerts delivered so far; returns them (throws with the list on timeout). */
export async function waitForAlerts(cluster: Cluster, predicate: (list: Alert[]) => boolean, timeoutMs: number, what: string): Promise<Alert[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = alerts(cluster);
    if (predicate(list)) return list;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; alerts: ${JSON.stringify(list.slice(-20))}`);
    await sleep(200);
  }
}

/**
 * cl_status as heartbeat before 3.0.6 has it, over the real one: its
 * `listnodes` takes -m -p -n only, so `-v` is getopt's "invalid option" and
 * PARAMETER_ERROR (11), as tools/cl_status.c of those versions answers
 * (read there; no such build runs here). Every other sub-command is the
 * real cl_status. Each call is logged to /var/log/cl_status.calls so a test
 * can tell which path the watcher took.
 */
export const CL_STATUS_BEFORE_3_0_6 = `#!/bin/sh
echo "$*" >> /var/log/cl_status.calls
if [ "$1" = listnodes ]; then
  for a in "$@"; do
    case "$a" in -*v*) echo "/usr/bin/cl_status: invalid option -- 'v'" >&2; echo "cl_status[$$]: ERROR: Error: getopt returned character code ?." >&2; exit 11 ;; esac
  done
fi
exec /usr/bin/cl_status "$@"
`;
