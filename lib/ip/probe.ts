import { run } from '../exec.ts';
import { pollUntil } from '../wait.ts';

// Is somebody else already using the address? IPv4: an RFC 5227 style ARP
// probe (sender 0.0.0.0, so nobody's cache learns a half-taken address),
// with Habets arping, the `arping` Debian ships. IPv6: the kernel's own DAD
// decides; when it fails we only ask the neighbour table who it was.

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/** `arping -r` prints one MAC per reply, one per line. */
export function parseArpingRawReplies(stdout: string): string[] {
  return [...new Set(stdout.split('\n').map((l) => l.trim().toLowerCase()).filter((l) => MAC.test(l)))];
}

export interface ArpProbeOptions {
  count: number;
  intervalMs: number;
}

/**
 * Up to count × interval ms. Returns the MACs that answered for `ip` on `nic` (none: free).
 * The default, two probes 50 ms apart, sits on every takeover's path: a holder
 * on the same segment answers in well under a millisecond, and the second
 * probe covers one lost frame. (Measured: 0.1 s against 0.2 s for 100 ms.)
 */
export async function arpProbe(nic: string, ip: string, { count, intervalMs }: ArpProbeOptions = { count: 2, intervalMs: 50 }): Promise<string[]> {
  const seconds = (intervalMs / 1000).toFixed(3);
  const result = await run('arping', ['-0', '-r', '-i', nic, '-c', String(count), '-W', seconds, '-w', String(Math.ceil((count * intervalMs) / 1000) + 1), ip], {
    allowFailure: true,
    timeoutMs: count * intervalMs + 3000,
  });
  // Habets arping: 0 = replies, 1 = no reply; anything else is its own failure.
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    const why = (result.stderr.trim().split('\n').pop() ?? '') || `exit ${result.exitCode}`;
    throw new Error(`arping -0 -i ${nic} ${ip} failed: ${why}`);
  }
  return parseArpingRawReplies(result.stdout);
}

/** `ip -j neigh show X dev Y` → lladdr of a usable entry. */
export function parseNeighLladdr(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const entries = JSON.parse(trimmed) as { lladdr?: string; state?: string[] }[];
  const found = entries.find((e) => e.lladdr && !(e.state ?? []).includes('FAILED') && !(e.state ?? []).includes('INCOMPLETE'));
  return found?.lladdr?.toLowerCase();
}

/**
 * After a failed DAD, find out who holds `ip`: one UDP datagram to the
 * discard port makes the kernel solicit the neighbour; its answer lands in
 * the neighbour table. Best effort within `timeoutMs`.
 */
export async function resolveNeighbourMac(nic: string, ip: string, timeoutMs: number): Promise<string | undefined> {
  const lookup = async () => parseNeighLladdr((await run('ip', ['-j', '-6', 'neigh', 'show', ip, 'dev', nic], { allowFailure: true, timeoutMs: 2000 })).stdout);
  const known = await lookup();
  if (known) return known;
  try {
    const { createSocket } = await import('node:dgram');
    const socket = createSocket('udp6');
    await new Promise<void>((resolve) => socket.send(Buffer.alloc(1), 9, ip, () => resolve()));
    socket.close();
  } catch {
    return undefined;
  }
  return pollUntil(lookup, { intervalMs: 20, timeoutMs });
}
