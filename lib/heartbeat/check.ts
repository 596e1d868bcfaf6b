import { constants, accessSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { AgentContext, AgentDefinition, Params } from '../contract/agent.ts';
import { resolveDrbdTools } from '../drbd/config.ts';
import { Drbdadm } from '../drbd/drbdadm.ts';
import { AgentError } from '../contract/errors.ts';
import { fstypeSupport } from '../fs/fstype.ts';
import { canonicalAddress, parseAddress, prefixContains } from '../ip/address.ts';
import { findInterfaceForAddress, type Interface, type Route } from '../ip/iproute-json.ts';
import { parseVipSpec } from '../ip/target.ts';
import { OptionFileError, readOptionFiles, type OptionFileSource } from '../mysql/mycnf.ts';
import { DEFAULT_CONFIG_FILES, resolveServerSettings } from '../mysql/settings.ts';
import { paramsFromV1Args, resolveParams } from '../contract/params.ts';
import { AUTH_METHODS, parseAuthKeys } from './authkeys.ts';
import { crmEnabled, declaredNodes, HA_CF_DIRECTIVES, lastValue, parseDurationMs, parseHaCf, type HaCfEntry } from './hacf.ts';
import { parseHaresources, type Haresources, type HaresourcesGroup, type HaresourcesResource } from './haresources.ts';
import { checkDrbdFencing, checkFirewall, checkMediaAndDopd, checkWatch, heartbeatPorts, SPLIT_BRAIN_CODES } from './check-split-brain.ts';
import type { FirewallView } from './firewall.ts';

// `ha-agent check`: reads ha.cf, authkeys and haresources the way heartbeat
// and its ResourceManager do, asks our agents' own parameter tables (and,
// on the node itself, their validate-all) about every resource, and looks at
// what the node would do at boot. Every finding names the file and line the
// user wrote, a stable code per kind (like shellcheck's SC codes), what is
// wrong and how to fix it. Node-level checks read files under `root`
// (rc?.d links, systemd *.wants, /etc/fstab), never systemctl, so a test can
// point them at a scratch tree.

export type Severity = 'error' | 'warning';

export interface Finding {
  severity: Severity;
  file: string;
  /** 1-based; 0 when the finding is about the file as a whole. */
  line: number;
  code: string;
  /** What is wrong. */
  message: string;
  /** How to fix it. */
  fix: string;
}

/** Every code the checker can report: severity and a short title (README and tests use them). */
export const CODES = {
  HA101: ['error', 'ha.cf missing or unreadable'],
  HA102: ['error', 'unknown ha.cf directive'],
  HA103: ['error', 'this node is not a node of ha.cf'],
  HA104: ['error', 'haresources needs exactly two nodes'],
  HA105: ['error', 'crm on: haresources ignored'],
  HA106: ['error', 'deadtime not well above keepalive'],
  HA107: ['warning', 'warntime not below deadtime'],
  HA108: ['warning', 'initdead below twice deadtime'],
  HA109: ['error', 'invalid time value'],
  HA110: ['error', 'heartbeat interface missing on this node'],
  HA111: ['error', 'ucast peer not on the interface\'s networks'],
  HA112: ['warning', 'auto_failback not set'],
  HA113: ['warning', 'no log destination'],
  HA114: ['error', 'no heartbeat medium'],
  HA115: ['error', 'initdead below deadtime'],
  HA201: ['error', 'authkeys missing or unreadable'],
  HA202: ['error', 'authkeys mode not 0600'],
  HA203: ['error', 'authkeys without an auth line'],
  HA204: ['error', 'auth names a key that does not exist'],
  HA205: ['warning', 'crc: no authentication'],
  HA206: ['error', 'invalid authkeys line'],
  HA301: ['error', 'haresources missing or unreadable'],
  HA302: ['error', 'haresources node not in ha.cf'],
  HA303: ['error', 'resource script not found'],
  HA304: ['error', 'resource arguments do not parse'],
  HA305: ['error', 'validate-all fails'],
  HA306: ['error', 'comment on a continued line'],
  HA307: ['error', 'backslash on the last line'],
  HA308: ['warning', 'group without resources'],
  HA310: ['error', 'IPaddr interface missing'],
  HA311: ['error', 'VIP on no network of its interface'],
  HA320: ['error', 'DRBD resource unknown to drbdadm'],
  HA321: ['error', 'drbdadm not usable'],
  HA330: ['warning', 'mount point missing'],
  HA331: ['error', 'filesystem type unknown to the kernel'],
  HA340: ['error', 'my.cnf unreadable'],
  HA341: ['error', 'datadir not on a Filesystem of the group'],
  HA342: ['warning', 'log-bin not on a Filesystem of the group'],
  HA343: ['error', 'server binary missing'],
  HA350: ['error', 'Filesystem on DRBD before its drbddisk'],
  HA351: ['error', 'mysqld before the Filesystem of its datadir'],
  HA352: ['error', 'resource in two groups'],
  HA401: ['error', 'group service started at boot'],
  HA402: ['error', 'replicated filesystem mounted at boot'],
  HA403: ['warning', 'heartbeat not started at boot'],
  HA404: ['warning', 'peer name does not resolve'],
  HA405: ['error', 'VIP configured by the OS at boot'],
  ...SPLIT_BRAIN_CODES,
} as const satisfies Record<string, readonly [Severity, string]>;
export type FindingCode = keyof typeof CODES;

export interface CheckOptions {
  /** Heartbeat's directory as the node sees it (default /etc/ha.d). */
  haDir: string;
  /** This node's name (default: uname -n). */
  node: string;
  /** Where the node's files are: / on the node, a scratch tree in tests. */
  root: string;
  /** Our agents by haresources name. */
  agents: Readonly<Record<string, AgentDefinition>>;
  /** The node's interfaces and routes (ip -j addr / route of this network namespace). */
  interfaces: readonly Interface[];
  routes: readonly Route[];
  env: NodeJS.ProcessEnv;
  /** Resolves a host name (the peer check); undefined = cannot. */
  resolveHost?: (name: string) => Promise<boolean>;
  /** Reads this node's packet filter for heartbeat's UDP port (HA119/HA120); undefined = not looked at. */
  firewall?: (port: number, ifaces: readonly string[]) => Promise<FirewallView>;
}

export interface CheckReport {
  ok: boolean;
  findings: Finding[];
}

/** The text form: `file:line: severity: message — fix` (line left out when 0). */
export function formatFinding(f: Finding): string {
  return `${f.file}${f.line ? `:${f.line}` : ''}: ${f.severity}: ${f.message} [${f.code}] — ${f.fix}`;
}

/** The JSON form the issue specifies: {ok, findings: [{severity, file, line, code, message}]}; message carries the fix. */
export function reportJson(report: CheckReport): string {
  return JSON.stringify({
    ok: report.ok,
    findings: report.findings.map((f) => ({ severity: f.severity, file: f.file, line: f.line, code: f.code, message: `${f.message} — ${f.fix}` })),
  }, null, 2);
}

/** Why a file could not be read, in words. */
export function readErrorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(error));
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return row[b.length]!;
}

export function closestWord(word: string, candidates: Iterable<string>): string | undefined {
  let best: [string, number] | undefined;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (!best || d < best[1]) best = [c, d];
  }
  return best && best[1] <= Math.max(2, Math.floor(word.length / 3)) ? best[0] : undefined;
}

const fmtMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

class Findings {
  readonly list: Finding[] = [];
  add(code: FindingCode, file: string, line: number, message: string, fix: string): void {
    this.list.push({ severity: CODES[code][0], file, line, code, message, fix });
  }
  has(predicate: (f: Finding) => boolean): boolean {
    return this.list.some(predicate);
  }
}

/** Reads under the root: the node's view of its own files. */
class NodeFiles {
  constructor(readonly root: string) {}
  path(nodePath: string): string {
    return this.root === '/' ? nodePath : posix.join(this.root, nodePath);
  }
  read(nodePath: string): string | { error: string } {
    try {
      return readFileSync(this.path(nodePath), 'utf8');
    } catch (error) {
      return { error: readErrorText(error) };
    }
  }
  exists(nodePath: string): boolean {
    return existsSync(this.path(nodePath));
  }
  executable(nodePath: string): boolean {
    try {
      const p = this.path(nodePath);
      if (!statSync(p).isFile()) return false;
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  list(nodePath: string): string[] {
    try {
      return readdirSync(this.path(nodePath)).sort();
    } catch {
      return [];
    }
  }
  isSymlink(nodePath: string): boolean {
    try {
      return lstatSync(this.path(nodePath)).isSymbolicLink();
    } catch {
      return false;
    }
  }
  link(nodePath: string): string | undefined {
    try {
      return readlinkSync(this.path(nodePath));
    } catch {
      return undefined;
    }
  }
  optionSource(): OptionFileSource {
    // my.cnf names node paths (includes too): read them under the root, report them as the node sees them.
    return { readFile: (p) => readFileSync(this.path(p), 'utf8'), listDir: (p) => readdirSync(this.path(p)) };
  }
}

/** Where a resource of the group lives, for ordering and ownership checks. */
interface Resolved {
  group: HaresourcesGroup;
  resource: HaresourcesResource;
  index: number;
  definition?: AgentDefinition;
  params?: Params;
  /** drbddisk: the device drbdadm sh-dev names. */
  drbdDevice?: string;
  /** mysqld: the group's Filesystem that holds its datadir. */
  datadirMount?: GroupMount;
}

interface GroupMount {
  directory: string;
  index: number;
  resource: HaresourcesResource;
}

export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const findings = new Findings();
  const files = new NodeFiles(options.root);
  const haDir = options.haDir.replace(/\/+$/, '') || '/';
  const haCfPath = `${haDir}/ha.cf`;
  const authkeysPath = `${haDir}/authkeys`;
  const haresourcesPath = `${haDir}/haresources`;
  const node = options.node.toLowerCase();

  // ---------------------------------------------------------------- ha.cf
  const haCfText = files.read(haCfPath);
  let entries: HaCfEntry[] = [];
  if (typeof haCfText !== 'string') {
    findings.add('HA101', haCfPath, 0, `cannot read ${haCfPath} (${haCfText.error}); heartbeat does not start without it`, 'create it: node lines for both nodes, keepalive/deadtime, a bcast/mcast/ucast line, auto_failback, logfile');
  } else {
    entries = parseHaCf(haCfText);
    checkHaCf(entries, haCfPath, node, options, findings);
    const add = findings.add.bind(findings);
    checkMediaAndDopd(entries, haCfPath, options.interfaces, add);
    if (options.firewall) {
      const views = new Map<number, FirewallView>();
      for (const [port, ifaces] of heartbeatPorts(entries, options.interfaces)) views.set(port, await options.firewall(port, ifaces));
      checkFirewall(entries, haCfPath, options.interfaces, views, add);
    }
  }
  const nodes = declaredNodes(entries);
  const crmOn = crmEnabled(entries) !== undefined;

  // ---------------------------------------------------------------- authkeys
  checkAuthkeys(files, authkeysPath, findings);

  // ---------------------------------------------------------------- haresources
  const haresourcesText = files.read(haresourcesPath);
  let parsed: Haresources = { groups: [], problems: [] };
  if (typeof haresourcesText !== 'string') {
    if (!crmOn) findings.add('HA301', haresourcesPath, 0, `cannot read ${haresourcesPath} (${haresourcesText.error}); without it heartbeat manages no resources`, 'create it: one line per group, "NODE resource resource ..." (the node that normally holds it)');
  } else if (!crmOn) {
    parsed = parseHaresources(haresourcesText);
    const drbd = await checkHaresources(parsed, haresourcesPath, nodes, typeof haCfText === 'string', options, files, findings);
    checkDrbdFencing(drbd, entries, { read: (p) => { const t = files.read(p); return typeof t === 'string' ? t : undefined; }, list: (d) => files.list(d) }, findings.add.bind(findings));
  }

  // ---------------------------------------------------------------- the node
  if (typeof haCfText === 'string' && !crmOn) {
    await checkNode(parsed, nodes, node, options, files, findings);
    checkWatch(entries, haCfPath, [...bootEnabled(files).keys()], findings.add.bind(findings));
  }
  return { ok: !findings.has((f) => f.severity === 'error'), findings: findings.list };
}

function checkHaCf(entries: readonly HaCfEntry[], file: string, node: string, options: CheckOptions, findings: Findings): void {
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

function checkAuthkeys(files: NodeFiles, file: string, findings: Findings): void {
  const text = files.read(file);
  if (typeof text !== 'string') {
    findings.add('HA201', file, 0, `cannot read ${file} (${text.error}); heartbeat does not start without it`, `create it with "auth 1" and "1 sha1 SECRET" (the same on both nodes), then chmod 600 ${file}`);
    return;
  }
  const mode = statSync(files.path(file)).mode & 0o777;
  if (mode & 0o077) {
    findings.add('HA202', file, 0, `${file} is mode ${mode.toString(8).padStart(4, '0')}; heartbeat refuses to start unless only root can read it ("Bad permissions on keyfile")`, `chmod 600 ${file}`);
  }
  const keys = parseAuthKeys(text);
  for (const bad of keys.invalid) findings.add('HA206', file, bad.line, `"${bad.text}" is neither "auth N" nor "N method secret"`, 'write key lines as "1 sha1 SECRET"');
  for (const key of keys.keys) {
    if (!AUTH_METHODS.has(key.method)) findings.add('HA206', file, key.line, `key ${key.index} uses the unknown method "${key.method}"`, 'use sha1 (or md5)');
    else if (key.method !== 'crc' && !key.secret) findings.add('HA206', file, key.line, `key ${key.index} (${key.method}) has no secret`, `write "${key.index} ${key.method} SECRET" with a long random secret, the same on both nodes`);
  }
  if (!keys.auth) {
    findings.add('HA203', file, 0, 'no "auth N" line: heartbeat does not know which key to use and refuses to start ("Missing auth directive")', `add "auth ${keys.keys[0]?.index ?? 1}"`);
    return;
  }
  const used = keys.keys.find((k) => k.index === keys.auth!.index);
  if (!used) {
    findings.add('HA204', file, keys.auth.line, `auth ${keys.auth.raw} names key ${keys.auth.raw || '(none)'}, but ${keys.keys.length ? `the keys are ${keys.keys.map((k) => k.index).join(', ')}` : 'there is no key line'}`, keys.keys.length ? `write "auth ${keys.keys[0]!.index}" or add a key line "${keys.auth.raw} sha1 SECRET"` : `add "${keys.auth.raw || 1} sha1 SECRET"`);
  } else if (used.method === 'crc') {
    findings.add('HA205', file, used.line, 'key method crc authenticates nothing: anyone on the heartbeat network can send heartbeat messages', 'use "sha1 SECRET" on both nodes');
  }
}

/** Returns the DRBD resources the groups' drbddisk resources name (the split-brain checks read their configuration). */
async function checkHaresources(parsed: Haresources, file: string, nodes: readonly { name: string }[], haveHaCf: boolean, options: CheckOptions, files: NodeFiles, findings: Findings): Promise<{ name: string; conf?: string }[]> {
  for (const p of parsed.problems) {
    if (p.code === 'comment-in-continuation') findings.add('HA306', file, p.line, p.message, 'move the comment to a line of its own (or to the end of the first line of the group)');
    else if (p.code === 'continuation-at-end') findings.add('HA307', file, p.line, p.message, 'remove the backslash or add the continued line');
    else findings.add('HA308', file, p.line, p.message, 'add the resources or remove the line');
  }
  const known = new Set(nodes.map((n) => n.name));
  for (const group of parsed.groups) {
    if (haveHaCf && !known.has(group.node)) {
      const guess = closestWord(group.node, known);
      findings.add('HA302', file, group.line, `node ${group.nodeAsWritten} is not a node in ha.cf (${[...known].join(', ') || 'none'}); heartbeat refuses to start ("Bad nodename in haresources")`, guess ? `did you mean ${guess}?` : 'use a node name from ha.cf (uname -n of the preferred node)');
    }
  }

  const resourceDir = options.env.HA_RESOURCEDIR || `${options.haDir.replace(/\/+$/, '')}/resource.d`;
  const resolved: Resolved[] = [];
  for (const group of parsed.groups) {
    // Words after a "#" on a continued line are reported above (HA306), not as resources of their own.
    const comment = group.resources.findIndex((r) => r.text.startsWith('#'));
    for (const [index, resource] of group.resources.entries()) {
      if ((comment >= 0 && index >= comment) || resource.text === '\\') continue;
      const found = [`${resourceDir}/${resource.script}`, `/etc/init.d/${resource.script}`].find((p) => files.executable(p));
      const definition = options.agents[resource.script];
      const entry: Resolved = { group, resource, index, definition };
      resolved.push(entry);
      if (!found) {
        findings.add('HA303', file, resource.line, `${resource.text}: ResourceManager finds no executable ${resource.script} in ${resourceDir} or /etc/init.d`, definition ? `install the agents (${resourceDir}/${resource.script} → ha-agent)` : `install the init script /etc/init.d/${resource.script} or correct the name`);
      }
      if (!definition) continue;
      try {
        entry.params = resolveParams(definition, paramsFromV1Args(definition, resource.args));
      } catch (error) {
        if (!(error instanceof AgentError)) throw error;
        findings.add('HA304', file, resource.line, `${resource.text}: ${error.message}`, `usage: ${definition.name}::${definition.v1Synopsis.replace(/ /g, '::')}`);
      }
    }
  }
  // One resource in two groups, however it is spelled (198.18.4.1 and IPaddr::198.18.4.1/16/eth1): ours are
  // the same resource when the agent's own lock key says so (the VIP, the mount point, the DRBD resource).
  const seen = new Map<string, Resolved>();
  for (const entry of resolved) {
    const { definition, params, resource } = entry;
    const identity = definition && params ? `${definition.name} ${definition.lockKey(params)}` : `${resource.script} ${resource.args.join(' ')}`;
    const first = seen.get(identity);
    if (!first) seen.set(identity, entry);
    else if (first.group !== entry.group) {
      findings.add('HA352', file, resource.line, `${resource.text} is the same resource as ${first.resource.text} in the group on line ${first.group.line}: two groups would start and stop it${first.resource.text === resource.text ? ' (and takegroup of one finds both lines)' : ''}`, 'keep each resource in one group only');
    }
  }
  // Second pass: every resource's parameters are known, so mysqld sees the Filesystems after it too.
  for (const entry of resolved) if (entry.params) await checkOurResource(entry, resolved, file, options, files, findings);
  checkOrdering(resolved, file, findings);
  // Only resources drbdadm knows (HA320 reports the others).
  return resolved.filter((r) => r.definition?.name === 'drbddisk' && r.params && r.drbdDevice).map((r) => ({ name: r.params!.get('drbd_resource'), conf: r.params!.get('drbdconf') || undefined }));
}

/** Mount points of the group's Filesystem resources, with their index. */
function groupMounts(resolved: readonly Resolved[], group: HaresourcesGroup): GroupMount[] {
  return resolved
    .filter((r) => r.group === group && r.definition?.name === 'Filesystem' && r.params)
    .map((r) => ({ directory: r.params!.get('directory').replace(/\/+$/, ''), index: r.index, resource: r.resource }));
}

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

async function checkOurResource(entry: Resolved, resolved: readonly Resolved[], file: string, options: CheckOptions, files: NodeFiles, findings: Findings): Promise<void> {
  const { resource, params, definition } = entry;
  const p = params!;
  const before = findings.list.length;
  const say = (code: FindingCode, message: string, fix: string) => findings.add(code, file, resource.line, `${resource.text}: ${message}`, fix);
  switch (definition!.name) {
    case 'IPaddr': {
      let spec;
      try {
        spec = parseVipSpec(p);
      } catch (error) {
        if (!(error instanceof AgentError)) throw error;
        say('HA304', error.message, `usage: IPaddr::${definition!.v1Synopsis}`);
        return;
      }
      if (spec.nic && !options.interfaces.some((i) => i.ifname === spec.nic)) {
        say('HA310', `interface ${spec.nic} does not exist on this node`, 'use the interface of the service network here (ip -br link)');
        break;
      }
      const found = findInterfaceForAddress(options.routes, spec.address.family, spec.address.value, { nic: spec.nic, prefix: spec.prefix });
      if (!found) {
        say('HA311', `${spec.ip}${spec.prefix !== undefined ? `/${spec.prefix}` : ''} lies on no network ${spec.nic ? `of ${spec.nic}` : 'of any interface'} here: no on-link route contains it`, `give ${spec.nic ?? 'the interface'} a base address in that network, or correct the VIP or its netmask`);
      }
      break;
    }
    case 'drbddisk': {
      const res = p.get('drbd_resource');
      const env = { ...options.env };
      if (options.root !== '/' && !env.DRBD_DEFAULTS_FILE) env.DRBD_DEFAULTS_FILE = files.path('/etc/default/drbd');
      const tools = resolveDrbdTools(env);
      if ('message' in tools) {
        say('HA321', tools.message, 'fix DRBDADM in /etc/default/drbd');
        break;
      }
      const conf = p.get('drbdconf') ? files.path(p.get('drbdconf')) : options.root !== '/' && files.exists('/etc/drbd.conf') ? files.path('/etc/drbd.conf') : '';
      try {
        const device = await new Drbdadm(tools, res, conf, 5000).device();
        entry.drbdDevice = device;
        if (!device) say('HA321', `${tools.drbdadm.command} sh-dev ${res} gave no device`, 'check the DRBD configuration with drbdadm dump');
      } catch (error) {
        if (!(error instanceof AgentError)) throw error;
        if (/not defined/.test(error.message)) say('HA320', `DRBD resource ${res} is not defined in the DRBD configuration for this node`, `use a resource name from drbdadm sh-resources, or add "resource ${res}" to /etc/drbd.d/`);
        else say('HA321', error.message, 'install drbd-utils; check DRBDADM in /etc/default/drbd');
      }
      break;
    }
    case 'Filesystem': {
      const directory = p.get('directory');
      const fstype = p.get('fstype');
      if (!files.exists(directory)) say('HA330', `mount point ${directory} does not exist on this node (the agent creates it at start, but on the standby an empty directory is where MySQL could write by mistake)`, `mkdir ${directory} on both nodes`);
      if (fstype && fstype !== 'none' && fstypeSupport(fstype) === 'unknown') {
        say('HA331', `filesystem type ${fstype} is neither in /proc/filesystems nor a kernel module here; the Filesystem agent refuses it and mount would fail`, `install the module (or use the type mkfs made: blkid ${p.get('device')})`);
      }
      break;
    }
    case 'mysqld':
      checkMysqld(entry, resolved, options, files, say);
      break;
  }
  // The agent's own validate-all, on the node itself only (it reads the node's real paths).
  if (options.root === '/' && findings.list.length === before && definition!.validate) {
    const ctx: AgentContext = {
      params: p, mode: 'v1', action: 'validate-all', timeoutMs: 20_000, deadline: Date.now() + 18_000, checkLevel: 0, isProbe: false,
      env: { ...options.env, HA_DIR: options.haDir },
    };
    try {
      await definition!.validate(ctx);
    } catch (error) {
      if (!(error instanceof AgentError)) throw error;
      say('HA305', `validate-all: ${error.message}`, `run ${definition!.name} ${resource.args.join(' ')} validate-all after fixing it`);
    }
  }
}

function checkMysqld(entry: Resolved, resolved: readonly Resolved[], options: CheckOptions, files: NodeFiles, say: (code: FindingCode, message: string, fix: string) => void): void {
  const p = entry.params!;
  const config = p.get('config');
  let entries;
  try {
    entries = config ? readOptionFiles([config], files.optionSource()) : readOptionFiles(DEFAULT_CONFIG_FILES, files.optionSource(), { optional: true });
  } catch (error) {
    if (!(error instanceof OptionFileError)) throw error;
    say('HA340', `${error.message}`, config ? `create ${config} or correct mysqld::PATH` : 'fix the option file');
    return;
  }
  const settings = resolveServerSettings(entries, {
    binary: p.get('binary'), datadir: p.get('datadir'), user: p.get('user'), group: p.get('group'), log: p.get('log'), pid: p.get('pid'), socket: p.get('socket'),
  }, options.node, (path) => files.exists(path));
  if (!files.exists(settings.binary)) say('HA343', `server binary ${settings.binary} not found on this node`, 'install mariadb-server (or set binary)');
  // A Filesystem of the group whose arguments do not parse (HA304) may be the one holding the datadir: say nothing more.
  if (resolved.some((r) => r.group === entry.group && r.definition?.name === 'Filesystem' && !r.params)) return;
  const mounts = groupMounts(resolved, entry.group);
  const holder = p.has('datadir_mountpoint')
    ? mounts.find((m) => m.directory === p.get('datadir_mountpoint').replace(/\/+$/, ''))
    : mounts.filter((m) => under(settings.datadir, m.directory)).sort((a, b) => b.directory.length - a.directory.length)[0];
  const where = config || 'my.cnf';
  if (!holder) {
    say('HA341', `datadir ${settings.datadir} (${settings.origin.datadir === 'config' ? `from ${where}` : settings.origin.datadir}) is under no Filesystem mount point of this group (${mounts.map((m) => m.directory).join(', ') || 'none'}): MySQL would run on the node's local disk and the peer would not have the data`, `set datadir in ${where} to a directory on the replicated filesystem (e.g. ${mounts[0]?.directory ?? '/data'}/mysql)`);
  } else {
    entry.datadirMount = holder;
    if (settings.logBin && !under(settings.logBin, holder.directory)) {
      say('HA342', `log-bin ${settings.logBin} is not on ${holder.directory} with the datadir: after a failover the other node has none of these binlogs and replicas following the VIP break`, `set log-bin in ${where} to ${holder.directory}/…, e.g. ${holder.directory}/mysql-bin`);
    }
  }
}


function checkOrdering(resolved: readonly Resolved[], file: string, findings: Findings): void {
  for (const r of resolved) {
    if (r.definition?.name !== 'Filesystem' || !r.params) continue;
    const device = r.params.get('device');
    const drbd = /^\/dev\/drbd(\d+)$/.exec(device) ?? /^\/dev\/drbd\/by-res\/([^/]+)/.exec(device);
    if (!drbd) continue;
    const same = resolved.filter((x) => x.group === r.group && x.definition?.name === 'drbddisk' && x.params);
    const owner = same.find((x) => x.drbdDevice === device || (drbd[0].startsWith('/dev/drbd/by-res/') && x.params!.get('drbd_resource') === drbd[1]));
    const candidates = owner ? [owner] : same.filter((x) => x.drbdDevice === undefined);
    if (candidates.length && candidates.every((x) => x.index > r.index)) {
      const d = candidates[0]!;
      findings.add('HA350', file, r.resource.line, `${r.resource.text} mounts ${device} before ${d.resource.text} makes it Primary: the mount fails on a Secondary (and the whole group is given up)`, `put ${d.resource.text} before ${r.resource.text} in the line`);
    } else if (!candidates.length) {
      findings.add('HA350', file, r.resource.line, `${r.resource.text} mounts ${device}, but no drbddisk in this group makes that DRBD device Primary`, `add drbddisk::RESOURCE (the resource of ${device}) before ${r.resource.text}`);
    }
  }
  for (const r of resolved) {
    if (r.definition?.name !== 'mysqld' || !r.datadirMount) continue;
    if (r.datadirMount.index > r.index) {
      findings.add('HA351', file, r.resource.line, `${r.resource.text} starts before ${r.datadirMount.resource.text} mounts its datadir: MySQL would start on the empty mount point`, `put ${r.resource.text} after ${r.datadirMount.resource.text}`);
    }
  }
}

/** Init script names and systemd units that start what a resource manages. */
function bootUnitsFor(r: Resolved): string[] {
  if (!r.definition) return [r.resource.script];
  if (r.definition.name === 'mysqld') return ['mysql', 'mysqld', 'mariadb'];
  return [];
}

async function checkNode(parsed: Haresources, nodes: readonly { name: string }[], node: string, options: CheckOptions, files: NodeFiles, findings: Findings): Promise<void> {
  const services = new Map<string, HaresourcesResource>();
  for (const group of parsed.groups) {
    for (const resource of group.resources) {
      const definition = options.agents[resource.script];
      const units = bootUnitsFor({ group, resource, index: 0, definition });
      for (const u of units) if (!services.has(u)) services.set(u, resource);
    }
  }
  const bootLinks = bootEnabled(files);
  for (const [service, resource] of services) {
    for (const where of bootLinks.get(service) ?? []) {
      findings.add('HA401', where, 0, `${service} starts at boot (${where}), but heartbeat manages it (${resource.text}): after a reboot it runs on both nodes, on a disk that is not mounted`, where.includes('systemd') ? `systemctl disable ${service} (or: rm ${where})` : `update-rc.d ${service} disable (or: rm ${where})`);
    }
  }
  if (!(bootLinks.get('heartbeat') ?? []).length) {
    findings.add('HA403', '/etc/init.d/heartbeat', 0, 'heartbeat is not started at boot: after a reboot this node stays out of the cluster until someone starts it', 'systemctl enable heartbeat (leave it off only if a person must decide after every reboot, as the tutorial does)');
  }

  // The VIP in the OS's own network configuration: up on both nodes after a reboot (ResourceManager's
  // VerifyAllIdle comment calls it the most common cause of "resource is active, and should not be").
  const ipaddr = options.agents.IPaddr;
  const vips = new Map<string, HaresourcesResource>();
  for (const r of parsed.groups.flatMap((g) => g.resources).filter((x) => x.script === 'IPaddr' && ipaddr)) {
    try {
      const address = parseAddress(paramsFromV1Args(ipaddr!, r.args).ip ?? '');
      if (address && !vips.has(canonicalAddress(address))) vips.set(canonicalAddress(address), r);
    } catch {
      // Arguments that do not parse are HA304.
    }
  }
  if (vips.size) {
    const netFiles = ['/etc/network/interfaces', ...files.list('/etc/network/interfaces.d').map((n) => `/etc/network/interfaces.d/${n}`)];
    for (const path of netFiles) {
      const text = files.read(path);
      if (typeof text !== 'string') continue;
      text.split('\n').forEach((raw, index) => {
        for (const word of raw.replace(/#.*/, '').split(/[\s/]+/)) {
          const address = parseAddress(word);
          const vip = address && vips.get(canonicalAddress(address));
          if (!vip) continue;
          findings.add('HA405', path, index + 1, `${word} is configured here, so the OS brings it up at boot on this node, but heartbeat manages it (${vip.text}): after a reboot both nodes answer for it`, 'remove it from the OS network configuration; heartbeat adds it where the group runs');
          break;
        }
      });
    }
  }

  // Replicated filesystems mounted from /etc/fstab at boot.
  const fstab = files.read('/etc/fstab');
  if (typeof fstab === 'string') {
    const ours = parsed.groups.flatMap((g) => g.resources).filter((r) => r.script === 'Filesystem' && r.args.length >= 2);
    fstab.split('\n').forEach((raw, index) => {
      const f = raw.replace(/#.*/, '').trim().split(/\s+/);
      if (f.length < 2) return;
      const [device, mountPoint, , opts = 'defaults'] = f as [string, string, string?, string?];
      const match = ours.find((r) => r.args[1]!.replace(/\/+$/, '') === mountPoint.replace(/\\040/g, ' ').replace(/\/+$/, '') || r.args[0] === device);
      if (!match || opts.split(',').includes('noauto')) return;
      findings.add('HA402', '/etc/fstab', index + 1, `${device} on ${mountPoint} is mounted at boot, but heartbeat mounts it (${match.text}): after a reboot both nodes could have it mounted`, opts === 'defaults' ? 'replace "defaults" with "noauto" in that line, or remove the line' : `make its options "${opts},noauto", or remove the line`);
    });
  }

  // The peer's name resolves (heartbeat's own messages do not need it; people and tools do).
  const hosts = files.read('/etc/hosts');
  const hostNames = new Set(typeof hosts === 'string' ? hosts.split('\n').flatMap((l) => l.replace(/#.*/, '').trim().split(/\s+/).slice(1)).map((h) => h.toLowerCase()) : []);
  for (const peer of new Set(nodes.map((n) => n.name).filter((n) => n !== node))) {
    if (hostNames.has(peer)) continue;
    if (options.root === '/' && options.resolveHost && (await options.resolveHost(peer))) continue;
    findings.add('HA404', '/etc/hosts', 0, `the peer's name ${peer} does not resolve${options.root === '/' ? '' : ' (not in /etc/hosts)'}`, `add "ADDRESS ${peer}" to /etc/hosts on both nodes (the address of its heartbeat or service link)`);
  }
}

/** service → the files that start it at boot: /etc/rc[2-5].d/S* links and systemd *.wants links (read as files). */
function bootEnabled(files: NodeFiles): Map<string, string[]> {
  const enabled = new Map<string, string[]>();
  const add = (service: string, where: string) => {
    const list = enabled.get(service) ?? [];
    if (!list.includes(where)) list.push(where);
    enabled.set(service, list);
  };
  for (const level of ['2', '3', '4', '5']) {
    const dir = `/etc/rc${level}.d`;
    for (const name of files.list(dir)) {
      const m = /^S\d\d(.+)$/.exec(name);
      if (!m) continue;
      const target = files.link(`${dir}/${name}`);
      add(target ? posix.basename(target) : m[1]!, `${dir}/${name}`);
    }
  }
  for (const base of ['/etc/systemd/system']) {
    for (const sub of files.list(base).filter((n) => n.endsWith('.wants'))) {
      for (const name of files.list(`${base}/${sub}`)) {
        if (!name.endsWith('.service') || !files.isSymlink(`${base}/${sub}/${name}`)) continue;
        const target = files.link(`${base}/${sub}/${name}`) ?? '';
        const unit = name.replace(/\.service$/, '');
        add(unit, `${base}/${sub}/${name}`);
        // An alias (mysql.service → mariadb.service) enables the service it points to.
        const aliasOf = posix.basename(target).replace(/\.service$/, '');
        if (aliasOf && aliasOf !== unit) add(aliasOf, `${base}/${sub}/${name}`);
      }
    }
  }
  return enabled;
}
