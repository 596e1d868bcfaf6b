// Does this node's packet filter drop heartbeat's UDP port? The tutorial
// names a firewall as one cause of split brain: heartbeats dropped while the
// service LAN still works. We read the rulesets as root (`nft -j list
// ruleset`, which also holds iptables-nft's rules, and `iptables-save` for
// the legacy backend) and look for a rule in an input or output chain that
// drops or rejects UDP to the port, on a heartbeat interface or on any, or a
// chain whose policy drops with no rule accepting the port. Parsers are pure
// (fixtures: captured real output); reading is at the edge (readFirewall).

export interface Blocking {
  /** Where: "nftables inet filter input" or "iptables filter INPUT". */
  where: string;
  /** The rule or policy, in the tool's own words. */
  rule: string;
  /** Interface the rule is limited to, if any. */
  iface?: string;
}

type Json = Record<string, unknown>;

/** A port match's right-hand side: 694, {set: [...]}, {range: [a, b]}, or a set of those. */
function portMatches(right: unknown, port: number): boolean {
  if (typeof right === 'number') return right === port;
  if (Array.isArray(right)) return right.some((r) => portMatches(r, port));
  if (right && typeof right === 'object') {
    const o = right as Json;
    if (Array.isArray(o.set)) return o.set.some((r) => portMatches(r, port));
    if (Array.isArray(o.range)) return Number(o.range[0]) <= port && port <= Number(o.range[1]);
  }
  return false;
}

interface RuleView {
  /** undefined: no port match; true/false: the rule's dport match contains the port. */
  port?: boolean;
  /** The protocol it is limited to (udp, tcp...), if any. */
  proto?: string;
  iface?: string;
  /** The rule matches something we do not model (an address, a mark, ct state...). */
  narrower: boolean;
  verdict?: 'accept' | 'drop' | 'reject';
}

function viewNftRule(expr: readonly Json[], port: number, direction: 'input' | 'output'): RuleView {
  const view: RuleView = { narrower: false };
  for (const e of expr) {
    if ('accept' in e) view.verdict = 'accept';
    else if ('drop' in e) view.verdict = 'drop';
    else if ('reject' in e) view.verdict = 'reject';
    const m = e.match as Json | undefined;
    if (!m) {
      // Counters, logs and verdicts change nothing; anything else (xt matches, jumps, limits) is not modelled.
      if (!['counter', 'log', 'accept', 'drop', 'reject', 'comment'].some((k) => k in e)) view.narrower = true;
      continue;
    }
    const left = m.left as Json;
    const payload = left?.payload as Json | undefined;
    const meta = left?.meta as Json | undefined;
    const negated = m.op === '!=';
    if (payload && payload.field === 'dport') {
      view.proto = String(payload.protocol);
      view.port = portMatches(m.right, port) !== negated;
    } else if (meta && ['iifname', 'oifname', 'iif', 'oif'].includes(String(meta.key)) && !negated && typeof m.right === 'string') {
      if ((direction === 'input') === String(meta.key).startsWith('i')) view.iface = m.right;
      else view.narrower = true;
    } else if (meta && meta.key === 'l4proto' && typeof m.right === 'string') {
      view.proto = m.right;
    } else {
      view.narrower = true;
    }
  }
  return view;
}

const HOOKS = { input: 'input', output: 'output' } as const;

/** Rules and policies in `nft -j list ruleset` that drop heartbeat's UDP `port` (on one of `ifaces`, or on any). */
export function nftBlocking(json: string, port: number, ifaces: readonly string[]): Blocking[] {
  const items = ((JSON.parse(json) as { nftables?: Json[] }).nftables ?? []);
  const chains = new Map<string, { hook: 'input' | 'output'; policy?: string; name: string }>();
  for (const item of items) {
    const c = item.chain as Json | undefined;
    if (!c || typeof c.hook !== 'string' || !(c.hook in HOOKS) || c.type !== 'filter') continue;
    if (!['inet', 'ip', 'ip6'].includes(String(c.family))) continue;
    chains.set(`${c.family} ${c.table} ${c.name}`, { hook: c.hook as 'input' | 'output', policy: c.policy as string | undefined, name: `nftables ${c.family} ${c.table} ${c.name}` });
  }
  const found: Blocking[] = [];
  const accepted = new Set<string>();
  for (const item of items) {
    const r = item.rule as Json | undefined;
    if (!r) continue;
    const key = `${r.family} ${r.table} ${r.chain}`;
    const chain = chains.get(key);
    if (!chain || accepted.has(key)) continue;
    const v = viewNftRule((r.expr as Json[]) ?? [], port, chain.hook);
    if (v.proto && v.proto !== 'udp') continue;
    if (v.port === false) continue;
    if (v.iface && !ifaces.includes(v.iface)) continue;
    if (v.verdict === 'accept' && !v.narrower) {
      // Rules run in order: an accept for the port before any drop lets heartbeat through in this chain.
      accepted.add(key);
    } else if ((v.verdict === 'drop' || v.verdict === 'reject') && !v.narrower) {
      // No port match at all (every UDP packet, or every packet) drops heartbeat's too.
      found.push({ where: chain.name, rule: `${v.proto ?? 'every packet'}${v.port ? ` dport ${port}` : ''}${v.iface ? ` on ${v.iface}` : ''} ${v.verdict}`, iface: v.iface });
      accepted.add(key); // one per chain
    }
  }
  for (const [key, chain] of chains) {
    if (chain.policy === 'drop' && !accepted.has(key) && !found.some((f) => f.where === chain.name)) {
      found.push({ where: chain.name, rule: `policy drop, no rule accepts udp port ${port}` });
    }
  }
  return found;
}

/** The same from `iptables-save` (or ip6tables-save) output: the filter table's INPUT and OUTPUT chains. */
export function iptablesBlocking(save: string, port: number, ifaces: readonly string[], tool = 'iptables'): Blocking[] {
  const found: Blocking[] = [];
  let table = '';
  const policies = new Map<string, string>();
  const accepted = new Set<string>();
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    if (table !== 'filter') continue;
    const pol = /^:(INPUT|OUTPUT) (\S+)/.exec(line);
    if (pol) policies.set(pol[1]!, pol[2]!);
    const m = /^-A (INPUT|OUTPUT) (.*)$/.exec(line);
    if (!m) continue;
    const chain = m[1]!;
    if (accepted.has(chain)) continue;
    const words = m[2]!.split(/\s+/);
    const opt = (name: string) => {
      const i = words.indexOf(name);
      return i >= 0 && words[i - 1] !== '!' ? words[i + 1] : undefined;
    };
    const proto = opt('-p');
    if (proto && proto !== 'udp') continue;
    const target = opt('-j');
    const iface = opt(chain === 'INPUT' ? '-i' : '-o');
    if (iface && !ifaces.includes(iface)) continue;
    const dport = opt('--dport') ?? opt('--dports') ?? opt('--destination-port');
    let portHit: boolean | undefined;
    if (dport !== undefined) {
      portHit = dport.split(',').some((p) => {
        const [a, b] = p.split(':').map(Number);
        return b === undefined ? a === port : a! <= port && port <= b;
      });
      if (!portHit) continue;
    }
    // Anything else we do not model (-s, -d, -m state, marks) makes the rule narrower: not counted either way.
    const known = new Set(['-A', chain, '-p', 'udp', '-m', 'udp', 'multiport', '-j', target ?? '', '-i', '-o', iface ?? '', '--dport', '--dports', '--destination-port', dport ?? '', '--reject-with', opt('--reject-with') ?? '', 'comment', '--comment', opt('--comment') ?? '']);
    const narrower = words.some((w) => !known.has(w) && !(w.startsWith('"') || w.endsWith('"')));
    if (narrower) continue;
    if (target === 'ACCEPT') accepted.add(chain);
    else if (target === 'DROP' || target === 'REJECT') {
      found.push({ where: `${tool} filter ${chain}`, rule: line, iface });
      accepted.add(chain);
    }
  }
  for (const [chain, policy] of policies) {
    if (policy === 'DROP' && !accepted.has(chain) && !found.some((f) => f.where === `${tool} filter ${chain}`)) {
      found.push({ where: `${tool} filter ${chain}`, rule: `:${chain} DROP (policy), no rule accepts udp port ${port}` });
    }
  }
  return found;
}

/** What the node's packet filter says, or why it cannot be told. */
export type FirewallView =
  | { readable: true; sources: string[]; blocking: Blocking[] }
  | { readable: false; why: string };

export interface FirewallTools {
  /** Runs a command; undefined when it is not installed. */
  run(command: string, args: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string } | undefined>;
  isRoot: boolean;
}

/**
 * Reads nftables and iptables-save (ip6tables-save). With iptables-nft (the
 * header says "(nf_tables)") the same chains are in both: iptables' reading
 * of them replaces nft's.
 */
export async function readFirewall(port: number, ifaces: readonly string[], tools: FirewallTools): Promise<FirewallView> {
  if (!tools.isRoot) return { readable: false, why: 'not run as root: the kernel shows the rulesets to root only' };
  const sources: string[] = [];
  const blocking: Blocking[] = [];
  const failures: string[] = [];
  const nft = await tools.run('nft', ['-j', 'list', 'ruleset']);
  if (nft?.exitCode === 0) {
    try {
      blocking.push(...nftBlocking(nft.stdout || '{"nftables":[]}', port, ifaces));
      sources.push('nft');
    } catch {
      failures.push('nft -j list ruleset gave no JSON');
    }
  } else if (nft) failures.push(`nft -j list ruleset: ${nft.stderr.trim().split('\n')[0] ?? `exit ${nft.exitCode}`}`);
  for (const [save, name] of [['iptables-save', 'iptables'], ['ip6tables-save', 'ip6tables']] as const) {
    const r = await tools.run(save, []);
    if (!r) continue;
    if (r.exitCode !== 0) {
      failures.push(`${save}: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`}`);
      continue;
    }
    const found = iptablesBlocking(r.stdout, port, ifaces, name);
    if (/\(nf_tables\)/.test(r.stdout)) {
      // iptables-nft: its chains are in nft's ruleset too, but there its matches (multiport, state...) are
      // opaque "xt" expressions. Its own words are the better reading: drop nft's view of those chains.
      const family = name === 'iptables' ? 'ip' : 'ip6';
      for (let i = blocking.length - 1; i >= 0; i--) if (new RegExp(`^nftables ${family} filter (INPUT|OUTPUT)$`).test(blocking[i]!.where)) blocking.splice(i, 1);
    }
    blocking.push(...found);
    sources.push(save);
  }
  if (!sources.length) {
    return { readable: false, why: failures.length ? failures.join('; ') : 'neither nft nor iptables-save is installed' };
  }
  return { readable: true, sources, blocking };
}
