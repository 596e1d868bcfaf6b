import { type Family, familyBits, ipv6FromHex32, parseAddress, prefixContains } from './address.ts';

// Parsers over iproute2's JSON output (`ip -j addr`, `ip -j route`) and
// /proc/net/if_inet6. Pure functions: the agent runs the commands.

export interface InterfaceAddress {
  ifname: string;
  family: Family;
  local: string;
  value: bigint;
  prefixlen: number;
  /** IPv4 only: "eth1:0"; IPv6 addresses carry none. */
  label?: string;
  broadcast?: string;
  secondary: boolean;
  tentative: boolean;
  dadfailed: boolean;
}

export interface Interface {
  ifname: string;
  mac?: string;
  up: boolean;
  addresses: InterfaceAddress[];
}

interface RawAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  label?: string;
  broadcast?: string;
  secondary?: boolean;
  tentative?: boolean;
  dadfailed?: boolean;
}

interface RawLink {
  ifname?: string;
  address?: string;
  link_type?: string;
  flags?: string[];
  addr_info?: RawAddrInfo[];
}

/** `ip -j addr show [...]`. Filtered listings (`to X`) leave `{}` placeholders in addr_info: skipped. */
export function parseIpAddrJson(text: string): Interface[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const links = JSON.parse(trimmed) as RawLink[];
  return links
    .filter((link) => typeof link.ifname === 'string')
    .map((link) => ({
      ifname: link.ifname!,
      mac: link.link_type === 'ether' || (link.address && link.address.length === 17) ? link.address : undefined,
      up: (link.flags ?? []).includes('UP'),
      addresses: (link.addr_info ?? []).flatMap((info): InterfaceAddress[] => {
        if ((info.family !== 'inet' && info.family !== 'inet6') || !info.local || info.prefixlen === undefined) return [];
        const parsed = parseAddress(info.local);
        if (!parsed) return [];
        return [{
          ifname: link.ifname!,
          family: info.family,
          local: info.local,
          value: parsed.value,
          prefixlen: info.prefixlen,
          label: info.label,
          broadcast: info.broadcast,
          secondary: info.secondary === true,
          tentative: info.tentative === true,
          dadfailed: info.dadfailed === true,
        }];
      }),
    }));
}

// include/uapi/linux/if_addr.h
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;

/**
 * /proc/net/if_inet6: "fd000000000000000000000000000010 02 40 00 80     eth1"
 * (address, ifindex, prefix length, scope, flags, name; all hex but the name).
 * Read without spawning anything, which keeps an IPv6 `status` cheap.
 */
export function parseProcIfInet6(text: string): InterfaceAddress[] {
  const result: InterfaceAddress[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const value = ipv6FromHex32(fields[0]!);
    if (value === undefined) continue;
    const flags = Number.parseInt(fields[4]!, 16);
    result.push({
      ifname: fields[5]!,
      family: 'inet6',
      local: fields[0]!.replace(/(.{4})(?!$)/g, '$1:'),
      value,
      prefixlen: Number.parseInt(fields[2]!, 16),
      secondary: false,
      tentative: (flags & IFA_F_TENTATIVE) !== 0,
      dadfailed: (flags & IFA_F_DADFAILED) !== 0,
    });
  }
  return result;
}

export interface Route {
  /** "default", "198.18.0.0/24", or a host route without a length ("fd00::5"). */
  dst: string;
  dev?: string;
  gateway?: string;
  scope?: string;
  type?: string;
  table?: string;
  prefsrc?: string;
}

export function parseIpRouteJson(text: string): Route[] {
  const trimmed = text.trim();
  return trimmed ? (JSON.parse(trimmed) as Route[]) : [];
}

export interface FoundInterface {
  nic: string;
  prefix: number;
  /** The route's preferred source: the base address whose broadcast findif borrows. */
  prefsrc?: string;
}

/**
 * What the stock findif does: among the routes of the main table that
 * contain ip/netmask (all of it, when a netmask is given), scope link for
 * IPv4, on `nic` when one is given, take the longest prefix. Unlike
 * findif.sh, IPv6 routes via a gateway are skipped too (findif.sh would
 * put the VIP on the gateway's interface with the remote prefix). `default` and
 * other prefix-less routes never match (findif's awk wants a "/"), except
 * IPv6 host routes, which are /128.
 */
export function findInterfaceForAddress(
  routes: readonly Route[],
  family: Family,
  address: bigint,
  options: { nic?: string; prefix?: number } = {},
): FoundInterface | undefined {
  let best: FoundInterface | undefined;
  for (const route of routes) {
    if (route.type && route.type !== 'unicast') continue;
    if (route.table && route.table !== 'main') continue;
    // On-link routes only: a VIP belongs on the wire its network is attached to, not behind a gateway.
    if (!route.dev || route.gateway) continue;
    if (family === 'inet' && route.scope !== 'link') continue;
    if (options.nic && route.dev !== options.nic) continue;
    const [netText, lengthText] = route.dst.split('/');
    if (lengthText === undefined && family === 'inet') continue;
    const net = parseAddress(netText ?? '');
    if (!net || net.family !== family) continue;
    const routePrefix = lengthText === undefined ? familyBits(family) : Number(lengthText);
    // `ip route list match ip/netmask`: the route must contain the whole given network.
    if (options.prefix !== undefined && routePrefix > options.prefix) continue;
    if (!prefixContains(family, net.value, routePrefix, address)) continue;
    if (!best || routePrefix >= best.prefix) best = { nic: route.dev, prefix: routePrefix, prefsrc: route.prefsrc };
  }
  return best;
}

/** The addresses equal to `value` (on `nic`, when given). */
export function findAddress(interfaces: readonly Interface[] | readonly InterfaceAddress[], family: Family, value: bigint, nic?: string): InterfaceAddress[] {
  const addresses: InterfaceAddress[] = (interfaces as readonly (Interface | InterfaceAddress)[]).flatMap((i) => ('addresses' in i ? i.addresses : [i]));
  return addresses.filter((a) => a.family === family && a.value === value && (!nic || a.ifname === nic));
}

/** First free alias label "nic:N" on that interface, like the old ifconfig-based IPaddr chose. */
export function freeAliasLabel(interfaces: readonly Interface[], nic: string): string {
  const used = new Set(interfaces.flatMap((i) => i.addresses).map((a) => a.label).filter((l): l is string => !!l));
  for (let n = 0; ; n++) if (!used.has(`${nic}:${n}`)) return `${nic}:${n}`;
}
