import { runUntilAnswered } from '../system/exec.ts';
import { ipList } from './iproute.ts';
import { parseNeighText } from './iproute-text.ts';
import { pollUntil } from '../system/wait.ts';

// Is somebody else already using the address? IPv4: an RFC 5227 style ARP
// probe (sender 0.0.0.0, so nobody's cache learns a half-taken address),
// with Habets arping, the `arping` Debian ships. IPv6: the kernel's own DAD
// decides; when it fails we only ask the neighbour table who it was.

/** arping's normal output: "42 bytes from MAC (IP): index=0 time=..." per reply. */
export function parseArpingReplies(stdout: string): string[] {
  const macs = [...stdout.matchAll(/bytes from ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) /gi)].map((m) => m[1]!.toLowerCase());
  return [...new Set(macs)];
}

/** arping prints its statistics once every probe is sent and waited for: the answer is complete. */
export const arpingFinished = (stdout: string) => /\d+ packets transmitted, \d+ packets received/.test(stdout);

export interface ArpProbeOptions {
  count: number;
  intervalMs: number;
}

/**
 * The default reply window: three probes (RFC 5227's PROBE_NUM) 10 ms apart,
 * about 30 ms. Measured here (veth, under load average 4.5): a holder's
 * kernel answers an ARP probe in 5 µs median, 43 µs at most over 200 probes;
 * a switched LAN adds well under a millisecond. 10 ms per probe leaves a
 * margin of over 200 on the worst reply seen, and three probes cover two
 * lost frames. (It was 2 × 50 ms, a guess.)
 */
export const ARP_PROBE_DEFAULT: ArpProbeOptions = { count: 3, intervalMs: 10 };

/**
 * Up to count × interval ms after arping's own set-up. Returns the MACs that
 * answered for `ip` on `nic` (none: free). The answer is arping's statistics
 * line; arping then spends 30–45 ms in the kernel closing its packet socket,
 * which nobody needs to wait for. arping that prints no statistics failed
 * (no such interface, no permission): that is an error, never "free".
 * `signal` abandons the probe: arping is ended and waited for.
 */
export async function arpProbe(nic: string, ip: string, { count, intervalMs }: ArpProbeOptions = ARP_PROBE_DEFAULT, signal?: AbortSignal): Promise<string[]> {
  const seconds = (intervalMs / 1000).toFixed(3);
  const result = await runUntilAnswered('arping', ['-0', '-i', nic, '-c', String(count), '-W', seconds, '-w', String(Math.ceil((count * intervalMs) / 1000) + 1), ip], arpingFinished, {
    timeoutMs: count * intervalMs + 3000,
    signal,
  });
  if (!arpingFinished(result.stdout)) {
    const why = (result.stderr.trim().split('\n').pop() ?? '') || `exit ${result.exitCode}`;
    throw new Error(`arping -0 -i ${nic} ${ip} failed: ${why}`);
  }
  return parseArpingReplies(result.stdout);
}

/** `ip [-j] neigh show X dev Y` → lladdr of a usable entry (text from ip before 4.17). */
export function parseNeighLladdr(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (!trimmed.startsWith('[')) return parseNeighText(trimmed);
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
  const lookup = async () => parseNeighLladdr(await ipList(['-6', 'neigh', 'show', ip, 'dev', nic], { allowFailure: true, timeoutMs: 2000 }));
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
