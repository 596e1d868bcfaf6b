import { posix } from 'node:path';
import { readDrbdResources, globLastPart, type DrbdResourceSettings } from '../drbd/conf.ts';
import type { Interface } from '../ip/iproute-json.ts';
import { parseAddress } from '../ip/address.ts';
import type { FirewallView } from './firewall.ts';
import type { HaCfEntry } from './hacf.ts';

// The causes of split brain the tutorial's section 6 names, as `check`
// findings: one heartbeat link, a firewall dropping heartbeats, media that
// look redundant and are not, DRBD without fencing or without a split-brain
// handler, dopd half set up, and nobody watching. Each function adds its
// findings through `add` (check.ts's table gives the severity).

export type Add = (code: SplitBrainCode, file: string, line: number, message: string, fix: string) => void;
export type SplitBrainCode = 'HA116' | 'HA117' | 'HA118' | 'HA119' | 'HA120' | 'HA121' | 'HA122' | 'HA360' | 'HA361' | 'HA362' | 'HA406';

/** The rows check.ts adds to its code table. */
export const SPLIT_BRAIN_CODES = {
  HA116: ['warning', 'one heartbeat link only'],
  HA117: ['warning', 'the same heartbeat medium twice'],
  HA118: ['error', 'ucast names only this node\'s own address'],
  HA119: ['error', 'firewall drops heartbeat\'s UDP port'],
  HA120: ['warning', 'firewall rules unreadable'],
  HA121: ['error', 'dopd without apiauth dopd'],
  HA122: ['warning', 'dopd with one heartbeat link'],
  HA360: ['warning', 'DRBD without fencing'],
  HA361: ['warning', 'DRBD without a split-brain handler'],
  HA362: ['error', 'DRBD fencing without a fence-peer handler'],
  HA406: ['warning', 'no watch configured'],
} as const;

const MEDIA = ['bcast', 'mcast', 'mcast6', 'ucast', 'ucast6', 'serial'];

/** One way heartbeat's packets travel: an interface and UDP port, or a serial device. */
interface Path {
  link: string;
  port?: number;
  entry: HaCfEntry;
  /** The medium as written, to spot the same one twice. */
  identity: string;
}

export function udpPort(entries: readonly HaCfEntry[]): number {
  const v = [...entries].reverse().find((e) => e.directive === 'udpport')?.values[0];
  return v && /^\d+$/.test(v) ? Number(v) : 694;
}

function ownAddress(interfaces: readonly Interface[], ifname: string, text: string): boolean {
  const a = parseAddress(text);
  const iface = interfaces.find((i) => i.ifname === ifname);
  return !!a && !!iface?.addresses.some((x) => x.family === a.family && x.value === a.value);
}

/** The paths the media lines open, without ucast lines to this node itself (heartbeat sends nothing there that the peer hears). */
function mediaPaths(entries: readonly HaCfEntry[], interfaces: readonly Interface[]): Path[] {
  const port = udpPort(entries);
  const paths: Path[] = [];
  for (const e of entries.filter((x) => MEDIA.includes(x.directive))) {
    if (e.directive === 'serial') for (const dev of e.values) paths.push({ link: `serial ${dev}`, entry: e, identity: `serial ${dev}` });
    else if (e.directive === 'bcast') for (const ifname of e.values) paths.push({ link: ifname, port, entry: e, identity: `bcast ${ifname}` });
    else if (e.directive.startsWith('mcast') && e.values[0]) {
      const p = Number(e.values[2]);
      paths.push({ link: e.values[0], port: Number.isInteger(p) ? p : port, entry: e, identity: `${e.directive} ${e.values.slice(0, 3).join(' ')}` });
    } else if (e.directive.startsWith('ucast') && e.values[0] && e.values[1] && !ownAddress(interfaces, e.values[0], e.values[1])) {
      paths.push({ link: e.values[0], port, entry: e, identity: `${e.directive} ${e.values[0]} ${e.values[1]}` });
    }
  }
  return paths;
}

const dopdEntry = (entries: readonly HaCfEntry[]) => entries.find((e) => e.directive === 'respawn' && e.values.some((v) => posix.basename(v) === 'dopd'));

/** HA116–HA118, HA121, HA122: the media and dopd lines of ha.cf. */
export function checkMediaAndDopd(entries: readonly HaCfEntry[], file: string, interfaces: readonly Interface[], add: Add): void {
  const media = entries.filter((e) => MEDIA.includes(e.directive));
  if (!media.length) return; // HA114
  const paths = mediaPaths(entries, interfaces);
  // A ucast line to this node itself is HA118's, but the user meant it as a link: counted here, said there.
  const ucastIfaces = new Set(media.filter((e) => e.directive.startsWith('ucast') && e.values[0]).map((e) => e.values[0]!));
  const links = [...new Set([...paths.map((p) => p.link), ...ucastIfaces])];
  const dopd = dopdEntry(entries);

  // The same medium on two lines (or one interface twice on a bcast line): heartbeat starts, opens a
  // second socket on the same address (ss shows two heartbeat readers on 0.0.0.0%eth1:694), receives
  // every packet twice and counts one link: it looks redundant and is not.
  const seen = new Map<string, HaCfEntry>();
  for (const p of paths) {
    const first = seen.get(p.identity);
    if (first) add('HA117', file, p.entry.line, `${p.identity} is already a medium (line ${first.line}): heartbeat opens it twice on the same address and port, every heartbeat arrives twice, and it is still one link`, 'remove the duplicate; for redundancy use a second, separate link (another NIC or a serial cable)');
    else seen.set(p.identity, p.entry);
  }

  // ucast lines on an interface that name only this node: nothing goes to the peer there.
  for (const ifname of ucastIfaces) {
    if (paths.some((p) => p.link === ifname)) continue;
    const e = media.find((x) => x.directive.startsWith('ucast') && x.values[0] === ifname)!;
    add('HA118', file, e.line, `every ucast line on ${ifname} names this node's own address (${e.values[1]}): heartbeat sends nothing to the peer there, so the peer declares this node dead (the ha.cf copied from the other node?)`, `write the peer's address: "ucast ${ifname} PEER-ADDRESS" (the same ha.cf on both nodes may list both addresses: heartbeat skips its own)`);
  }

  if (links.length === 1) {
    const where = `${media.length} medium line(s), all over ${links[0]}`;
    if (dopd) add('HA122', file, dopd.line, `dopd runs, but every heartbeat goes over ${links[0]}: when that link fails dopd cannot reach the peer to outdate its disk, so it protects nothing (${where})`, 'add a second heartbeat link (another NIC: "bcast eth1", or "serial /dev/ttyS0") as DRBD\'s guide requires for dopd');
    else add('HA116', file, media[0]!.line, `one heartbeat link only (${where}): one cable, switch port or firewall rule away from split brain, with both nodes taking the group`, 'add a second, separate link: "bcast eth1" on the service LAN, another NIC, or "serial /dev/ttyS0" with a null-modem cable');
  }
  if (dopd && !entries.some((e) => e.directive === 'apiauth' && e.values[0] === 'dopd')) {
    add('HA121', file, dopd.line, 'dopd is respawned but ha.cf has no "apiauth dopd" line: heartbeat refuses dopd\'s API sign-on, so drbd-peer-outdater never reaches the peer', 'add "apiauth dopd gid=haclient uid=hacluster"');
  }
}

/** HA119, HA120: what the node's packet filter does to heartbeat's port(s). */
export function checkFirewall(entries: readonly HaCfEntry[], file: string, interfaces: readonly Interface[], views: ReadonlyMap<number, FirewallView>, add: Add): void {
  const udpLine = entries.find((e) => e.directive === 'udpport')?.line ?? 0;
  for (const [port, view] of views) {
    if (!view.readable) {
      add('HA120', file, 0, `cannot tell whether a firewall drops heartbeat's UDP port ${port}: ${view.why}`, 'run ha-agent check as root (it reads nft -j list ruleset and iptables-save)');
      continue;
    }
    for (const b of view.blocking) {
      add('HA119', file, udpLine, `${b.where}: "${b.rule}" drops heartbeat's UDP port ${port}${b.iface ? ` on ${b.iface}` : ''}: heartbeats are lost while the service LAN works, the classic split brain`, `accept it before the drop, e.g. nft insert rule ${b.where.replace(/^nftables /, '')} udp dport ${port} accept (iptables: -I INPUT -p udp --dport ${port} -j ACCEPT), on both nodes`);
    }
  }
}

/** The UDP ports heartbeat uses (udpport, an mcast line's own port) and the interfaces of each. */
export function heartbeatPorts(entries: readonly HaCfEntry[], interfaces: readonly Interface[]): Map<number, string[]> {
  const ports = new Map<number, string[]>();
  for (const p of mediaPaths(entries, interfaces)) {
    if (p.port === undefined) continue;
    const list = ports.get(p.port) ?? [];
    if (!list.includes(p.link)) list.push(p.link);
    ports.set(p.port, list);
  }
  return ports;
}

export interface DrbdFiles {
  read(path: string): string | undefined;
  list(dir: string): string[];
}

/** HA360–HA362: the DRBD resources drbddisk names, as the DRBD configuration sets them up. */
export function checkDrbdFencing(resources: readonly { name: string; conf?: string }[], entries: readonly HaCfEntry[], files: DrbdFiles, add: Add): void {
  const dopd = !!dopdEntry(entries);
  const cache = new Map<string, DrbdResourceSettings[]>();
  for (const { name, conf } of resources) {
    const main = conf || '/etc/drbd.conf';
    if (!cache.has(main)) cache.set(main, readDrbdResources(main, { read: (p) => files.read(p), glob: (p) => globLastPart(p, (d) => files.list(d)) }));
    const settings = cache.get(main)!.find((r) => r.name === name);
    if (!settings) continue; // unknown resources are HA320
    const fencing = settings.fencing && settings.fencing !== 'dont-care' ? settings.fencing : undefined;
    if (!fencing) {
      add('HA360', settings.file, 0, `DRBD resource ${name} has no fencing policy${dopd ? ' (dopd runs, but DRBD never calls it)' : ' and ha.cf runs no dopd'}: after the heartbeat link fails, the side that takes over promotes a disk the other may still write, and the data diverge`, `set "fencing resource-only;" (disk section in 8.4, net in 9) with handlers { fence-peer "/usr/libexec/heartbeat/drbd-peer-outdater -t 5"; } and run dopd from ha.cf ("respawn hacluster /usr/libexec/heartbeat/dopd", "apiauth dopd gid=haclient uid=hacluster")`);
    } else if (!settings.handlers.has('fence-peer')) {
      add('HA362', settings.file, 0, `DRBD resource ${name} has "fencing ${fencing}" but no fence-peer handler: DRBD has nothing to call when it loses the peer, so the fencing never happens`, 'add handlers { fence-peer "/usr/libexec/heartbeat/drbd-peer-outdater -t 5"; } (heartbeat with dopd) to the resource or to common');
    }
    if (!settings.handlers.has('split-brain')) {
      add('HA361', settings.file, 0, `DRBD resource ${name} has no split-brain handler: when DRBD detects split brain it drops the connection and tells nobody`, 'add handlers { split-brain "/usr/lib/drbd/notify-split-brain.sh root"; } (it mails root; ha-agent watch reports the StandAlone state too)');
    }
  }
}

/** HA406: `ha-agent watch` from ha.cf's respawn, or an enabled systemd unit. */
export function checkWatch(entries: readonly HaCfEntry[], file: string, enabledUnits: readonly string[], add: Add): void {
  const respawned = entries.some((e) => e.directive === 'respawn' && e.values.some((v, i) => /^ha-agent/.test(posix.basename(v)) && (posix.basename(v) === 'ha-agent-watch' || e.values[i + 1] === 'watch')));
  if (respawned || enabledUnits.some((u) => /^ha-agent-watch(@.*)?$/.test(u))) return;
  add('HA406', file, 0, 'nothing watches this node: no "respawn … ha-agent watch" in ha.cf and no enabled ha-agent-watch unit, so a split brain, a dead heartbeat or a stopped mysqld is seen only when a customer calls', 'add "respawn root /usr/sbin/ha-agent watch --alert-exec /etc/ha.d/alert.sh" (or --mail-to root) to ha.cf on both nodes, or systemctl enable ha-agent-watch');
}
