import { parseAddress } from './address.ts';
import { type Interface, type InterfaceAddress, type Route, parseIpAddrJson, parseIpRouteJson } from './iproute-json.ts';

// Parsers over iproute2's text output, for `ip` without JSON: before 4.14
// (CentOS 7's 3.10 and 4.11, Debian 9's 4.9) `ip -j` is refused; from 4.14
// to 4.16 (Ubuntu 18.04's 4.15) `ip -j route` and `ip -j neigh` answer in
// text, as JSON came to those objects only in 4.17. The text has been the
// same since 3.10 for what we read (fixtures per version in
// test/fixtures/ip/iproute2-*). Pure functions; each `parse*Output` takes
// whatever ip answered and reads JSON when it is JSON, text otherwise.

const isJson = (text: string) => text.trimStart().startsWith('[');

function parseAddressLine(ifname: string, line: string): InterfaceAddress | undefined {
  const words = line.trim().split(/\s+/);
  const family = words[0];
  if (family !== 'inet' && family !== 'inet6') return undefined;
  // "inet 198.18.0.1/24 ..." or a point-to-point "inet 198.18.0.1 peer 198.18.0.2/32 ...".
  let [local, length] = (words[1] ?? '').split('/');
  const peer = words.indexOf('peer');
  if (length === undefined && peer > 0) length = words[peer + 1]?.split('/')[1];
  const parsed = parseAddress(local ?? '');
  if (!parsed || parsed.family !== family || length === undefined || !/^\d+$/.test(length)) return undefined;
  const after = (key: string) => {
    const i = words.indexOf(key, 2);
    return i > 0 ? words[i + 1] : undefined;
  };
  const last = words[words.length - 1]!;
  // IPv4 lines end with the label (IFA_LABEL, "eth1" or "eth1:0", always
  // starting with the interface's name), as JSON's "label".
  const label = family === 'inet' && words.length > 2 && last.startsWith(ifname) ? last : undefined;
  return {
    ifname,
    family,
    local: local!,
    value: parsed.value,
    prefixlen: Number(length),
    label,
    broadcast: after('brd'),
    secondary: words.includes('secondary') || words.includes('temporary'),
    tentative: words.includes('tentative'),
    dadfailed: words.includes('dadfailed'),
  };
}

/**
 * `ip addr show [...]` as text: a "N: name[@peer]: <FLAGS> ..." header per
 * interface, then "link/ether MAC" and "inet(6) ..." lines. `ip -o addr`
 * lines ("N: name    inet ...\   valid_lft ...") are read as well, though
 * they omit interfaces without addresses, hence the plain form is asked for.
 */
export function parseIpAddrText(text: string): Interface[] {
  const byName = new Map<string, Interface>();
  const named = (ifname: string) => {
    let found = byName.get(ifname);
    if (!found) byName.set(ifname, (found = { ifname, up: false, addresses: [] }));
    return found;
  };
  let current: Interface | undefined;
  for (const line of text.split('\n')) {
    const [first, ...continued] = line.split('\\');
    const header = /^\d+:\s+([^\s:@]+)(?:@[^\s:]*)?:?\s+(.*)$/.exec(first!);
    const parts = header ? continued : [first!];
    if (header) {
      current = named(header[1]!);
      const rest = header[2]!;
      const flags = /^<([^>]*)>/.exec(rest);
      if (flags) current.up = flags[1]!.split(',').includes('UP');
      else parts.unshift(rest);
    }
    if (!current) continue;
    for (const part of parts) {
      const trimmed = part.trim();
      const link = /^link\/(\S+)\s+([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i.exec(trimmed);
      if (link) {
        // As parseIpAddrJson: any six-byte link address (loopback's zeros included).
        current.mac = link[2]!.toLowerCase();
        continue;
      }
      const address = parseAddressLine(current.ifname, trimmed);
      if (address) current.addresses.push(address);
    }
  }
  return [...byName.values()];
}

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'throw', 'unreachable', 'prohibit', 'blackhole', 'nat', 'anycast']);
const ROUTE_KEYS: Record<string, keyof Route | undefined> = { dev: 'dev', scope: 'scope', table: 'table', src: 'prefsrc', proto: undefined, metric: undefined, pref: undefined, mtu: undefined, expires: undefined, uid: undefined, error: undefined };

/**
 * `ip route show` / `ip -o route show` as text: one route per line,
 * "[type] dst [via [inet6] gw] [dev X] [proto P] [scope S] [src A] ...";
 * a multipath route's "nexthop via ..." lines (indented) make it a gateway route.
 */
export function parseIpRouteText(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (/^\s/.test(line)) {
      const previous = routes[routes.length - 1];
      const via = /\bvia (?:inet6? )?(\S+)/.exec(line);
      if (previous && via) previous.gateway ??= via[1];
      continue;
    }
    const words = line.replace(/\\/g, ' ').trim().split(/\s+/);
    const route: Route = { dst: '' };
    let i = 0;
    if (ROUTE_TYPES.has(words[0]!)) route.type = words[i++];
    route.dst = words[i++] ?? '';
    while (i < words.length) {
      const word = words[i++]!;
      if (word === 'via') {
        if (words[i] === 'inet' || words[i] === 'inet6') i++;
        route.gateway = words[i++];
      } else if (word === 'nexthop') {
        continue;
      } else if (word in ROUTE_KEYS) {
        const key = ROUTE_KEYS[word];
        const value = words[i++];
        if (key && value !== undefined) (route as unknown as Record<string, string>)[key] = value;
      }
    }
    if (route.dst) routes.push(route);
  }
  return routes;
}

/** `ip neigh show X dev Y` as text: "ADDR [dev D] lladdr MAC [router] STATE" → lladdr of a usable entry. */
export function parseNeighText(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const i = words.indexOf('lladdr');
    if (i < 0 || !words[i + 1]) continue;
    if (words.includes('FAILED') || words.includes('INCOMPLETE')) continue;
    return words[i + 1]!.toLowerCase();
  }
  return undefined;
}

/** `ip [-j] addr show [...]`: JSON or text, whichever ip answered. */
export const parseIpAddrOutput = (text: string): Interface[] => (isJson(text) ? parseIpAddrJson(text) : parseIpAddrText(text));

/** `ip [-j] route show [...]`: JSON or text (ip 4.14 to 4.16 answer `-j route` in text). */
export const parseIpRouteOutput = (text: string): Route[] => (isJson(text) ? parseIpRouteJson(text) : parseIpRouteText(text));
