import { UsageError } from '../contract/errors.ts';
import { parseIPv6 } from './address.ts';

// Heartbeat v1 IPaddr argument: ip[/bits-or-dotted-netmask[/nic[:label]][/broadcast]]
// as the stock wrapper (/etc/ha.d/resource.d/IPaddr) splits it: a third
// field that starts with a digit is the broadcast, not a nic.

export const V1_SYNOPSIS = 'ip[/bits-or-dotted-netmask[/nic[:label]][/broadcast]]';

export interface V1Spec {
  ip: string;
  cidr_netmask?: string;
  nic?: string;
  iflabel?: string;
  broadcast?: string;
}

/**
 * ResourceManager turns every "::" of a haresources entry into an argument
 * break, so `IPaddr::fd00::10/64/eth1` arrives as ["fd00", "10/64/eth1"].
 * Rejoin two pieces when the result starts with a valid IPv6 address.
 */
export function rejoinIPv6Pieces(args: readonly string[]): string | undefined {
  if (args.length !== 2) return undefined;
  const [head, tail] = args as [string, string];
  if (!/^[0-9a-fA-F:]*$/.test(head)) return undefined;
  const joined = `${head}::${tail}`;
  const address = joined.split('/')[0]!;
  return parseIPv6(address) === undefined ? undefined : joined;
}

/** Splits one v1 argument into OCF-named parameters; values are checked later. */
export function splitV1Spec(spec: string): V1Spec {
  const fields = spec.split('/');
  if (fields.length > 4) throw new UsageError(`too many "/" fields in ${JSON.stringify(spec)}; expected ${V1_SYNOPSIS}`);
  const [ip, netmask, third, fourth] = fields as [string, string?, string?, string?];
  const result: V1Spec = { ip };
  if (netmask) result.cidr_netmask = netmask;
  if (third !== undefined && third !== '') {
    if (/^\d/.test(third)) {
      if (fourth !== undefined) throw new UsageError(`${JSON.stringify(third)} (a broadcast) must be the last field of ${JSON.stringify(spec)}; expected ${V1_SYNOPSIS}`);
      result.broadcast = third;
    } else {
      const colon = third.indexOf(':');
      result.nic = colon < 0 ? third : third.slice(0, colon);
      if (colon >= 0) result.iflabel = third.slice(colon + 1);
    }
  }
  if (fourth) result.broadcast = fourth;
  return result;
}

/** parseV1 for the agent: the positional arguments before the action. */
export function parseV1Args(args: readonly string[]): Record<string, string> {
  if (args.length === 0) throw new UsageError(`no IP address given; usage: IPaddr ${V1_SYNOPSIS} {start|stop|status}`);
  let spec = args[0]!;
  if (args.length > 1) {
    const joined = rejoinIPv6Pieces(args);
    if (joined === undefined) {
      throw new UsageError(`expected one argument ${V1_SYNOPSIS} before the action, got ${args.length}: ${args.map((a) => JSON.stringify(a)).join(' ')}`);
    }
    spec = joined;
  }
  const split = splitV1Spec(spec);
  return Object.fromEntries(Object.entries(split).filter(([, v]) => v !== undefined)) as Record<string, string>;
}
