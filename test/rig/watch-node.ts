import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { ip, netnsAdd } from './sandbox.ts';

// What test/cli/watch.test.ts and bench/watch-cost.ts both build around a
// watched node: an init script the group holds, the LAN to a stand-in peer,
// and the watcher's PID under nsenter.

/** An LSB-ish init script whose "service" is a flag file: held while /run/flag.NAME exists. */
export const FLAG_SCRIPT = `#!/bin/sh
flag=/run/flag.$1
case "$2" in
  start) touch "$flag" ;;
  stop) rm -f "$flag" ;;
  status) if [ -e "$flag" ]; then echo "flag $1 is running"; else echo "flag $1 is not running"; exit 3; fi ;;
esac
`;

/** Namespaces `ns` (eth1, NET.1/24) and `peerNs` (eth1p, NET.2/24) joined by a veth pair. */
export async function lanPair(ns: string, peerNs: string, net: string): Promise<void> {
  await netnsAdd(ns);
  await netnsAdd(peerNs);
  await execa('ip', ['link', 'add', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name', 'eth1p', 'netns', peerNs]);
  await ip(['addr', 'add', `${net}.1/24`, 'dev', 'eth1'], ns);
  await ip(['link', 'set', 'eth1', 'up'], ns);
  await ip(['addr', 'add', `${net}.2/24`, 'dev', 'eth1p'], peerNs);
  await ip(['link', 'set', 'eth1p', 'up'], peerNs);
}

/** nsenter forks into the PID namespace: the command it runs is its only child (0: not yet). */
export function childOf(pid: number): number {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : 0;
  } catch {
    return 0;
  }
}
