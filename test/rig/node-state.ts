import { existsSync, readFileSync } from 'node:fs';

// What a rig node holds, read from /proc and the DRBD double's state files,
// never by spawning a tool (`ip`, `grep`): a safety monitor's sample is then
// one moment that costs a few milliseconds, not a sweep of process start-ups
// during which the cluster moves on. Shared by the heartbeat rig
// (cluster.ts), its split-brain sampler and the Pacemaker rig. A node that
// has just died reads as holding nothing.

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The network namespace process `pid` is in has `address` configured
 * (IPv4): its local routing table, /proc/PID/net/fib_trie, lists a
 * "/32 host LOCAL" entry for it, whatever prefix length the address has.
 */
export function hasLocalAddress(pid: number, address: string): boolean {
  try {
    return new RegExp(`\\|-- ${escapeRegExp(address)}\\n\\s+/32 host LOCAL`).test(readFileSync(`/proc/${pid}/net/fib_trie`, 'utf8'));
  } catch {
    return false;
  }
}

/** Something is mounted on `mountPoint` in the mount namespace of process `pid` (its /proc/PID/mountinfo). */
export function hasMountOn(pid: number, mountPoint: string): boolean {
  try {
    const escaped = mountPoint.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
    return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').some((line) => line.split(' ')[4] === escaped);
  } catch {
    return false;
  }
}

/** The DRBD double (test/rig/drbd-double.ts, state under `stateDir`) has `node` Primary for `resource`, and its disk is not down. */
export function isDrbdPrimary(stateDir: string, node: string, resource = 'data'): boolean {
  const dir = `${stateDir}/res/${resource}`;
  try {
    return readFileSync(`${dir}/role.${node}`, 'utf8').trim() === 'Primary' && !existsSync(`${dir}/down-at.${node}`);
  } catch {
    return false;
  }
}
