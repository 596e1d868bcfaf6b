import type { Route } from '../../ip/iproute-json.ts';
import { parseAddress, prefixContains } from '../../ip/address.ts';
import { crmEnabled, declaredNodes, HA_CF_DIRECTIVES, lastValue, parseDurationMs, parseHaCf, type HaCfEntry } from '../hacf.ts';
import type { Findings } from './codes.ts';
import { closestWord, type CheckOptions, type NodeFiles } from './context.ts';

// ha.cf (HA1xx) as heartbeat reads it: directives it knows, this node among
// the nodes, timings heartbeat accepts, media on interfaces this node has,
// and the settings people regret leaving out (auto_failback, a log).

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
