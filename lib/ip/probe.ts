import { runUntilAnswered } from '../system/exec.ts';
import { ipList } from './iproute.ts';
import { parseNeighText } from './iproute-text.ts';
import { log } from '../system/log.ts';
import { recallDialect, rememberDialect, toolIdentity } from '../system/tool-memory.ts';
import { pollUntil } from '../system/wait.ts';

// Is somebody else already using the address? IPv4: an RFC 5227 style ARP
// probe (sender 0.0.0.0, so nobody's cache learns a half-taken address)
// with arping, which comes in two dialects: Thomas Habets' (Debian's and
// Ubuntu's `arping` package) and iputils' (RHEL/CentOS, Debian's
// `iputils-arping`). Habets' flags are tried first; iputils' arping refuses
// them (getopt: "invalid option -- '0'", then its usage), which is learnt
// once per binary and remembered (lib/system/tool-memory.ts), so later
// probes use iputils' flags at once. IPv6: the kernel's own DAD decides;
// when it fails we only ask the neighbour table who it was.

export type ArpingDialect = 'habets' | 'iputils';

/** Habets arping's normal output: "42 bytes from MAC (IP): index=0 time=..." per reply. */
export function parseArpingReplies(stdout: string): string[] {
  const macs = [...stdout.matchAll(/bytes from ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) /gi)].map((m) => m[1]!.toLowerCase());
  return [...new Set(macs)];
}

/** Habets arping prints its statistics once every probe is sent and waited for: the answer is complete. */
export const arpingFinished = (stdout: string) => /\d+ packets transmitted, \d+ packets received/.test(stdout);

/** iputils arping -D: "Unicast reply from IP [MAC]  0.541ms" per reply. */
export function parseIputilsReplies(stdout: string): string[] {
  const macs = [...stdout.matchAll(/reply from \S+ \[([0-9a-f]{2}(?::[0-9a-f]{2}){5})\]/gi)].map((m) => m[1]!.toLowerCase());
  return [...new Set(macs)];
}

/** iputils arping ends with "Sent N probes (...)" and "Received N response(s)": the answer is complete. */
export const iputilsFinished = (stdout: string) => /^Received \d+ response/m.test(stdout);

/** iputils' arping answering Habets' flags: getopt's complaint about -0 (exit 2), or its usage. */
export const IPUTILS_REFUSAL = /invalid option -- '?0'?|duplicate address detection mode/;

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

interface Dialect {
  argv(nic: string, ip: string, options: ArpProbeOptions): string[];
  /** A long-lived arping (lib/ip/arp-watch.ts) sending `count` probes every `intervalMs` and printing each reply as it comes. */
  streamArgv(nic: string, ip: string, count: number, intervalMs: number): string[];
  /** The probe interval that dialect really keeps when asked for `intervalMs`. */
  streamIntervalMs(intervalMs: number): number;
  finished(stdout: string): boolean;
  replies(stdout: string): string[];
  timeoutMs(options: ArpProbeOptions): number;
}

export const ARPING_DIALECTS: Record<ArpingDialect, Dialect> = {
  habets: {
    argv: (nic, ip, { count, intervalMs }) => ['-0', '-i', nic, '-c', String(count), '-W', (intervalMs / 1000).toFixed(3), '-w', String(Math.ceil((count * intervalMs) / 1000) + 1), ip],
    streamArgv: (nic, ip, count, intervalMs) => ['-0', '-i', nic, '-c', String(count), '-W', (intervalMs / 1000).toFixed(3), ip],
    streamIntervalMs: (intervalMs) => intervalMs,
    finished: arpingFinished,
    replies: parseArpingReplies,
    timeoutMs: ({ count, intervalMs }) => count * intervalMs + 3000,
  },
  // Only flags every iputils has (CentOS 7's 20160308 too): -D (sender
  // 0.0.0.0, quits at the first reply), -I, -c, and -w in whole seconds; no
  // interval flag, so probes go out about a second apart. Two probes within
  // a one-second deadline: measured here 1.05 s for a free address, 25 ms
  // for a taken one (stock IPaddr2 runs -c 2 -w 3).
  iputils: {
    argv: (nic, ip) => ['-D', '-I', nic, '-c', '2', '-w', '1', ip],
    // Streaming cannot use -D (it quits at the first reply). Instead: -s
    // 0.0.0.0 keeps the sender 0.0.0.0 (a probe, as -D would; measured with
    // Debian 12's 20221126), -b keeps every probe a broadcast (by default it
    // turns unicast to the first MAC that answered, and a second holder
    // would go unseen). Each reply line is flushed as it comes (measured).
    // No -i (not in CentOS 7's iputils): one probe a second, whatever was
    // asked. Unproven here: CentOS 7's 20160308 cannot tell -s 0.0.0.0 from
    // no -s and takes the sender from the routing table (this node's own
    // address on that NIC, or the VIP held here): a request announcing what
    // is already true.
    streamArgv: (nic, ip, count) => ['-b', '-s', '0.0.0.0', '-I', nic, '-c', String(count), ip],
    streamIntervalMs: () => 1000,
    finished: iputilsFinished,
    replies: parseIputilsReplies,
    timeoutMs: () => 4000,
  },
};

const MEMORY_KEY = 'arping-dialect';

/** The arping dialect learnt (and remembered) for the arping on PATH: Habets' unless iputils' was learnt from this very binary. */
export function knownArpingDialect(env: NodeJS.ProcessEnv = process.env): ArpingDialect {
  return recallDialect(env, MEMORY_KEY, toolIdentity('arping', env)) === 'iputils' ? 'iputils' : 'habets';
}

/**
 * Did arping, run with Habets' flags, answer as iputils' arping does? If so
 * it is remembered for the arping on PATH (true: use iputils' flags now).
 */
export function learnIputils(stdout: string, stderr: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (arpingFinished(stdout) || !IPUTILS_REFUSAL.test(stderr)) return false;
  log.debug('arping is iputils\' (it refused -0): using its flags from now on');
  rememberDialect(env, MEMORY_KEY, toolIdentity('arping', env), 'iputils');
  return true;
}

/**
 * Returns the MACs that answered for `ip` on `nic` (none: free). The answer
 * is arping's closing lines; arping then spends 30–45 ms in the kernel
 * closing its packet socket, which nobody needs to wait for. arping that
 * prints no closing lines failed (no such interface, no permission): that
 * is an error, never "free". `signal` abandons the probe: arping is ended
 * and waited for. Habets: up to count × interval ms after its set-up;
 * iputils: about a second when nobody answers.
 */
export async function arpProbe(nic: string, ip: string, options: ArpProbeOptions = ARP_PROBE_DEFAULT, signal?: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  let dialect = knownArpingDialect(env);
  const attempt = (d: ArpingDialect) => runUntilAnswered('arping', ARPING_DIALECTS[d].argv(nic, ip, options), ARPING_DIALECTS[d].finished, { timeoutMs: ARPING_DIALECTS[d].timeoutMs(options), signal });
  let result = await attempt(dialect);
  if (dialect === 'habets' && !signal?.aborted && learnIputils(result.stdout, result.stderr, env)) {
    dialect = 'iputils';
    result = await attempt(dialect);
  }
  const { argv, finished, replies } = ARPING_DIALECTS[dialect];
  if (!finished(result.stdout)) {
    const why = (result.stderr.trim().split('\n').filter((l) => l.trim()).pop() ?? '') || `exit ${result.exitCode}`;
    throw new Error(`arping ${argv(nic, ip, options).join(' ')} failed: ${why}`);
  }
  return replies(result.stdout);
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
