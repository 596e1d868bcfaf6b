import { existsSync } from 'node:fs';
import type { AgentContext, AgentDefinition } from '../lib/contract/agent.ts';
import { GenericError, InvalidParameterError, NotInstalledError, RefusedError, TimeoutError } from '../lib/contract/errors.ts';
import { log } from '../lib/system/log.ts';
import { sleep } from '../lib/system/wait.ts';
import { isExecutable, resolveDrbdTools } from '../lib/drbd/config.ts';
import { Drbdadm, mountsOfDevice, type DrbdCall } from '../lib/drbd/drbdadm.ts';
import { SS_DEVICE_IN_USE, SS_NO_UP_TO_DATE_DISK, SS_TWO_PRIMARIES } from '../lib/drbd/failures.ts';

// drbddisk: this node's DRBD resource is "held" when it is Primary here.
// start promotes (waiting out a peer that DRBD still sees as Primary, never
// promoting stale or split-brain data), stop demotes, status reports the
// role — and reports "held" when it cannot tell, so heartbeat errs safe.

const POLL_MS = 100;

/** drbd resource names as drbdadm accepts them; never an option (leading "-"). */
function checkResourceName(value: string): string | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+:-]*$/.test(value)) return 'is not a DRBD resource name (letters, digits, _ . + : -, not starting with -)';
  return undefined;
}

function drbd(ctx: AgentContext): Drbdadm {
  const tools = resolveDrbdTools(ctx.env);
  if ('message' in tools) throw new InvalidParameterError('DRBDADM', tools.message);
  const callTimeoutMs = Math.max(1000, Math.min(30_000, ctx.deadline - Date.now()));
  return new Drbdadm(tools, ctx.params.get('drbd_resource'), ctx.params.get('drbdconf'), callTimeoutMs);
}

/** Stops at the first of: the parameter's bound, the caller's deadline. */
const boundFrom = (ctx: AgentContext, param: string) => Math.min(Date.now() + ctx.params.int(param) * 1000, ctx.deadline);

async function start(ctx: AgentContext): Promise<void> {
  const adm = drbd(ctx);
  const res = adm.resource;
  // One `drbdadm status` answers role, disk and connection where it is
  // understood (a cold drbdadm run is the costliest step of this call);
  // otherwise, or for "all", three separate reads, in parallel.
  const known = res === 'all' ? undefined : await adm.state();
  let disks: string[] | undefined;
  let connections: string[] | undefined;
  if (known) {
    if (known.role === 'Primary') return log.info(`${res} is already Primary`);
    if (known.role === 'Unconfigured') throw new GenericError(`DRBD resource ${res} is not up on this node${known.notUp ? ` (${known.notUp})` : ' (Unconfigured)'}; bring it up with drbdadm up ${res}`);
    disks = known.disks;
    connections = known.connections;
  } else {
    const [roles, diskLines, connectionLines] = await Promise.all([adm.roles(), adm.disks(), adm.connections()]);
    if ('lines' in roles) {
      if (roles.lines.every((l) => l.local === 'Primary')) return log.info(`${res} is already Primary`);
      if (roles.lines.some((l) => l.local === 'Unconfigured')) throw new GenericError(`DRBD resource ${res} is not up on this node (Unconfigured); bring it up with drbdadm up ${res}`);
    } else if (roles.call.failure?.kind === 'not-up') {
      throw new GenericError(`DRBD resource ${res} is not up on this node (${roles.call.failure.text}); bring it up with drbdadm up ${res}`);
    }
    disks = diskLines?.map((d) => d.local);
    connections = connectionLines;
  }
  // Never promote stale data: DRBD itself would promote an Outdated or
  // Inconsistent disk while a peer serves reads, and a StandAlone node after
  // split brain, which is how one data set becomes two.
  const stale = disks?.find((d) => d !== 'UpToDate');
  if (stale) {
    const what = stale === 'Diskless' ? 'has no local disk (Diskless)' : `has a local disk that is ${stale}, not UpToDate`;
    throw new RefusedError(`DRBD resource ${res} ${what}: refusing to promote it`);
  }
  if (connections?.includes('StandAlone')) {
    throw new RefusedError(`DRBD resource ${res} is StandAlone (split brain, or disconnected by hand): refusing to promote; resolve it and reconnect first (drbdadm connect ${res})`);
  }
  const began = Date.now();
  const bound = boundFrom(ctx, 'peer_wait');
  let last: DrbdCall | undefined;
  let waitedForPeer = false;
  for (;;) {
    const callStarted = Date.now();
    const call = await adm.call('primary');
    const callMs = Date.now() - callStarted;
    if (call.ok) {
      if (waitedForPeer) log.info(`${res}: peer no longer Primary; promoted`);
      return;
    }
    last = call;
    const f = call.failure!;
    if (f.kind === 'state-change' && f.code === SS_NO_UP_TO_DATE_DISK) throw new RefusedError(`DRBD refused to promote ${res}: ${adm.describe(call)}`);
    if (f.kind === 'not-up') throw new GenericError(`DRBD resource ${res} is not up on this node (${f.text}); bring it up with drbdadm up ${res}`);
    const peerPrimary = f.kind === 'state-change' && f.code === SS_TWO_PRIMARIES;
    if (peerPrimary && !waitedForPeer) log.info(`${res}: peer is still Primary; waiting up to ${Math.max(0, bound - Date.now())} ms for DRBD to see it go`);
    waitedForPeer ||= peerPrimary;
    // Another round must fit before the bound, drbdadm's own time included.
    if (Date.now() + POLL_MS + callMs > bound) break;
    await sleep(POLL_MS);
  }
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  if (last.failure?.kind === 'state-change' && last.failure.code === SS_TWO_PRIMARIES) {
    throw new TimeoutError(`the peer is still Primary for ${res} after waiting ${seconds} s; not promoting (DRBD: ${last.failure.text})`);
  }
  throw new GenericError(`could not promote ${res}: ${adm.describe(last)}`);
}

async function stop(ctx: AgentContext): Promise<void> {
  try {
    await demote(ctx);
  } catch (error) {
    // A name drbdadm does not know was never promoted by us (start fails the same way), and a
    // failed stop makes heartbeat reboot the node: a typo in haresources must not do that.
    if (!(error instanceof InvalidParameterError && error.param === 'drbd_resource' && /not defined/.test(error.message))) throw error;
    log.warn(`${error.message}; nothing to release under that name`);
  }
}

async function demote(ctx: AgentContext): Promise<void> {
  const adm = drbd(ctx);
  const res = adm.resource;
  const bound = boundFrom(ctx, 'demote_wait');
  // `drbdadm secondary` first: on a Secondary resource DRBD does nothing and
  // says so with exit 0, so the usual stop is one drbdadm call. Only a
  // failure DRBD does not explain (no module, tools that cannot reach the
  // kernel) asks for the role, which then decides as before.
  let askedRole = res === 'all';
  for (;;) {
    const callStarted = Date.now();
    const call = await adm.call('secondary');
    if (call.ok) return;
    const f = call.failure!;
    if (f.kind === 'not-up') return log.info(`${res} is not up on this node: nothing to release`);
    if (f.kind === 'other' && !askedRole) {
      askedRole = true;
      const role = await adm.role();
      if (role.role === 'Unconfigured') return log.info(`${res} is not up on this node: nothing to release`);
      if (role.role === 'Secondary') return;
    }
    if (Date.now() + POLL_MS + (Date.now() - callStarted) > bound) {
      if (f.kind === 'state-change' && f.code === SS_DEVICE_IN_USE) throw new GenericError(await heldOpenMessage(adm));
      throw new GenericError(`could not demote ${res}: ${adm.describe(call)}`);
    }
    await sleep(POLL_MS);
  }
}

async function heldOpenMessage(adm: Drbdadm): Promise<string> {
  const device = await adm.device();
  const mounts = device ? mountsOfDevice(device) : [];
  const where = mounts.length ? `mounted on ${mounts.join(', ')}` : 'open by a process (not mounted here)';
  return `cannot demote ${adm.resource}: ${device ?? 'its device'} is still in use, ${where}; stop what uses it first`;
}

async function status(ctx: AgentContext) {
  const res = ctx.params.get('drbd_resource');
  if (res === 'all') throw new InvalidParameterError('drbd_resource', 'status needs a resource name, not "all" (drbddisk RESOURCE status)');
  const answer = await drbd(ctx).role();
  if (answer.role === 'Unknown') {
    log.warn(`${res}: role unknown (${answer.reason}); reporting it as held`);
    return { held: true, detail: `role unknown: ${answer.reason}` };
  }
  return { held: answer.role === 'Primary', detail: answer.role };
}

const agent: AgentDefinition = {
  name: 'drbddisk',
  version: '1.0.0',
  shortdesc: 'Promotes and demotes a DRBD resource (Primary where the service runs)',
  longdesc:
    'Heartbeat resource script and OCF agent for a DRBD resource: start makes it Primary on this node, stop makes it Secondary, ' +
    'status reports "running (Primary)" or "stopped (Secondary)". start waits (up to peer_wait seconds) for DRBD to see a peer ' +
    'that is still Primary go away, and refuses at once when the local disk is not UpToDate or the resource is StandAlone after ' +
    'a split brain. When the role cannot be determined, status says "running (role unknown: ...)" so heartbeat errs on the safe side. ' +
    'drbdadm is DRBDADM from the environment or /etc/default/drbd (default /sbin/drbdadm), as for the stock drbddisk script; ' +
    'DRBD_PROC_FILE overrides /proc/drbd.',
  params: [
    { name: 'drbd_resource', type: 'string', default: 'all', v1: 0, shortdesc: 'DRBD resource name (heartbeat v1: defaults to all; status needs a name)', check: checkResourceName },
    { name: 'drbdconf', type: 'string', default: '', shortdesc: 'DRBD configuration file given to drbdadm -c (default: drbdadm\'s own, /etc/drbd.conf)' },
    { name: 'peer_wait', type: 'integer', default: '6', shortdesc: 'Seconds start waits for DRBD to see a still-Primary peer go away (also bounded by the action timeout)' },
    { name: 'demote_wait', type: 'integer', default: '3', shortdesc: 'Seconds stop keeps retrying while the device is still in use (also bounded by the action timeout)' },
  ],
  v1Synopsis: '[resource]',
  timeouts: { start: 20, stop: 20, monitor: 20 },
  lockKey: (params) => params.get('drbd_resource'),
  validate: (ctx) => {
    const tools = resolveDrbdTools(ctx.env);
    if ('message' in tools) throw new InvalidParameterError('DRBDADM', tools.message);
    if (!isExecutable(tools.drbdadm.command, ctx.env)) throw new NotInstalledError(`drbdadm not found: ${tools.drbdadm.command} (${tools.drbdadmSource}) is not an executable`);
    // A missing drbd.conf is this node's problem (Pacemaker may try another node): not installed, as LINBIT's drbd agent says.
    const conf = ctx.params.get('drbdconf');
    if (conf && !existsSync(conf)) throw new NotInstalledError(`drbdconf ${conf} does not exist on this node`);
    if (conf && !conf.startsWith('/')) throw new InvalidParameterError('drbdconf', `drbdconf ${JSON.stringify(conf)} must be an absolute path`);
    for (const name of ['peer_wait', 'demote_wait']) {
      if (ctx.params.int(name) < 0) throw new InvalidParameterError(name, `${name} must not be negative`);
    }
  },
  start,
  stop,
  status,
};
export default agent;
