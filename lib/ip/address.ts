// Pure IPv4/IPv6 address and netmask arithmetic. Addresses are compared as
// numbers (bigint), so "fd00::10", "fd00:0:0::10" and the fully expanded
// form are the same address wherever they come from (ip -j, /proc, a user).

export type Family = 'inet' | 'inet6';

export interface ParsedAddress {
  family: Family;
  /** The address as a number: 32 bits (IPv4) or 128 bits (IPv6). */
  value: bigint;
  /** As given. */
  text: string;
}

const IPV4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => IPV4_OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

export function parseIPv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return undefined;
  let groups: string[];
  let tail: bigint | undefined;
  let body = text;
  // An embedded IPv4 tail (::ffff:198.18.0.1) counts for two groups.
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    tail = parseIPv4(body.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string) => (s === '' ? [] : s.split(':'));
  if (halves.length === 2) {
    const head = split(halves[0]!);
    const rest = split(halves[1]!);
    if (head.length + rest.length > 7) return undefined;
    groups = [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  } else {
    groups = split(body);
    if (groups.length !== 8) return undefined;
  }
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
  if (tail !== undefined) value = (value & ~0xffffffffn) | tail;
  return value;
}

export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { family: 'inet', value: v4, text };
  if (!text.includes(':')) return undefined;
  const v6 = parseIPv6(text);
  return v6 === undefined ? undefined : { family: 'inet6', value: v6, text };
}

export const familyBits = (family: Family) => (family === 'inet' ? 32 : 128);

export function prefixMask(family: Family, prefix: number): bigint {
  const bits = BigInt(familyBits(family));
  return prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << (bits - BigInt(prefix));
}

/** Does the network `net/prefix` contain `address`? */
export function prefixContains(family: Family, net: bigint, prefix: number, address: bigint): boolean {
  const mask = prefixMask(family, prefix);
  return (net & mask) === (address & mask);
}

/** 255.255.0.0 → 16; undefined when not a contiguous netmask. */
export function dottedNetmaskToPrefix(text: string): number | undefined {
  const value = parseIPv4(text);
  if (value === undefined) return undefined;
  for (let prefix = 0; prefix <= 32; prefix++) if (prefixMask('inet', prefix) === value) return prefix;
  return undefined;
}

export function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** The classic broadcast: the host part all ones. */
export function ipv4Broadcast(address: bigint, prefix: number): string {
  return formatIPv4(address | (~prefixMask('inet', prefix) & 0xffffffffn));
}

/** /proc/net/if_inet6 spells an address as 32 hex digits. */
export function ipv6FromHex32(hex: string): bigint | undefined {
  return /^[0-9a-fA-F]{32}$/.test(hex) ? BigInt(`0x${hex}`) : undefined;
}

/** fe80::/10 */
export const isIPv6LinkLocal = (value: bigint) => value >> 118n === 0x3fan;

/** Either a prefix length ("24") or, for IPv4, a dotted netmask ("255.255.255.0") → prefix length, or a reason it is not one. */
export function parseNetmask(family: Family, text: string): number | string {
  if (/^\d{1,3}$/.test(text)) {
    const prefix = Number(text);
    const max = familyBits(family);
    if (prefix < 1 || prefix > max) return `is not a prefix length between 1 and ${max}`;
    return prefix;
  }
  if (family === 'inet' && text.includes('.')) {
    if (parseIPv4(text) === undefined) return 'is neither a prefix length nor a dotted netmask';
    const prefix = dottedNetmaskToPrefix(text);
    if (prefix === undefined || prefix === 0) return 'is not a valid netmask (its one-bits must be contiguous, like 255.255.255.0)';
    return prefix;
  }
  return family === 'inet' ? 'is neither a prefix length (1-32) nor a dotted netmask' : 'is not a prefix length between 1 and 128';
}

/** RFC 5952 text: lower case, longest run of zero groups (two or more) as "::". */
export function formatIPv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** One spelling per address, for state files, locks and messages. */
export function canonicalAddress(address: ParsedAddress): string {
  return address.family === 'inet' ? formatIPv4(address.value) : formatIPv6(address.value);
}
