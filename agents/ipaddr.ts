import { existsSync, readFileSync } from 'node:fs';
import type { AgentContext, AgentDefinition, StatusResult } from '../lib/contract/agent.ts';
import { GenericError, InvalidParameterError, NotInstalledError, RefusedError, TimeoutError } from '../lib/contract/errors.ts';
import { run } from '../lib/system/exec.ts';
import { log } from '../lib/system/log.ts';
import { canonicalAddress, parseAddress } from '../lib/ip/address.ts';
import { sendArpArgv, sendUaArgv, startAnnouncer, stopAnnouncer } from '../lib/ip/announce.ts';
import { type InterfaceAddress, findAddress, freeAliasLabel, parseProcIfInet6 } from '../lib/ip/iproute-json.ts';
import { ipList } from '../lib/ip/iproute.ts';
import { parseIpAddrOutput, parseIpRouteOutput } from '../lib/ip/iproute-text.ts';
import { arpProbe, resolveNeighbourMac } from '../lib/ip/probe.ts';
import { type ResolvedVip, type VipSpec, parseVipSpec, resolveVip } from '../lib/ip/target.ts';
import { V1_SYNOPSIS, parseV1Args } from '../lib/ip/v1-spec.ts';
import { pollUntil } from '../lib/system/wait.ts';

// IPaddr: a virtual IPv4/IPv6 address on this node's interface.
//   start  = (already here → done) duplicate check, `ip addr add ... label nic:N`,
//            then unsolicited ARP / NA from a detached announcer.
//   stop   = end the announcer, remove the address (absent, or nic gone → done).
//   status = is the address on *this* node's interface: one `ip` call for
//            IPv4, /proc/net/if_inet6 for IPv6.

const nonNegative = (v: string) => (Number(v) < 0 ? 'must not be negative' : undefined);

const ipCommand = (args: string[]) => run('ip', args, { timeoutMs: 5000 });

/** Where the address is on this node (on spec.nic when given). IPv6 reads /proc; IPv4 costs one `ip` (JSON, or text where ip has none). */
async function addressesHeld(spec: VipSpec): Promise<InterfaceAddress[]> {
  const { family, value } = spec.address;
  if (family === 'inet6') {
    const text = existsSync('/proc/net/if_inet6') ? readFileSync('/proc/net/if_inet6', 'utf8') : '';
    return findAddress(parseProcIfInet6(text), family, value, spec.nic);
  }
  return findAddress(parseIpAddrOutput(await ipList(['-4', 'addr', 'show', 'to', spec.ip])), family, value, spec.nic);
}

async function removeAddress(ip: string, held: InterfaceAddress): Promise<void> {
  const result = await run('ip', ['-f', held.family, 'addr', 'del', `${ip}/${held.prefixlen}`, 'dev', held.ifname], { timeoutMs: 5000, allowFailure: true });
  if (result.exitCode === 0) return;
  // Gone meanwhile (interface removed, another call): that is what we wanted.
  const spec = { address: parseAddress(ip)!, ip, nic: held.ifname };
  if ((await addressesHeld(spec)).length === 0) return;
  throw new GenericError(`could not remove ${ip}/${held.prefixlen} from ${held.ifname}: ${result.stderr.trim() || `ip exited ${result.exitCode}`}`);
}

/** IPv6: the kernel runs DAD while the address is tentative; wait it out, fail cleanly on dadfailed. */
async function waitForDad(ctx: AgentContext, vip: ResolvedVip): Promise<void> {
  const spec = { address: parseAddress(vip.ip)!, ip: vip.ip, nic: vip.nic };
  const outcome = await pollUntil(async () => {
    const [held] = await addressesHeld(spec);
    if (!held) return 'vanished';
    if (held.dadfailed) return 'dadfailed';
    return held.tentative ? undefined : 'ok';
  }, { intervalMs: 10, timeoutMs: Math.max(0, ctx.deadline - Date.now() - 500) });
  if (outcome === 'ok') return;
  const [held] = await addressesHeld(spec);
  if (held) await removeAddress(vip.ip, held);
  if (outcome === 'dadfailed') {
    const mac = await resolveNeighbourMac(vip.nic, vip.ip, 300);
    throw new RefusedError(`refusing to start: ${vip.ip} already answers from ${mac ?? 'another host (MAC unknown)'} on ${vip.nic} (IPv6 duplicate address detection failed) — another node still holds it (split brain?); removed it again`);
  }
  if (outcome === 'vanished') throw new GenericError(`${vip.ip} disappeared from ${vip.nic} during duplicate address detection`);
  throw new TimeoutError(`${vip.ip} still tentative on ${vip.nic} (duplicate address detection) when the start timeout ran out; removed it again`);
}

/** The duplicate check's outcome, never a rejected promise left unobserved while other steps run. */
type ProbeOutcome = { macs: string[] } | { error: unknown };
const probeFor = (nic: string, ip: string, signal?: AbortSignal): Promise<ProbeOutcome> =>
  arpProbe(nic, ip, undefined, signal).then((macs) => ({ macs }), (error: unknown) => ({ error }));

/** A duplicate check started before it is known to be needed (see start). */
interface EarlyProbe {
  nic: string;
  outcome: Promise<ProbeOutcome>;
  used: boolean;
}

async function start(ctx: AgentContext): Promise<void> {
  const spec = parseVipSpec(ctx.params);
  const check = spec.address.family === 'inet' && ctx.params.bool('run_arping');
  // arping spends ~25-45 ms setting up its packet socket before the first
  // probe: when the interface is given, probe while `ip` lists the addresses.
  // A probe whose answer is not needed (address already here, or start fails
  // before the check) is ended and waited for: arping never outlives us.
  const abandon = new AbortController();
  const early: EarlyProbe | undefined = check && spec.nic ? { nic: spec.nic, outcome: probeFor(spec.nic, spec.ip, abandon.signal), used: false } : undefined;
  try {
    await addVip(ctx, spec, check, early);
  } finally {
    if (early && !early.used) {
      abandon.abort();
      await early.outcome;
    }
  }
}

async function addVip(ctx: AgentContext, spec: VipSpec, check: boolean, early: EarlyProbe | undefined): Promise<void> {
  const { params, env } = ctx;
  const family = spec.address.family;
  const interfaces = parseIpAddrOutput(await ipList(['addr', 'show']));
  const existing = findAddress(interfaces, family, spec.address.value, spec.nic);
  if (existing.some((a) => !a.dadfailed)) {
    log.info(`${spec.ip} is already on ${existing[0]!.label ?? existing[0]!.ifname}`);
    return;
  }
  for (const failed of existing) await removeAddress(spec.ip, failed);

  const routes = !spec.nic || spec.prefix === undefined ? await routesFor(family) : [];
  const vip = resolveVip(spec, interfaces, routes, (nic) => freeAliasLabel(interfaces, nic));
  const announce = params.int('arp_count') > 0;
  const announcer = family === 'inet'
    ? sendArpArgv(env, vip.nic, vip.ip, params.int('arp_count'), params.int('arp_interval'))
    : sendUaArgv(env, vip.nic, vip.ip, vip.prefix, params.int('arp_count'), params.int('arp_interval'));
  if (announce && !existsSync(announcer[0]!)) throw new NotInstalledError(`${announcer[0]} not found (resource-agents); it announces the address to neighbours`);

  if (check) {
    if (early?.nic === vip.nic) early.used = true;
    const probe = await (early?.used ? early.outcome : probeFor(vip.nic, vip.ip));
    if ('error' in probe) {
      // No arping at all (a node with only resource-agents' send_arp): stock
      // IPaddr never checks and stock IPaddr2 checks only when asked, so the
      // default goes on without the check, loudly; run_arping=true asked for
      // it, and fails as IPaddr2's check_binary does.
      if (!(probe.error instanceof NotInstalledError)) throw new GenericError(`duplicate check failed: ${(probe.error as Error).message}`);
      if (params.given('run_arping')) throw new NotInstalledError(`arping not found; install arping (Habets' or iputils') or set run_arping=false to skip the duplicate check`);
      log.warn(`arping not found: adding ${vip.ip} without the duplicate check (as stock IPaddr does); install arping (Habets' or iputils') to refuse an address another node still holds`);
    } else if (probe.macs.length) {
      // On a two-node cluster the usual reason is split brain: the heartbeat
      // link failed, the peer was declared dead, and it still holds the VIP.
      throw new RefusedError(`refusing to start: ${vip.ip} already answers from ${probe.macs.join(', ')} on ${vip.nic} — another node still holds it (split brain?); not adding it`);
    } else {
      log.debug(`duplicate check: nobody answered for ${vip.ip} on ${vip.nic}`);
    }
  }

  const add = ['-f', family, 'addr', 'add', `${vip.ip}/${vip.prefix}`];
  if (vip.broadcast) add.push('broadcast', vip.broadcast);
  add.push('dev', vip.nic);
  if (vip.label) add.push('label', vip.label);
  if (family === 'inet6' && params.bool('nodad')) add.push('nodad');
  log.info(`adding ${vip.ip}/${vip.prefix} to ${vip.label ?? vip.nic}${vip.broadcast ? ` broadcast ${vip.broadcast}` : ''}`);
  await ipCommand(add);
  if (family === 'inet6' && !params.bool('nodad')) await waitForDad(ctx, vip);

  if (announce) {
    await stopAnnouncer(env, vip.ip);
    const record = await startAnnouncer(env, vip.ip, announcer);
    log.info(`announcing ${vip.ip} on ${vip.nic}: ${params.int('arp_count')} × every ${params.int('arp_interval')} ms (pid ${record.pid})`);
  }
}

async function routesFor(family: 'inet' | 'inet6') {
  return parseIpRouteOutput(await ipList([family === 'inet' ? '-4' : '-6', 'route', 'show']));
}

async function stop(ctx: AgentContext): Promise<void> {
  const spec = parseVipSpec(ctx.params);
  const announcer = await stopAnnouncer(ctx.env, spec.ip);
  if (announcer === 'not-ours') log.warn(`the recorded announcer for ${spec.ip} is no longer ours; left it alone`);
  const held = (await addressesHeld(spec)).filter((a) => !spec.nic || a.ifname === spec.nic);
  for (const address of held) {
    log.info(`removing ${spec.ip}/${address.prefixlen} from ${address.label ?? address.ifname}`);
    await removeAddress(spec.ip, address);
  }
}

async function status(ctx: AgentContext): Promise<StatusResult> {
  const spec = parseVipSpec(ctx.params);
  const held = (await addressesHeld(spec)).filter((a) => !a.dadfailed);
  if (held.length === 0) return { held: false };
  const where = held.map((a) => a.label ?? a.ifname).join(', ');
  return { held: true, detail: `${spec.ip} on ${where}${held.some((a) => a.tentative) ? ', tentative' : ''}` };
}

async function validate(ctx: AgentContext): Promise<void> {
  const spec = parseVipSpec(ctx.params);
  if (ctx.params.int('arp_interval') < 1) throw new InvalidParameterError('arp_interval', `arp_interval ${ctx.params.get('arp_interval')} must be at least 1 (milliseconds)`);
  // A missing nic only matters for start (findif does the same): status says "not here", stop has nothing to do.
  if (ctx.action === 'validate-all' && spec.nic) {
    const link = await run('ip', ['link', 'show', 'dev', spec.nic], { timeoutMs: 5000, allowFailure: true });
    if (link.exitCode !== 0) throw new InvalidParameterError('nic', `no interface named ${spec.nic} on this host`);
  }
}

const agent: AgentDefinition = {
  name: 'IPaddr',
  version: '1.0.0',
  shortdesc: 'Manages a virtual IPv4 or IPv6 address',
  longdesc:
    'Adds a virtual IP address (IPv4 or IPv6) to an interface with ip(8), keeping the alias label nic:N, after checking that no other host ' +
    'answers for it (ARP probe for IPv4, duplicate address detection for IPv6). Neighbours learn the new owner from unsolicited ARP ' +
    '(IPv4, send_arp) or neighbour advertisements (IPv6, send_ua), sent in the background. status reports whether the address is on this ' +
    'node. Missing nic or netmask are found like findif: the longest link-scope route containing the address.',
  params: [
    { name: 'ip', type: 'string', required: true, unique: true, v1: 0, shortdesc: 'IPv4 or IPv6 address', longdesc: 'The virtual IP address, IPv4 dotted quad or IPv6 (any spelling).' },
    { name: 'cidr_netmask', type: 'string', shortdesc: 'Netmask: prefix length, or dotted for IPv4', longdesc: 'Prefix length (24, 64) or, for IPv4, a dotted netmask (255.255.255.0). Default: the prefix of the route that contains the address.' },
    { name: 'nic', type: 'string', shortdesc: 'Interface', longdesc: 'Base interface to add the address to (eth1; "eth1:label" also sets iflabel). Default: the interface of the route that contains the address.' },
    { name: 'iflabel', type: 'string', shortdesc: 'IPv4 alias label after "nic:"', longdesc: 'The label is nic:iflabel (at most 15 characters). Default: the first free nic:N, as ifconfig aliases were numbered.' },
    { name: 'broadcast', type: 'string', shortdesc: 'IPv4 broadcast address', longdesc: 'Broadcast address for IPv4, or "+" / "-" as ip(8) takes them (host bits set / cleared). Default: the base address\'s broadcast, else "+".' },
    { name: 'arp_count', type: 'integer', default: '5', check: nonNegative, shortdesc: 'Unsolicited ARPs / NAs to send', longdesc: 'How many unsolicited ARP (IPv4) or neighbour advertisement (IPv6) announcements to send after adding the address; 0 sends none.' },
    { name: 'arp_interval', type: 'integer', default: '200', check: nonNegative, shortdesc: 'Milliseconds between announcements', longdesc: 'Milliseconds between two announcements. The first goes out at once; the rest continue in the background after start returns.' },
    { name: 'run_arping', type: 'boolean', default: 'true', shortdesc: 'IPv4 duplicate check before adding', longdesc: 'Send ARP probes with arping before adding an IPv4 address and refuse to add it when another host answers: Habets\' arping sends three 10 ms apart (about 30 ms, overlapped with the interface lookup), iputils\' arping two within a second. false skips the check. Left unset on a node without arping, the address is added without the check and a warning logged (stock IPaddr never checks); set to true, a missing arping fails start (not installed).' },
    { name: 'nodad', type: 'boolean', default: 'false', shortdesc: 'IPv6: skip duplicate address detection', longdesc: 'Add an IPv6 address with nodad: no duplicate address detection, no tentative wait.' },
  ],
  v1Synopsis: V1_SYNOPSIS,
  parseV1: parseV1Args,
  timeouts: { start: 20, stop: 20, monitor: 20 },
  lockKey: (params) => {
    const address = parseAddress(params.get('ip'));
    return address ? canonicalAddress(address) : params.get('ip');
  },
  validate,
  start: async (ctx) => start(ctx),
  stop,
  status,
};

export default agent;
