import { readdirSync, readFileSync } from 'node:fs';
import { formatIPv4, parseIPv4, prefixContains } from './address.ts';
import { parseProcIfInet6, type Interface, type InterfaceAddress } from './iproute-json.ts';

// This node's addresses without spawning `ip`, for `ha-agent watch` (a
// sample per second: `ip -j addr show` cost ~13 ms of CPU each time,
// measured here). What /proc gives is less than iproute2's answer: IPv4
// local addresses (/proc/net/fib_trie, "/32 host LOCAL") carry no
// interface, no label and no prefix; each is put on the interface whose
// connected route (/proc/net/route) holds it, with that route's prefix
// (an address no connected route holds, e.g. on lo, gets ifname ''). Enough
// for the watcher's questions (is the VIP here, which NIC to probe on,
// which interface reaches the peer, our own MACs); the agents (IPaddr's
// labels, exact prefixes, secondaries) keep asking `ip`.

/** The local IPv4 addresses of /proc/net/fib_trie: each "|-- ADDR" followed by "/32 host LOCAL". */
export function parseFibTrieLocal(text: string): string[] {
  const found = new Set<string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const leaf = /^\s*\|-- (\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf) {
      current = leaf[1];
      continue;
    }
    if (/^\s*\+--/.test(line) || /^\S/.test(line)) current = undefined;
    else if (current && /^\s*\/32 host LOCAL\s*$/.test(line)) found.add(current);
  }
  return [...found];
}

export interface ConnectedRoute {
  ifname: string;
  network: bigint;
  prefixlen: number;
}

/** /proc/net/route's connected routes (no gateway, flag U): Destination and Mask are hex in host (little-endian) byte order. */
export function parseProcNetRoute(text: string): ConnectedRoute[] {
  const routes: ConnectedRoute[] = [];
  const le = (hex: string) => {
    const n = Number.parseInt(hex, 16);
    return BigInt((((n & 0xff) << 24) | ((n >>> 8) & 0xff) << 16 | ((n >>> 16) & 0xff) << 8 | (n >>> 24)) >>> 0);
  };
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[2] !== '00000000' || !(Number.parseInt(f[3]!, 16) & 1)) continue;
    const mask = le(f[7]!);
    let prefixlen = 0;
    for (let bit = 31n; bit >= 0n && (mask >> bit) & 1n; bit--) prefixlen++;
    routes.push({ ifname: f[0]!, network: le(f[1]!), prefixlen });
  }
  return routes;
}

/** Interfaces as far as /proc tells: IPv4 addresses on their connected route's interface (longest prefix), IPv6 from if_inet6, MACs by name. */
export function interfacesFromProc(fibTrie: string, route: string, ifInet6: string, macs: ReadonlyMap<string, string>): Interface[] {
  const byName = new Map<string, Interface>();
  const iface = (ifname: string) => {
    let i = byName.get(ifname);
    if (!i) byName.set(ifname, (i = { ifname, mac: macs.get(ifname), up: true, addresses: [] }));
    return i;
  };
  const routes = parseProcNetRoute(route).sort((a, b) => b.prefixlen - a.prefixlen);
  for (const local of parseFibTrieLocal(fibTrie)) {
    const value = parseIPv4(local)!;
    const r = routes.find((x) => prefixContains('inet', x.network, x.prefixlen, value));
    const address: InterfaceAddress = { ifname: r?.ifname ?? '', family: 'inet', local: formatIPv4(value), value, prefixlen: r?.prefixlen ?? 32, secondary: false, tentative: false, dadfailed: false };
    iface(address.ifname).addresses.push(address);
  }
  for (const a of parseProcIfInet6(ifInet6)) iface(a.ifname).addresses.push(a);
  for (const [ifname, mac] of macs) if (!byName.has(ifname)) iface(ifname).mac = mac;
  return [...byName.values()];
}

/** Reads this network namespace's /proc files and /sys/class/net/NAME/address. Throws what cannot be read. */
export function readInterfacesFromProc(proc = '/proc', sys = '/sys'): Interface[] {
  const macs = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(`${sys}/class/net`);
  } catch {
    // No sysfs: no MACs (the watcher only uses them to ignore its own).
  }
  for (const name of names) {
    try {
      const mac = readFileSync(`${sys}/class/net/${name}/address`, 'utf8').trim().toLowerCase();
      if (mac && mac !== '00:00:00:00:00:00') macs.set(name, mac);
    } catch {
      // Gone meanwhile.
    }
  }
  let ifInet6 = '';
  try {
    ifInet6 = readFileSync(`${proc}/net/if_inet6`, 'utf8');
  } catch {
    // IPv6 disabled.
  }
  return interfacesFromProc(readFileSync(`${proc}/net/fib_trie`, 'utf8'), readFileSync(`${proc}/net/route`, 'utf8'), ifInet6, macs);
}
