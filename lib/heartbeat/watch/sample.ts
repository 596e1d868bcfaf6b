import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { resolveDrbdTools } from '../../drbd/config.ts';
import { Drbdadm } from '../../drbd/drbdadm.ts';
import { parseDrbdsetupStatus } from '../../drbd/drbdsetup-status.ts';
import { prefixContains, parseAddress } from '../../ip/address.ts';
import { findAddress, type Interface } from '../../ip/iproute-json.ts';
import { ipList } from '../../ip/iproute.ts';
import { parseIpAddrOutput } from '../../ip/iproute-text.ts';
import { ArpWatch } from '../../ip/arp-watch.ts';
import { arpProbe } from '../../ip/probe.ts';
import { readInterfacesFromProc } from '../../ip/proc-addresses.ts';
import { parseV1Args } from '../../ip/v1-spec.ts';
import { descendants, run } from '../../system/exec.ts';
import { declaredNodes, parseHaCf, type HaCfEntry } from '../hacf.ts';
import type { Haresources } from '../haresources.ts';
import { groupStatus, type GroupStatus, type StatusOptions } from '../status.ts';

// One sample of the node for `ha-agent watch`: what heartbeat, the LAN,
// DRBD and the groups' resources say right now. Side effects (files,
// commands) here; what the answers mean is events.ts.
//
// What a sample spawns, and why each one is needed:
//  - heartbeat running: none (its pid file and /proc);
//  - links and the peer as heartbeat sees them: `cl_status listnodes -v`
//    (heartbeat's API: the only place its link states are; only while it
//    runs), and only when heartbeat's log has grown since (see clStatusDue);
//    where cl_status lacks `-v` (heartbeat before 3.0.6) `nodestatus`,
//    `listhblinks` and one `hblinkstatus` per link instead (askClStatus);
//  - the service LAN: this node's addresses from /proc (proc-addresses.ts;
//    `ip -j addr show` only if /proc cannot be read); per VIP held here one arping
//    that keeps running across samples (ArpWatch: started once, its replies
//    read as they come; an arping per sample cost more than the rest of the
//    sample), and one arping for the peer only while heartbeat does not hear
//    it on every link;
//  - DRBD: one `drbdadm status RES` per drbddisk resource (8.3's XML status
//    lacks the peer's role: then `drbdadm role`, `dstate` too);
//  - the groups: each resource's `status`, as ResourceManager calls it; for
//    our own agents (the script is a link to this executable) the same code
//    runs in this process instead (a cold start of the executable costs
//    ~60 ms of CPU: more than everything else a sample does).

export interface LinkState {
  name: string;
  status: string;
}

export interface ClusterNode {
  name: string;
  status: string;
  type: string;
  links: LinkState[];
}

/**
 * `cl_status listnodes -v` (heartbeat's tools/cl_status.c __listnodes):
 * per node "\nNAME\tSTATUS\t(nodetype: TYPE)" then "\tLINK\tSTATUS" per link.
 */
export function parseClStatusListnodes(text: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('\t')) {
      const [name, status] = line.trim().split(/\s+/);
      if (name && status && nodes.length) nodes.at(-1)!.links.push({ name, status });
      continue;
    }
    const m = /^(\S+)\s+(\S+)\s+\(nodetype:\s*(\S+)\)/.exec(line);
    if (m) nodes.push({ name: m[1]!.toLowerCase(), status: m[2]!, type: m[3]!, links: [] });
  }
  return nodes;
}

/** `cl_status listhblinks NODE`: one "\tLINK" line per heartbeat link (tools/cl_status.c listhblinks). */
export function parseClStatusLinks(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !/ heartbeat links:$/.test(l));
}

/**
 * cl_status's exit code for an option its sub-command does not know
 * (PARAMETER_ERROR in tools/cl_status.c). `listnodes -v` is refused so by
 * the cl_status of heartbeat before 3.0.6 (its listnodes takes -m -p -n only:
 * read in two older trees of tools/cl_status.c; CentOS 7's 3.0.4 among them
 * by age), where the watcher asks node by node instead.
 */
export const CL_STATUS_PARAMETER_ERROR = 11;

/** legacy: the answer came node by node (this cl_status refused `listnodes -v`). */
export type ClStatusAnswer = ({ peerStatus?: string; links: LinkState[] } | { error: string }) & { legacy?: boolean };

/**
 * What heartbeat says of the peer and its links, in one `cl_status
 * listnodes -v` where cl_status has it, else (legacy: heartbeat before
 * 3.0.6) `nodestatus PEER` and `listhblinks PEER`, then `hblinkstatus PEER
 * LINK` per link: 2 + links processes, only when a fresh answer is due.
 */
export async function askClStatus(peer: string, legacy: boolean, timeoutMs: number): Promise<ClStatusAnswer> {
  const cl = (args: string[]) => run('cl_status', args, { allowFailure: true, timeoutMs }).catch((error: Error) => error);
  const failed = (args: string[], r: Awaited<ReturnType<typeof cl>>) =>
    `cl_status ${args.join(' ')}: ${r instanceof Error ? r.message : `exit ${r.exitCode}: ${r.stderr.trim().split('\n').pop() ?? ''}`}`;
  if (!legacy) {
    const r = await cl(['listnodes', '-v']);
    if (!(r instanceof Error) && r.exitCode === 0) {
      const node = parseClStatusListnodes(r.stdout).find((n) => n.name === peer);
      return { peerStatus: node?.status, links: node?.links ?? [] };
    }
    if (r instanceof Error || r.exitCode !== CL_STATUS_PARAMETER_ERROR) return { error: failed(['listnodes', '-v'], r) };
  }
  // nodestatus exits 1 for a dead node (its status still printed); 11: no such node.
  const [status, list] = await Promise.all([cl(['nodestatus', peer]), cl(['listhblinks', peer])]);
  if (status instanceof Error || ![0, 1].includes(status.exitCode ?? -1)) return { error: failed(['nodestatus', peer], status), legacy: true };
  if (list instanceof Error || list.exitCode !== 0) return { error: failed(['listhblinks', peer], list), legacy: true };
  const names = parseClStatusLinks(list.stdout);
  const links = await Promise.all(names.map(async (name) => {
    // hblinkstatus exits 1 for a dead link, its status still printed.
    const r = await cl(['hblinkstatus', peer, name]);
    return { name, status: r instanceof Error ? 'unknown' : r.stdout.trim().split('\n')[0] || 'unknown' };
  }));
  return { peerStatus: status.stdout.trim().split('\n')[0] || undefined, links, legacy: true };
}

/**
 * What heartbeat's own log says about the peer's last deliberate move:
 * "Received shutdown notice from 'PEER'." (it stopped heartbeat on
 * purpose: a graceful failover, not a partition) until heartbeat hears it
 * again ("Link PEER:IF up.", "Status update for node PEER: status active",
 * "Heartbeat restart on node PEER"). Pure: lines in, the last word out
 * (undefined when these lines say nothing about the peer).
 */
export function peerLeftFromLog(text: string, peer: string, previous?: boolean): boolean | undefined {
  let left = previous;
  const name = peer.toLowerCase();
  for (const line of text.split('\n')) {
    const lower = line.toLowerCase();
    if (!lower.includes(name)) continue;
    if (lower.includes(`received shutdown notice from '${name}'`)) left = true;
    else if (lower.includes(`link ${name}:`) && / up\.?\s*$/.test(lower)) left = false;
    else if (lower.includes(`status update for node ${name}: status `) && !/status (dead|shutdown)/.test(lower)) left = false;
    else if (lower.includes(`heartbeat restart on node ${name}`)) left = false;
  }
  return left;
}

/**
 * heartbeat's own lines (not ResourceManager's, not ours) that say a link
 * or a node changed: "Link PEER:IF dead.", "node PEER: is dead", "Status
 * update for node PEER: status ...", "Received shutdown notice from ...",
 * "Heartbeat restart on node ...". What the watcher samples at once for.
 */
const HEARTBEAT_NEWS = /heartbeat(?::\s*\[\d+\]|\[\d+\]):.*\b(?:Link \S+ (?:dead|up)|node \S+: is dead|Status update for node|shutdown notice|restart on node)/i;

/** Does this text hold a line of heartbeat's own about a link or a node? Pure. */
export function hasHeartbeatNews(text: string): boolean {
  return HEARTBEAT_NEWS.test(text);
}

/** Follows heartbeat's log (ha.cf logfile) from where it was last read; a rotated or truncated file is read from its start. */
export class LogFollower {
  private offset = -1;
  private inode = 0;
  left?: boolean;
  /** When a poll last found new lines (ms since the epoch; 0: never). */
  grewAt = 0;
  /** When a poll last found heartbeat's news of a link or a node (see hasHeartbeatNews; 0: never). */
  newsAt = 0;

  constructor(readonly path: string | undefined, readonly peer: string | undefined) {}

  /** Reads what heartbeat appended since the last call. The first call reads at most the last 256 KiB. */
  poll(): boolean | undefined {
    if (!this.path || !this.peer) return undefined;
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'r');
      const st = fstatSync(fd);
      if (st.ino !== this.inode || st.size < this.offset) this.offset = -1;
      this.inode = st.ino;
      const start = this.offset < 0 ? Math.max(0, st.size - 256 * 1024) : this.offset;
      const length = Math.min(st.size - start, 4 * 1024 * 1024);
      if (length > 0) {
        const buffer = Buffer.alloc(length);
        readSync(fd, buffer, 0, length, start);
        const text = buffer.toString('latin1');
        const complete = text.lastIndexOf('\n') + 1;
        if (complete > 0) this.grewAt = Date.now();
        if (this.offset >= 0 && complete > 0 && hasHeartbeatNews(text.slice(0, complete))) this.newsAt = this.grewAt;
        this.left = peerLeftFromLog(text.slice(0, complete), this.peer, this.left);
        this.offset = start + complete;
      } else this.offset = start;
    } catch {
      // No log (yet): nothing heartbeat said.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return this.left;
  }
}

export interface VipState {
  ip: string;
  /** The interface holding it here, else the one named in haresources. */
  nic?: string;
  heldHere: boolean;
  /** MACs other than this node's that answered an ARP probe for it (only probed when held here). */
  otherMacs: string[];
}

export interface DrbdState {
  resource: string;
  role: string;
  peerRole?: string;
  connection?: string;
  disks: string[];
  peerDisks: string[];
  /** Volumes with a drbd-split-brain-detected-RES-VOLUME file. */
  splitBrainVolumes: string[];
  splitBrainDir: string;
  error?: string;
}

export interface Sample {
  at: Date;
  node: string;
  heartbeat: { running: boolean; pid?: number; detail: string };
  peer?: {
    name: string; status?: string; address?: string; lanMacs?: string[]; leftOnPurpose?: boolean;
    /** false: the peer did not answer on the LAN when heartbeat lost it (a crash; answering now = rebooting), see PeerLossMemo; undefined: not known. */
    partitioned?: boolean;
  };
  /** heartbeat's links to the peer (undefined when heartbeat does not run or cannot be asked). */
  links?: LinkState[];
  vips: VipState[];
  drbd: DrbdState[];
  groups: GroupStatus[];
  /** ResourceManager is running (a takeover or release in progress): a partial group is expected. */
  transition: boolean;
  problems: { part: string; message: string }[];
  /** Wall time of the sample. */
  ms: number;
}

/** What the watcher knows from its configuration files (re-read on SIGHUP). */
export interface WatchTarget {
  node: string;
  haDir: string;
  haCf: HaCfEntry[];
  haresources: Haresources;
  peerName?: string;
  /** --peer-address, else the peer's name as this node resolves it. */
  peerAddress?: string;
  vips: { ip: string; nic?: string }[];
  drbdResources: string[];
  splitBrainDir: string;
  heartbeatPidFile: string;
  env: NodeJS.ProcessEnv;
  /** Bound of each command a sample runs (ms). */
  callTimeoutMs: number;
  /** heartbeat's log, followed for the peer's shutdown notices (graceful stop vs partition). */
  heartbeatLog?: LogFollower;
  /** Our agents' status without a process each (see StatusOptions.inProcess). */
  inProcess?: StatusOptions['inProcess'];
  /** The long-running watcher's arpings, one per VIP held here ("NIC IP"); without it (--once) each sample probes once. */
  arpWatches?: Map<string, ArpWatch>;
  /** The sampling interval (ms): how often a kept arping probes. */
  intervalMs?: number;
  /** The last `cl_status` answer, reused while heartbeat's log is quiet (see clStatusDue). */
  clStatusMemo?: ClStatusMemo;
  /** How the peer was lost: still answering on the LAN (a partition) or not (a crash, then maybe a reboot). */
  peerLoss?: PeerLossMemo;
}

/**
 * Tells a partition from a peer that crashed and is rebooting. heartbeat
 * losing a peer that still answers on the LAN (within graceMs of the loss)
 * is split brain until heartbeat hears it again. A peer that did not answer
 * when it was lost (a crash) and answers later is a node coming back, up on
 * the LAN a few seconds before its heartbeat runs (the rejoin): not split
 * brain, unless heartbeat still has not heard it after rejoinWindowMs (its
 * heartbeat should have found us long before). A VIP or DRBD held on both
 * nodes meanwhile is its own critical event (HA711, HA72x).
 */
export class PeerLossMemo {
  private lostAt?: number;
  private answeringSince?: number;
  private partition = false;

  constructor(readonly graceMs: number, readonly rejoinWindowMs = 120_000) {}

  /** One sample: is the peer lost (every link down or the peer dead), does it answer on the LAN? Returns: a partition. */
  update(now: number, lost: boolean, answers: boolean): boolean {
    if (!lost) {
      this.lostAt = this.answeringSince = undefined;
      this.partition = false;
      return false;
    }
    this.lostAt ??= now;
    if (!answers) {
      this.answeringSince = undefined;
      return this.partition;
    }
    this.answeringSince ??= now;
    if (this.answeringSince - this.lostAt <= this.graceMs || now - this.answeringSince >= this.rejoinWindowMs) this.partition = true;
    return this.partition;
  }
}

export interface ClStatusMemo {
  at: number;
  pid?: number;
  /** This cl_status refused `listnodes -v` (heartbeat before 3.0.6): asked node by node (see askClStatus). */
  legacy?: boolean;
  peerStatus?: string;
  links?: LinkState[];
}

/** The longest a `cl_status` answer is reused, whatever heartbeat's log says. */
export const CL_STATUS_MAX_AGE_MS = 10_000;

/**
 * Is a fresh `cl_status` needed, or does the last answer still hold?
 * Heartbeat logs every change of what `cl_status listnodes -v` shows
 * ("Link PEER:IF dead.", "Link PEER:IF up.", "node PEER: is dead", "Status
 * update for node PEER: status ..."), so while its log has not grown the
 * answer has not changed. Asked again when: nothing is known yet, heartbeat
 * is another process, its log is not followed (no logfile/debugfile), the
 * log grew since two intervals before the last call (a change logged just
 * before heartbeat's API shows it is asked twice), or the answer is
 * CL_STATUS_MAX_AGE_MS old (a change heartbeat did not log). Why: a
 * `cl_status` per sample was ~12 ms of CPU, a quarter of a sample.
 */
export function clStatusDue(memo: ClStatusMemo | undefined, pid: number | undefined, logGrewAt: number | undefined, now: number, intervalMs: number): boolean {
  if (!memo || memo.pid !== pid || logGrewAt === undefined) return true;
  if (now - memo.at >= CL_STATUS_MAX_AGE_MS) return true;
  return logGrewAt >= memo.at - 2 * intervalMs;
}

/** Ends every kept arping (SIGTERM, or before a reload drops a VIP). */
export async function stopArpWatches(watches: Map<string, ArpWatch> | undefined, keep: ReadonlySet<string> = new Set()): Promise<void> {
  if (!watches) return;
  await Promise.all([...watches].filter(([key]) => !keep.has(key)).map(async ([key, w]) => {
    watches.delete(key);
    await w.stop();
  }));
}

/** The VIPs and drbddisk resources of every group of haresources, once each. */
export function targetsOf(haresources: Haresources): { vips: { ip: string; nic?: string }[]; drbdResources: string[] } {
  const vips = new Map<string, { ip: string; nic?: string }>();
  const drbd = new Set<string>();
  for (const g of haresources.groups) {
    for (const r of g.resources) {
      if (r.script === 'IPaddr' || r.script === 'IPaddr2') {
        try {
          const p = parseV1Args(r.args);
          if (p.ip && !vips.has(p.ip)) vips.set(p.ip, { ip: p.ip, nic: p.nic });
        } catch {
          // check reports a malformed VIP; the watcher has nothing to probe.
        }
      } else if (r.script === 'drbddisk') {
        drbd.add(r.args[0] ?? 'all');
      }
    }
  }
  return { vips: [...vips.values()], drbdResources: [...drbd] };
}

/** The other node of ha.cf's `node` lines (a two-node cluster). */
export function peerOf(haCf: readonly HaCfEntry[], node: string): string | undefined {
  return declaredNodes(haCf).map((n) => n.name).find((n) => n !== node.toLowerCase());
}

function heartbeatRunning(pidFile: string): { running: boolean; pid?: number; detail: string } {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return { running: false, detail: `no ${pidFile}` };
  }
  if (!Number.isInteger(pid) || pid <= 0) return { running: false, detail: `${pidFile} holds no PID` };
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return { running: false, pid, detail: `PID ${pid} of ${pidFile} has exited` };
    if (!comm.startsWith('heartbeat')) return { running: false, pid, detail: `PID ${pid} of ${pidFile} is ${comm}, not heartbeat` };
    return { running: true, pid, detail: `PID ${pid}` };
  } catch {
    return { running: false, pid, detail: `PID ${pid} of ${pidFile} is not running` };
  }
}

/**
 * A ResourceManager among heartbeat's descendants (heartbeat forks the
 * process that runs `ResourceManager takegroup|givegroup`): a few reads of
 * /proc/PID/task/PID/children, where scanning every process's cmdline (as
 * resourceManagerRunning does) was most of an idle sample's CPU on a node
 * with a few hundred processes. undefined: the children files cannot be
 * read (a kernel without CONFIG_PROC_CHILDREN): ask resourceManagerRunning.
 */
export function resourceManagerUnder(rootPid: number): boolean | undefined {
  if (!existsSync(`/proc/${rootPid}/task/${rootPid}/children`)) return undefined;
  return descendants(rootPid).some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('ResourceManager');
    } catch {
      return false; // Gone.
    }
  });
}

/** Any ResourceManager running in this PID namespace (heartbeat runs it for takegroup/givegroup; an operator may by hand). */
export function resourceManagerRunning(procDir = '/proc'): boolean {
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return false;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`${procDir}/${e}/cmdline`, 'latin1').includes('ResourceManager')) return true;
    } catch {
      // Gone.
    }
  }
  return false;
}

/** The interface whose address network holds `ip` (the LAN the peer is on). */
export function interfaceFor(interfaces: readonly Interface[], ip: string): string | undefined {
  const parsed = parseAddress(ip);
  if (!parsed) return undefined;
  return interfaces.flatMap((i) => i.addresses).find((a) => a.family === parsed.family && prefixContains(a.family, a.value, a.prefixlen, parsed.value))?.ifname;
}

function splitBrainVolumes(dir: string, resource: string): string[] {
  const prefix = `drbd-split-brain-detected-${resource}-`;
  try {
    return readdirSync(dir).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length)).sort();
  } catch {
    return [];
  }
}

async function drbdState(target: WatchTarget, resource: string): Promise<DrbdState> {
  const base = { resource, role: 'Unknown', disks: [] as string[], peerDisks: [] as string[], splitBrainVolumes: splitBrainVolumes(target.splitBrainDir, resource), splitBrainDir: target.splitBrainDir };
  const tools = resolveDrbdTools(target.env);
  if ('message' in tools) return { ...base, error: tools.message };
  const adm = new Drbdadm(tools, resource, '', target.callTimeoutMs);
  try {
    const status = await adm.call('status');
    if (status.ok && !/<drbd-status\b/.test(status.result.stdout)) {
      const res = parseDrbdsetupStatus(status.result.stdout).find((r) => r.name === resource);
      if (res) {
        const c = res.connections[0];
        return { ...base, role: res.role, peerRole: c?.role, connection: c?.connection ?? 'StandAlone', disks: res.volumes.map((v) => v.disk), peerDisks: c?.peerDisks ?? [] };
      }
    }
    if (!status.ok && status.failure?.kind === 'not-up') return { ...base, role: 'Unconfigured' };
    // drbd 8.3 (XML status without the peer's role) or no `status`: role, dstate, cstate.
    const [roles, disks, conns] = await Promise.all([adm.roles(), adm.disks(), adm.connections()]);
    if (!('lines' in roles)) return { ...base, error: adm.describe(roles.call) };
    const line = roles.lines[0]!;
    if (line.local === 'Unconfigured') return { ...base, role: 'Unconfigured' };
    return { ...base, role: line.local, peerRole: line.peer, connection: conns?.[0], disks: disks?.[0] ? [disks[0].local] : [], peerDisks: disks?.[0]?.peers ?? [] };
  } catch (error) {
    return { ...base, error: (error as Error).message };
  }
}

/**
 * The kept arping for a VIP held here (started on first use, again after it
 * ended). It probes twice per interval (at most every 500 ms) so that a
 * reply window of 2.5 probe intervals always holds two probes: a second
 * holder is seen by the next sample, within the issue's 2 s.
 */
function keptArping(target: WatchTarget, nic: string, ip: string, problems: Sample['problems']): ArpWatch | undefined {
  if (!target.arpWatches) return undefined;
  const key = `${nic} ${ip}`;
  let watch = target.arpWatches.get(key);
  if (!watch) {
    const intervalMs = Math.max(100, Math.min(500, (target.intervalMs ?? 1000) / 2));
    watch = new ArpWatch(nic, ip, { intervalMs, lifetimeMs: 10 * 60_000 });
    target.arpWatches.set(key, watch);
  }
  const note = watch.ensure();
  if (note) problems.push({ part: `arping ${ip}`, message: note });
  return watch;
}

/** Takes one sample. Never throws: what cannot be read is a problem in the sample. */
export async function takeSample(target: WatchTarget): Promise<Sample> {
  const started = Date.now();
  const at = new Date(started);
  const problems: Sample['problems'] = [];
  const heartbeat = heartbeatRunning(target.heartbeatPidFile);
  // A group's resources are sampled one after the other (a second or more): ResourceManager may finish
  // a takegroup/givegroup while they are, so it counts as a transition if it ran at the start or the end.
  // At the start only heartbeat's descendants are looked at (cheap, every sample); the end, only reached
  // with a group held partly, scans every process (a ResourceManager run by hand too).
  const resourceManagerAtStart = heartbeat.running && heartbeat.pid !== undefined
    ? resourceManagerUnder(heartbeat.pid) ?? resourceManagerRunning()
    : false;

  // heartbeat's log first: whether it grew decides whether cl_status is asked.
  const leftOnPurpose = target.heartbeatLog?.poll();
  const logGrewAt = target.heartbeatLog?.path && target.peerName ? target.heartbeatLog.grewAt : undefined;
  const memo = target.clStatusMemo;
  const askHeartbeat = heartbeat.running && target.peerName !== undefined && clStatusDue(memo, heartbeat.pid, logGrewAt, started, target.intervalMs ?? 1000);
  const clStatus = askHeartbeat
    ? askClStatus(target.peerName!, memo?.legacy ?? false, target.callTimeoutMs)
    : undefined;
  const drbd = Promise.all(target.drbdResources.map((r) => drbdState(target, r)));
  const groups = (async () => {
    const out: GroupStatus[] = [];
    for (const g of target.haresources.groups) {
      try {
        out.push(await groupStatus(target.haresources, g, { haDir: target.haDir, env: target.env, timeoutMs: target.callTimeoutMs, inProcess: target.inProcess }));
      } catch (error) {
        problems.push({ part: g.resources[0]?.text ?? g.node, message: `status of group ${g.resources[0]?.text}: ${(error as Error).message}` });
      }
    }
    return out;
  })();

  let interfaces: Interface[] = [];
  try {
    // Read, not spawned: `ip -j addr show` per sample cost ~13 ms of CPU.
    interfaces = readInterfacesFromProc();
  } catch {
    // /proc unreadable: ask ip, in JSON where it has it, in text where it
    // has not (ip before 4.14: CentOS 7, Debian 9), as the agents do.
    try {
      interfaces = parseIpAddrOutput(await ipList(['addr', 'show'], { timeoutMs: target.callTimeoutMs, env: target.env }));
    } catch (error) {
      problems.push({ part: 'ip', message: `ip addr show: ${(error as Error).message}` });
    }
  }
  const ownMacs = new Set(interfaces.map((i) => i.mac?.toLowerCase()).filter(Boolean));

  const probe = async (nic: string, ip: string): Promise<string[] | undefined> => {
    try {
      return (await arpProbe(nic, ip)).filter((mac) => !ownMacs.has(mac));
    } catch (error) {
      problems.push({ part: `arping ${ip}`, message: (error as Error).message });
      return undefined;
    }
  };

  const vips = target.vips.map((v) => {
    const parsed = parseAddress(v.ip);
    const here = parsed && interfaces.length ? findAddress(interfaces, parsed.family, parsed.value) : [];
    // '' : held, on no interface /proc names (see proc-addresses.ts): haresources' NIC.
    return { ip: v.ip, nic: here[0]?.ifname || v.nic, heldHere: here.length > 0, otherMacs: [] as string[] };
  });
  const probed = vips.filter((v) => v.heldHere && v.nic && parseAddress(v.ip)?.family === 'inet');
  const vipProbes = Promise.all(probed.map(async (v) => {
    const watch = keptArping(target, v.nic!, v.ip, problems);
    // A kept arping that has probed at least twice answers; a new one not yet: probe once.
    v.otherMacs = watch?.settled()
      ? watch.macsWithin(2.5 * watch.probeIntervalMs).filter((mac) => !ownMacs.has(mac))
      : (await probe(v.nic!, v.ip)) ?? [];
  }));
  // A VIP no longer held here (or moved to another NIC): its arping ends.
  void stopArpWatches(target.arpWatches, new Set(probed.map((v) => `${v.nic} ${v.ip}`)));

  let links: LinkState[] | undefined;
  let peerStatus: string | undefined;
  const cl = await clStatus;
  if (cl) {
    if (target.clStatusMemo && cl.legacy) target.clStatusMemo.legacy = true;
    if ('error' in cl) {
      problems.push({ part: 'cl_status', message: cl.error });
    } else {
      ({ peerStatus, links } = cl);
      if (target.clStatusMemo) Object.assign(target.clStatusMemo, { at: started, pid: heartbeat.pid, peerStatus, links });
    }
  } else if (heartbeat.running && memo && target.peerName) {
    ({ peerStatus, links } = memo);
  }
  // A failed answer or a heartbeat gone: asked afresh next time.
  if (target.clStatusMemo && (!heartbeat.running || (cl && 'error' in cl))) target.clStatusMemo.pid = -1;
  // The peer is probed on the LAN only when heartbeat does not hear it on
  // every link: that is when the answer decides (split brain or peer dead);
  // a healthy sample spares the arping.
  const hearsPeer = peerStatus !== undefined && ['active', 'up'].includes(peerStatus) && (links ?? []).every((l) => l.status === 'up');
  const peerNic = target.peerAddress ? interfaceFor(interfaces, target.peerAddress) : undefined;
  const peerMacs = heartbeat.running && !hearsPeer && target.peerAddress && peerNic && parseAddress(target.peerAddress)?.family === 'inet'
    ? await probe(peerNic, target.peerAddress)
    : undefined;
  await vipProbes;
  // The same reading of cl_status as deriveConditions': every link down, or the peer not up.
  const up = (status: string) => status === 'up' || status === 'active';
  const peerLost = links !== undefined && ((links.length > 0 && links.every((l) => !up(l.status))) || (peerStatus !== undefined && !up(peerStatus)));
  const partitioned = target.peerLoss && heartbeat.running && target.peerName && !leftOnPurpose
    ? target.peerLoss.update(started, peerLost, (peerMacs ?? []).length > 0)
    : undefined;

  const [drbdStates, groupStates] = await Promise.all([drbd, groups]);
  for (const d of drbdStates) if (d.error) problems.push({ part: `drbd ${d.resource}`, message: `DRBD resource ${d.resource}: ${d.error}` });
  const transition = groupStates.some((g) => g.verdict === 'SOME') && (resourceManagerAtStart || resourceManagerRunning());
  return {
    at,
    node: target.node,
    heartbeat,
    peer: target.peerName ? { name: target.peerName, status: peerStatus, address: target.peerAddress, lanMacs: peerMacs, leftOnPurpose, partitioned } : undefined,
    links,
    vips,
    drbd: drbdStates,
    groups: groupStates,
    transition,
    problems,
    ms: Date.now() - started,
  };
}

/** Reads ha.cf's text into entries; kept here so the watcher and its tests read it one way. */
export function readHaCf(path: string): HaCfEntry[] {
  return parseHaCf(readFileSync(path, 'utf8'));
}
