import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { startDetached } from '../system/exec.ts';
import { lockDirectory } from '../system/lock.ts';
import { isAlive } from '../system/terminate.ts';
import { pollUntil } from '../system/wait.ts';

// The background announcer: resource-agents' send_arp (IPv4) or send_ua
// (IPv6) repeating unsolicited ARP / NA `count` times every `interval` ms,
// detached so that start returns at once. Its PID and exact argv go to a
// state file; stop kills it only when /proc/<pid>/cmdline still shows that
// argv, so a recycled PID is never hit.

export interface AnnouncerRecord {
  pid: number;
  argv: string[];
}

const safeName = (ip: string) => ip.replace(/[^0-9A-Za-z.]/g, '_');

export function announcerStatePath(env: NodeJS.ProcessEnv, ip: string): string {
  return `${lockDirectory(env)}/IPaddr.${safeName(ip)}.announcer`;
}

/**
 * resource-agents' helper directory, as stock IPaddr finds send_arp
 * ($HA_BIN/send_arp): heartbeat's shellfuncs export HA_BIN to every agent
 * ResourceManager runs. Run by hand, without it: /usr/libexec/heartbeat
 * (CentOS 7, Debian 12) where send_arp is there, else /usr/lib/heartbeat,
 * where older packagings (heartbeat 2's own send_arp) put it.
 */
const HELPER_DIRECTORIES = ['/usr/libexec/heartbeat', '/usr/lib/heartbeat'] as const;

export function helperDirectory(env: NodeJS.ProcessEnv): string {
  return env.HA_BIN || (HELPER_DIRECTORIES.find((dir) => existsSync(`${dir}/send_arp`)) ?? HELPER_DIRECTORIES[0]);
}

/** send_arp insists on a pid file of its own (and kills whatever an old one names). */
const sendArpPidfile = (env: NodeJS.ProcessEnv, ip: string) => `${lockDirectory(env)}/send_arp-${safeName(ip)}`;

/** send_arp sends a request and a reply per announcement: some neighbours ignore one kind. */
export function sendArpArgv(env: NodeJS.ProcessEnv, nic: string, ip: string, count: number, intervalMs: number): string[] {
  return [`${helperDirectory(env)}/send_arp`, '-i', String(intervalMs), '-r', String(count), '-p', sendArpPidfile(env, ip), nic, ip, 'auto', 'not_used', 'not_used'];
}

export function sendUaArgv(env: NodeJS.ProcessEnv, nic: string, ip: string, prefix: number, count: number, intervalMs: number): string[] {
  return [`${helperDirectory(env)}/send_ua`, '-i', String(intervalMs), '-c', String(count), ip, String(prefix), nic];
}

export function parseAnnouncerRecord(text: string): AnnouncerRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<AnnouncerRecord>;
    // pid 0: a start was between writing the record and spawning (see startAnnouncer).
    if (Number.isInteger(record.pid) && (record.pid === 0 || record.pid! > 1) && Array.isArray(record.argv)) return record as AnnouncerRecord;
  } catch {
    // A torn or foreign file: treat as no record.
  }
  return undefined;
}

function readCmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

export function isOurAnnouncer(record: AnnouncerRecord): boolean {
  const cmdline = readCmdline(record.pid);
  return !!cmdline && isAlive(record.pid) && cmdline.length === record.argv.length && cmdline.every((arg, i) => arg === record.argv[i]);
}

/** Processes whose argv is exactly `argv` (an announcer whose start was killed before its PID was recorded). */
function pidsRunning(argv: readonly string[]): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = readCmdline(Number(name));
    if (cmdline && cmdline.length === argv.length && cmdline.every((arg, i) => arg === argv[i])) pids.push(Number(name));
  }
  return pids;
}

export async function startAnnouncer(env: NodeJS.ProcessEnv, ip: string, argv: readonly string[]): Promise<AnnouncerRecord> {
  // Own session and no inherited pipes: heartbeat's or a test's capture of
  // our stdout must not wait for the announcer, nor a killed process group take it.
  // The argv goes on record before the spawn: a start killed in between
  // leaves {pid: 0}, and stop then finds the orphan by its exact argv.
  mkdirSync(lockDirectory(env), { recursive: true, mode: 0o755 });
  writeFileSync(announcerStatePath(env, ip), `${JSON.stringify({ pid: 0, argv })}\n`);
  const child = await startDetached(argv[0]!, argv.slice(1));
  const record: AnnouncerRecord = { pid: child.pid, argv: [...argv] };
  writeFileSync(announcerStatePath(env, ip), `${JSON.stringify(record)}\n`);
  return record;
}

/**
 * SIGKILL at once: send_arp finishes its current interval (up to
 * arp_interval, 200 ms) before acting on SIGTERM, and holds nothing that
 * needs a clean exit (its pid file is removed by stopAnnouncer). Waited for
 * only until its memory is gone (empty command line): from then on it
 * cannot send another frame; closing its packet socket takes the kernel
 * tens of ms more, which nothing here needs to wait for.
 */
async function killAnnouncers(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  await pollUntil(() => (pids.every((pid) => (readCmdline(pid)?.length ?? 0) === 0) ? true : undefined), { intervalMs: 2, timeoutMs: 1000 });
}

export type AnnouncerStopOutcome = 'none' | 'finished' | 'stopped' | 'not-ours';

/** Ends the recorded announcer if it is still the process we started; always removes the record. */
export async function stopAnnouncer(env: NodeJS.ProcessEnv, ip: string): Promise<AnnouncerStopOutcome> {
  const path = announcerStatePath(env, ip);
  if (!existsSync(path)) return 'none';
  const record = parseAnnouncerRecord(readFileSync(path, 'utf8'));
  let outcome: AnnouncerStopOutcome = 'finished';
  if (record?.pid === 0) {
    const orphans = pidsRunning(record.argv);
    if (orphans.length) {
      await killAnnouncers(orphans);
      outcome = 'stopped';
    }
    // No command line: the process is gone, or exiting (its memory is released
    // while the kernel closes its packet socket, tens of ms): finished, not foreign.
  } else if (record && isAlive(record.pid) && (readCmdline(record.pid)?.length ?? 0) > 0) {
    if (isOurAnnouncer(record)) {
      await killAnnouncers([record.pid]);
      outcome = 'stopped';
    } else {
      outcome = 'not-ours';
    }
  }
  rmSync(path, { force: true });
  if (outcome !== 'not-ours') rmSync(sendArpPidfile(env, ip), { force: true });
  return outcome;
}
