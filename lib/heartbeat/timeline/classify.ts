// What a heartbeat node's log line means for the timeline: a trigger,
// heartbeat's decision, a ResourceManager call, an agent's step or refusal,
// or noise. Pure, over the message texts of heartbeat 3.0.4-3.0.6, its
// ResourceManager, the stock agents and ours.

export type TriggerKind = 'node-dead' | 'shutdown' | 'link-dead' | 'partition' | 'standby' | 'node-back' | 'start';

export type Meaning =
  | { kind: 'trigger'; trigger: TriggerKind; peer?: string }
  | { kind: 'decision' }
  | { kind: 'group'; action: 'acquire' | 'release'; owner: string; resources: string[] }
  /** ResourceManager's "info: Running X args action" (always logged) and "debug: Starting ..." (HA_debug). */
  | { kind: 'call'; resource: string; script: string; action: string; debug: boolean }
  /** "debug: X args action done. RC=N" (HA_debug). */
  | { kind: 'done'; resource: string; script: string; action: string; rc: number }
  /** "ERROR: Return code N from X" */
  | { kind: 'rc'; script: string; rc: number }
  | { kind: 'step'; script: string }
  | { kind: 'refusal'; script: string };

/** Programs that are heartbeat itself or its scripts, not resource agents. */
const HEARTBEAT_PROGS = new Set(['heartbeat', 'ResourceManager', 'mach_down', 'req_resource', 'harc', 'ip-request-resp', 'ip-request', 'hb_standby', 'hb_takeover', 'status', 'ipfail', 'ccm', 'crmd', 'logd', 'ha_logd']);

const DECISION = /Resources being acquired from|acquire (?:local|foreign|all) HA resources|Taking over resource group|takeover complete|Initial resource acquisition complete|Local Resource acquisition completed|standby: |give up (?:foreign|local|all) HA resources|HA resource release completed|Local standby process completed|Other node completed standby takeover|No local resources .* to acquire|Giving up all HA resources|All HA resources relinquished|Dead node .* gave up resources|Standby resource acquisition done|resource acquisition completed|No STONITH device|Shared disks are not protected|Heartbeat shutdown complete|foreign resources acquired|Giving up resources due to|Retrying failed stop|Resource Acquisition failed|Cannot give up resources|Emergency Shutdown|Rebooting system/;

/** haresources' spelling of a resource: script and arguments joined with "::". */
export function resourceKey(script: string, args: string): string {
  const parts = args.trim() ? args.trim().split(/\s+/) : [];
  return [script, ...parts].join('::');
}

const RM_CALL = /^(info: Running|debug: Starting) (?:\/etc\/ha\.d\/+resource\.d|\/etc\/init\.d|\/etc\/ha\.d\/+rc\.d)\/+(\S+)(.*?)\s(start|stop)\s*$/;
const RM_DONE = /^debug: (?:\/etc\/ha\.d\/+resource\.d|\/etc\/init\.d)\/+(\S+)(.*?)\s(start|stop) done\. RC=(\d+)/;

/**
 * ResourceManager's own lines: the group it takes or gives, each resource
 * call's start and end. Shared with the test rig's timeline.
 */
export function rmMeaning(text: string): Meaning | undefined {
  let m = RM_CALL.exec(text);
  if (m) return { kind: 'call', script: m[2]!, resource: resourceKey(m[2]!, m[3]!), action: m[4]!, debug: m[1] === 'debug: Starting' };
  if ((m = RM_DONE.exec(text))) return { kind: 'done', script: m[1]!, resource: resourceKey(m[1]!, m[2]!), action: m[3]!, rc: Number(m[4]) };
  if ((m = /^info: (Acquiring|Releasing) resource group: (\S+)\s*(.*)$/.exec(text))) {
    return { kind: 'group', action: m[1] === 'Acquiring' ? 'acquire' : 'release', owner: m[2]!, resources: m[3]!.trim().split(/\s+/).filter(Boolean) };
  }
  if ((m = /^ERROR: Return code (\d+) from (?:\S*\/)?(\S+)/.exec(text))) return { kind: 'rc', script: m[2]!, rc: Number(m[1]) };
  if (/^(?:ERROR|CRIT|WARN\w*):/.test(text) || DECISION.test(text)) return { kind: 'decision' };
  return undefined;
}

/** A line's meaning, or undefined for noise (keepalives, links coming up, debug chatter). */
export function classify(prog: string, text: string): Meaning | undefined {
  if (prog === 'ResourceManager') return rmMeaning(text);
  if (prog === 'heartbeat' || HEARTBEAT_PROGS.has(prog)) {
    let m: RegExpExecArray | null;
    if ((m = /node (\S+): is dead/.exec(text))) return { kind: 'trigger', trigger: 'node-dead', peer: m[1]! };
    if ((m = /Received shutdown notice from '([^']+)'/.exec(text))) return { kind: 'trigger', trigger: 'shutdown', peer: m[1]! };
    if (/Heartbeat shutdown in progress/.test(text)) return { kind: 'trigger', trigger: 'shutdown' };
    if ((m = /Link (\S+?):(\S+) dead/.exec(text))) return { kind: 'trigger', trigger: 'link-dead', peer: m[1]! };
    if ((m = /Cluster node (\S+) returning after partition/.exec(text))) return { kind: 'trigger', trigger: 'partition', peer: m[1]! };
    if ((m = /(\S+) wants to go standby/.exec(text))) return { kind: 'trigger', trigger: 'standby', peer: m[1]! };
    if (/Going standby \[/.test(text)) return { kind: 'trigger', trigger: 'standby' };
    if ((m = /Heartbeat restart on node (\S+)/.exec(text))) return { kind: 'trigger', trigger: 'node-back', peer: m[1]! };
    if (/Configuration validated\. Starting heartbeat/.test(text)) return { kind: 'trigger', trigger: 'start' };
    if (DECISION.test(text) || /^(?:ERROR|CRIT):/.test(text) && !/Cannot lock ourselves into memory/.test(text)) return { kind: 'decision' };
    return undefined;
  }
  // A resource agent (ours or stock): its steps; DEBUG lines are detail, kept only as the evidence behind a bar.
  if (/^(?:ERROR|CRIT|err|crit)\b/i.test(text) || /\b(?:refus\w*|will not|split.brain|already (?:in use|held|answers))/i.test(text) && !/^DEBUG/.test(text)) return { kind: 'refusal', script: prog };
  if (/^(?:INFO|WARNING|WARN|info|warn|notice)\b/.test(text)) return { kind: 'step', script: prog };
  return undefined;
}

/** Heartbeat's own message pairs across the nodes: one node's line is sent, the other's is its receipt. */
export interface PairMark {
  /** 'send' on the sender, 'recv' on the receiver. */
  side: 'send' | 'recv';
  /** Which message: the same key on both sides. */
  key: string;
  /** Who sent it (for recv lines, from the text; for send lines, the logging node). */
  sender?: string;
}

/**
 * The messages whose sending and receipt both nodes log:
 *   "All HA resources relinquished." → "Received shutdown notice from 'A'."
 *   "A wants to go standby" (on A, the request) → the same on the other node (the receipt, answered at once)
 *   the answer → "standby: B can take our foreign resources" (on A)
 *   "Local standby process completed" (on A) → "standby: acquire [foreign] resources from A"
 *   "Standby resource acquisition done" (on B) → "Other node completed standby takeover" (on A)
 */
export function pairMarks(text: string, self: string): PairMark[] {
  let m: RegExpExecArray | null;
  if (/All HA resources relinquished/.test(text)) return [{ side: 'send', key: 'shutdown' }];
  if ((m = /Received shutdown notice from '([^']+)'/.exec(text))) return [{ side: 'recv', key: 'shutdown', sender: m[1]! }];
  if ((m = /(\S+) wants to go standby/.exec(text))) {
    // On the requester: its request goes out. On the other node: the receipt, and its answer goes back at once.
    return m[1] === self ? [{ side: 'send', key: 'standby-request' }] : [{ side: 'recv', key: 'standby-request', sender: m[1]! }, { side: 'send', key: 'standby-answer' }];
  }
  if ((m = /standby: (\S+) can take our/.exec(text))) return [{ side: 'recv', key: 'standby-answer', sender: m[1]! }];
  if (/Local standby process completed/.test(text)) return [{ side: 'send', key: 'standby-done' }];
  if ((m = /standby: acquire \[\w+\] resources from (\S+)/.exec(text))) return [{ side: 'recv', key: 'standby-done', sender: m[1]! }];
  if (/Standby resource acquisition done/.test(text)) return [{ side: 'send', key: 'standby-taken' }];
  if (/Other node completed standby takeover/.test(text)) return [{ side: 'recv', key: 'standby-taken' }];
  return [];
}
