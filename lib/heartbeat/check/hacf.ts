import { posix } from 'node:path';
import type { Interface, Route } from '../../ip/iproute-json.ts';
import { parseAddress, prefixContains } from '../../ip/address.ts';
import { crmEnabled, declaredNodes, HA_CF_DIRECTIVES, lastValue, parseDurationMs, parseHaCf, type HaCfEntry } from '../hacf.ts';
import type { Findings } from './codes.ts';
import { closestWord, type CheckOptions, type NodeFiles } from './context.ts';
import type { FirewallView } from '../firewall.ts';

// ha.cf (HA1xx) as heartbeat reads it: directives it knows, this node among
// the nodes, timings heartbeat accepts, media on interfaces this node has,
// and the settings people regret leaving out (auto_failback, a log); and the
// causes of split brain the tutorial's section 6 names that live in ha.cf:
// one link, media that look redundant and are not, a firewall dropping
// heartbeats, dopd half set up.

const fmtMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

/** Checks ha.cf; its entries, or undefined when it cannot be read (HA101). */
export function checkHaCf(files: NodeFiles, file: string, node: string, options: CheckOptions, findings: Findings): HaCfEntry[] | undefined {
  const text = files.read(file);
  if (typeof text !== 'string') {
    findings.add('HA101', file, 0, `cannot read ${file} (${text.error}); heartbeat does not start without it`, 'create it: node lines for both nodes, keepalive/deadtime, a bcast/mcast/ucast line, auto_failback, logfile');
    return undefined;
  }
  const entries = parseHaCf(text);
  checkEntries(entries, file, node, options, findings);
  checkMediaAndDopd(entries, file, options.interfaces, findings);
  return entries;
}

function checkEntries(entries: readonly HaCfEntry[], file: string, node: string, options: CheckOptions, findings: Findings): void {
  for (const e of entries) {
    if (HA_CF_DIRECTIVES.has(e.directive)) continue;
    const guess = closestWord(e.directive, HA_CF_DIRECTIVES);
    findings.add('HA102', file, e.line, `unknown directive "${e.directiveAsWritten}"; heartbeat refuses to start ("Illegal directive")`, guess ? `did you mean "${guess}"?` : 'remove the line or correct the directive (see ha.cf(5))');
  }
  const nodes = declaredNodes(entries);
  if (!nodes.some((n) => n.name === node)) {
    const first = entries.find((e) => e.directive === 'node');
    const guess = closestWord(node, nodes.map((n) => n.name));
    findings.add('HA103', file, first?.line ?? 0,
      `this node is ${node} (uname -n), but ha.cf declares ${nodes.length ? `node ${nodes.map((n) => n.name).join(', ')}` : 'no node at all'}; heartbeat would not know itself`,
      guess ? `write "node ${node}" instead of "node ${guess}" (node names are uname -n, on every node the same lines)` : `add "node ${node}" (node names are exactly uname -n)`);
  }
  const crm = crmEnabled(entries);
  if (crm) {
    findings.add('HA105', file, crm.line, `"${crm.directiveAsWritten} ${crm.values.join(' ')}" hands the resources to Pacemaker: haresources is ignored, no group starts`, `set "crm no" for haresources (v1) clusters; to move to Pacemaker run ha-agent crm-config`);
  } else {
    const unique = [...new Set(nodes.map((n) => n.name))];
    if (nodes.length && unique.length !== 2) {
      findings.add('HA104', file, entries.find((e) => e.directive === 'node')!.line, `ha.cf declares ${unique.length} node(s) (${unique.join(', ')}); haresources (v1) failover works between exactly two`, unique.length < 2 ? 'add a node line for the peer' : 'keep two nodes, or move to Pacemaker (ha-agent crm-config)');
    }
  }

  // Timings, heartbeat's defaults when absent (keepalive 1 s, deadtime 30 s).
  const timing = (name: string) => {
    const v = lastValue(entries, name);
    if (!v) return undefined;
    const ms = parseDurationMs(v.value);
    if (ms === undefined) {
      findings.add('HA109', file, v.line, `${name} "${v.value}" is not a time heartbeat understands; heartbeat refuses to start`, `write seconds ("${name} 2") or a unit ("${name} 500ms")`);
      return null;
    }
    return { ms, line: v.line, text: v.value };
  };
  const keepalive = timing('keepalive');
  const deadtime = timing('deadtime');
  const warntime = timing('warntime');
  const initdead = timing('initdead');
  const ka = keepalive === null ? undefined : (keepalive?.ms ?? 1000);
  const dead = deadtime === null ? undefined : (deadtime?.ms ?? 30000);
  if (ka !== undefined && dead !== undefined && dead <= 2 * ka) {
    findings.add('HA106', file, deadtime?.line ?? keepalive?.line ?? 0, `deadtime ${fmtMs(dead)} is not well above keepalive ${fmtMs(ka)}; heartbeat refuses to start ("Dead time is too small compared to keepalive")`, `make deadtime several keepalives (e.g. keepalive ${fmtMs(ka).replace(' ', '')} → deadtime ${Math.ceil((ka * 4) / 1000)})`);
  }
  if (warntime && dead !== undefined && warntime.ms >= dead) {
    findings.add('HA107', file, warntime.line, `warntime ${fmtMs(warntime.ms)} is not below deadtime ${fmtMs(dead)}: the late-heartbeat warning can never come before the node is declared dead`, 'set warntime between keepalive and deadtime (e.g. half of deadtime)');
  }
  if (initdead && dead !== undefined) {
    if (initdead.ms < dead) {
      findings.add('HA115', file, initdead.line, `initdead ${fmtMs(initdead.ms)} is below deadtime ${fmtMs(dead)}; heartbeat refuses to start ("Initial dead time is smaller than deadtime")`, `set initdead to at least twice deadtime (${fmtMs(2 * dead)})`);
    } else if (initdead.ms < 2 * dead) {
      findings.add('HA108', file, initdead.line, `initdead ${fmtMs(initdead.ms)} is less than twice deadtime ${fmtMs(dead)}: after a reboot the peer may be declared dead while its network is still coming up`, `set initdead to at least ${fmtMs(2 * dead)}`);
    }
  }

  // Media: the interface exists here; a ucast peer is on one of its networks.
  const media = entries.filter((e) => ['bcast', 'mcast', 'mcast6', 'ucast', 'ucast6', 'serial', 'udp'].includes(e.directive));
  if (!media.length) {
    findings.add('HA114', file, 0, 'no bcast, mcast, ucast or serial line: heartbeat has no way to talk to its peer and refuses to start', 'add e.g. "ucast eth2 PEER-ADDRESS" or "bcast eth2" for the dedicated heartbeat link');
  }
  const names = new Set(options.interfaces.map((i) => i.ifname));
  for (const e of media) {
    if (e.directive === 'serial') continue;
    const ifaces = e.directive === 'bcast' || e.directive === 'udp' ? e.values : e.values.slice(0, 1);
    for (const ifname of ifaces) {
      if (names.has(ifname)) continue;
      findings.add('HA110', file, e.line, `${e.directive} names interface ${ifname}, which this node does not have${names.size ? ` (it has ${[...names].filter((n) => n !== 'lo').join(', ') || 'only lo'})` : ''}; heartbeat refuses to start`, 'use the interface of the heartbeat link on this node (the name may differ per node: then ha.cf differs too)');
    }
    if ((e.directive === 'ucast' || e.directive === 'ucast6') && e.values.length >= 2 && names.has(e.values[0]!)) {
      const [ifname, peer] = e.values as [string, string];
      const address = parseAddress(peer);
      if (!address) {
        findings.add('HA111', file, e.line, `ucast peer "${peer}" is not an IP address`, 'write the peer\'s address on the heartbeat link');
        continue;
      }
      const iface = options.interfaces.find((i) => i.ifname === ifname)!;
      const own = iface.addresses.filter((a) => a.family === address.family);
      if (own.some((a) => a.value === address.value)) continue; // heartbeat skips its own address
      const onNetwork = own.some((a) => prefixContains(address.family, a.value, a.prefixlen, address.value))
        || options.routes.some((r) => r.dev === ifname && r.dst !== 'default' && routeContains(r, address.family, address.value));
      if (!onNetwork) {
        findings.add('HA111', file, e.line, `ucast peer ${peer} is on no network of ${ifname} (${own.map((a) => `${a.local}/${a.prefixlen}`).join(', ') || 'no address'}): heartbeats would not reach it on that link`, `check the peer address and the interface; ${ifname} needs an address in the peer's network`);
      }
    }
  }
  if (!entries.some((e) => e.directive === 'auto_failback' || e.directive === 'nice_failback')) {
    findings.add('HA112', file, 0, 'auto_failback is not set: heartbeat runs in its legacy mode and logs a warning at every start', 'say what you want: "auto_failback on" (the group returns to its haresources node) or "auto_failback off"');
  }
  const logs = entries.filter((e) => ['logfile', 'debugfile', 'use_logd'].includes(e.directive) || (e.directive === 'logfacility' && e.values[0] !== 'none'));
  if (!logs.length) {
    findings.add('HA113', file, 0, 'no log destination (logfile, debugfile, logfacility or use_logd): at 3 a.m. there is nothing to read', 'add "logfile /var/log/ha-log" (and "debugfile /var/log/ha-debug")');
  }
}

function routeContains(route: Route, family: 'inet' | 'inet6', value: bigint): boolean {
  const [net, len] = route.dst.split('/');
  const parsed = parseAddress(net ?? '');
  if (!parsed || parsed.family !== family) return false;
  return prefixContains(family, parsed.value, len === undefined ? (family === 'inet' ? 32 : 128) : Number(len), value);
}

const MEDIA = ['bcast', 'mcast', 'mcast6', 'ucast', 'ucast6', 'serial'];

/** One way heartbeat's packets travel: an interface and UDP port, or a serial device. */
interface Path {
  link: string;
  port?: number;
  entry: HaCfEntry;
  /** The medium as written, to spot the same one twice. */
  identity: string;
}

function udpPort(entries: readonly HaCfEntry[]): number {
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
function checkMediaAndDopd(entries: readonly HaCfEntry[], file: string, interfaces: readonly Interface[], findings: Findings): void {
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
    if (first) findings.add('HA117', file, p.entry.line, `${p.identity} is already a medium (line ${first.line}): heartbeat opens it twice on the same address and port, every heartbeat arrives twice, and it is still one link`, 'remove the duplicate; for redundancy use a second, separate link (another NIC or a serial cable)');
    else seen.set(p.identity, p.entry);
  }

  // ucast lines on an interface that name only this node: nothing goes to the peer there.
  for (const ifname of ucastIfaces) {
    if (paths.some((p) => p.link === ifname)) continue;
    const e = media.find((x) => x.directive.startsWith('ucast') && x.values[0] === ifname)!;
    findings.add('HA118', file, e.line, `every ucast line on ${ifname} names this node's own address (${e.values[1]}): heartbeat sends nothing to the peer there, so the peer declares this node dead (the ha.cf copied from the other node?)`, `write the peer's address: "ucast ${ifname} PEER-ADDRESS" (the same ha.cf on both nodes may list both addresses: heartbeat skips its own)`);
  }

  if (links.length === 1) {
    const where = `${media.length} medium line(s), all over ${links[0]}`;
    if (dopd) findings.add('HA122', file, dopd.line, `dopd runs, but every heartbeat goes over ${links[0]}: when that link fails dopd cannot reach the peer to outdate its disk, so it protects nothing (${where})`, 'add a second heartbeat link (another NIC: "bcast eth1", or "serial /dev/ttyS0") as DRBD\'s guide requires for dopd');
    else findings.add('HA116', file, media[0]!.line, `one heartbeat link only (${where}): one cable, switch port or firewall rule away from split brain, with both nodes taking the group`, 'add a second, separate link: "bcast eth1" on the service LAN, another NIC, or "serial /dev/ttyS0" with a null-modem cable');
  }
  if (dopd && !entries.some((e) => e.directive === 'apiauth' && e.values[0] === 'dopd')) {
    findings.add('HA121', file, dopd.line, 'dopd is respawned but ha.cf has no "apiauth dopd" line: heartbeat refuses dopd\'s API sign-on, so drbd-peer-outdater never reaches the peer', 'add "apiauth dopd gid=haclient uid=hacluster"');
  }
}

/** HA119, HA120: what the node's packet filter does to heartbeat's port(s); run after checkHaCf when ha.cf was read. */
export async function checkFirewall(entries: readonly HaCfEntry[], file: string, options: CheckOptions, findings: Findings): Promise<void> {
  if (!options.firewall) return;
  const views = new Map<number, FirewallView>();
  for (const [port, ifaces] of heartbeatPorts(entries, options.interfaces)) views.set(port, await options.firewall(port, ifaces));
  const udpLine = entries.find((e) => e.directive === 'udpport')?.line ?? 0;
  for (const [port, view] of views) {
    if (!view.readable) {
      findings.add('HA120', file, 0, `cannot tell whether a firewall drops heartbeat's UDP port ${port}: ${view.why}`, 'run ha-agent check as root (it reads nft -j list ruleset and iptables-save)');
      continue;
    }
    for (const b of view.blocking) {
      findings.add('HA119', file, udpLine, `${b.where}: "${b.rule}" drops heartbeat's UDP port ${port}${b.iface ? ` on ${b.iface}` : ''}: heartbeats are lost while the service LAN works, the classic split brain`, `accept it before the drop, e.g. nft insert rule ${b.where.replace(/^nftables /, '')} udp dport ${port} accept (iptables: -I INPUT -p udp --dport ${port} -j ACCEPT), on both nodes`);
    }
  }
}

/** The UDP ports heartbeat uses (udpport, an mcast line's own port) and the interfaces of each. */
function heartbeatPorts(entries: readonly HaCfEntry[], interfaces: readonly Interface[]): Map<number, string[]> {
  const ports = new Map<number, string[]>();
  for (const p of mediaPaths(entries, interfaces)) {
    if (p.port === undefined) continue;
    const list = ports.get(p.port) ?? [];
    if (!list.includes(p.link)) list.push(p.link);
    ports.set(p.port, list);
  }
  return ports;
}
