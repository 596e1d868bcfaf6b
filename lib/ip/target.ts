import type { Params } from '../contract/agent.ts';
import { GenericError, InvalidParameterError } from '../contract/errors.ts';
import { describeShellMetacharacter } from '../contract/params.ts';
import { type Family, type ParsedAddress, canonicalAddress, isIPv6LinkLocal, parseAddress, parseIPv4, parseNetmask } from './address.ts';
import { type Interface, type Route, findInterfaceForAddress } from './iproute-json.ts';

// From the agent's parameters to exactly what `ip addr add` gets: the
// checks that need no system (syntax, ranges, lengths) and the findif-like
// lookup of a missing nic / netmask.

/** IFNAMSIZ - 1: the kernel's limit for interface names and IPv4 labels. */
export const MAX_IFNAME = 15;

export interface VipSpec {
  address: ParsedAddress;
  /** Canonical text for messages and state files. */
  ip: string;
  prefix?: number;
  nic?: string;
  /** The part after "nic:". */
  iflabel?: string;
  /** IPv4: an address, or "+" / "-" as ip(8) takes them (host bits set / cleared). */
  broadcast?: string;
}

const IFNAME = /^[A-Za-z0-9_.@-]+$/;

/** nic "eth1:web" is the stock IPaddr2 shorthand for nic eth1, iflabel web. */
export function parseVipSpec(params: Params): VipSpec {
  const ipText = params.get('ip');
  const address = parseAddress(ipText);
  if (!address) throw new InvalidParameterError('ip', `ip ${JSON.stringify(ipText)} is not a valid IPv4 or IPv6 address`);
  const spec: VipSpec = { address, ip: canonicalAddress(address) };
  const family: Family = address.family;
  if (params.has('cidr_netmask')) {
    const text = params.get('cidr_netmask');
    const prefix = parseNetmask(family, text);
    if (typeof prefix === 'string') throw new InvalidParameterError('cidr_netmask', `netmask ${JSON.stringify(text)} ${prefix}`);
    spec.prefix = prefix;
  }
  let nic = params.get('nic');
  let iflabel = params.get('iflabel');
  if (nic.includes(':')) {
    const colon = nic.indexOf(':');
    if (!iflabel) iflabel = nic.slice(colon + 1);
    nic = nic.slice(0, colon);
  }
  if (nic) {
    if (nic.length > MAX_IFNAME || !IFNAME.test(nic)) throw new InvalidParameterError('nic', `nic ${JSON.stringify(nic)} is not a valid interface name (up to ${MAX_IFNAME} of A-Z a-z 0-9 _ . @ -)`);
    spec.nic = nic;
  }
  if (iflabel) {
    const meta = describeShellMetacharacter(iflabel);
    if (meta || /[\s/:]/.test(iflabel)) throw new InvalidParameterError('iflabel', `label ${JSON.stringify(iflabel)} ${meta ?? 'contains a space, "/" or ":"'}`);
    if (family === 'inet6') throw new InvalidParameterError('iflabel', `label ${JSON.stringify(iflabel)}: IPv6 addresses carry no labels`);
    const full = `${nic || 'nic'}:${iflabel}`;
    if (nic && full.length > MAX_IFNAME) throw new InvalidParameterError('iflabel', `label ${JSON.stringify(full)} is longer than ${MAX_IFNAME} characters`);
    spec.iflabel = iflabel;
  }
  if (params.has('broadcast')) {
    const broadcast = params.get('broadcast');
    if (family === 'inet6') throw new InvalidParameterError('broadcast', `broadcast ${JSON.stringify(broadcast)}: IPv6 has no broadcast`);
    if (broadcast !== '+' && broadcast !== '-' && parseIPv4(broadcast) === undefined) {
      throw new InvalidParameterError('broadcast', `broadcast ${JSON.stringify(broadcast)} is not an IPv4 address (or + / -)`);
    }
    spec.broadcast = broadcast;
  }
  if (family === 'inet6' && !spec.nic && isIPv6LinkLocal(address.value)) {
    throw new InvalidParameterError('nic', `nic is required for the link-local address ${ipText}`);
  }
  return spec;
}

export interface ResolvedVip {
  family: Family;
  ip: string;
  nic: string;
  prefix: number;
  /** IPv4 label "nic:N" / "nic:iflabel"; undefined for IPv6. */
  label?: string;
  /** IPv4 broadcast for `ip addr add ... broadcast`; undefined for IPv6. */
  broadcast?: string;
}

/**
 * Fills in nic and prefix like findif: a given nic must exist; the longest
 * link-scope route containing the address (and the whole given network)
 * supplies what is missing; the base address's broadcast is reused when the
 * prefix came from its route.
 */
export function resolveVip(spec: VipSpec, interfaces: readonly Interface[], routes: readonly Route[], label: (nic: string) => string): ResolvedVip {
  const family = spec.address.family;
  if (spec.nic && !interfaces.some((i) => i.ifname === spec.nic)) {
    throw new InvalidParameterError('nic', `no interface named ${spec.nic} on this host`);
  }
  let nic = spec.nic;
  let prefix = spec.prefix;
  let broadcast = spec.broadcast;
  if (!nic || prefix === undefined) {
    const found = findInterfaceForAddress(routes, family, spec.address.value, { nic, prefix });
    if (!found) {
      const where = nic ? ` on ${nic}` : '';
      throw new GenericError(`no interface${where} has a route to ${spec.ip}${prefix !== undefined ? `/${prefix}` : ''}; give nic and cidr_netmask, or add a base address in that network`);
    }
    nic ??= found.nic;
    if (prefix === undefined) {
      prefix = found.prefix;
      if (family === 'inet' && broadcast === undefined && found.prefsrc) {
        const base = interfaces.flatMap((i) => i.addresses).find((a) => a.family === 'inet' && a.local === found.prefsrc && a.prefixlen === prefix);
        broadcast = base?.broadcast;
      }
    }
  }
  if (family === 'inet6') return { family, ip: spec.ip, nic, prefix };
  const fullLabel = spec.iflabel ? `${nic}:${spec.iflabel}` : label(nic);
  if (fullLabel.length > MAX_IFNAME) throw new InvalidParameterError('iflabel', `label ${JSON.stringify(fullLabel)} is longer than ${MAX_IFNAME} characters`);
  // Without a broadcast of their own, let ip compute the classic one ("+"), as ifconfig did; /31 and /32 have none.
  return { family, ip: spec.ip, nic, prefix, label: fullLabel, broadcast: broadcast ?? (prefix >= 31 ? undefined : '+') };
}
