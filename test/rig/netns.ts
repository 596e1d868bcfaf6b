import { execa } from 'execa';

// A little LAN made of network namespaces: one "switch" namespace holding a
// bridge, and "node" namespaces each plugged into it by veth pairs whose
// node end is named like a real NIC (eth1). Nothing is created in the root
// namespace: veth pairs are made inside the switch namespace and their node
// end is moved straight into its node. Addresses come from 198.18.0.0/15 and
// fd00::/8 only. `destroy()` ends whatever still runs inside the namespaces
// (the announcers our agents started there) and deletes them; call it from
// t.teardown so it runs on failure too.

export interface NodeSpec {
  /** Short name, unique in the LAN ("a", "b", "client"). */
  name: string;
  /** NICs to create, all on the bridge; default ["eth1"]. */
  nics?: string[];
  /** NICs to create with their switch end left out of the bridge (link up, no peers). */
  unplugged?: string[];
  /** Base addresses on the first NIC, "198.18.0.1/24", "fd00::1/64". */
  addresses?: string[];
  /** sysctl settings inside the node, e.g. { 'net.ipv4.conf.all.arp_accept': '1' }. */
  sysctls?: Record<string, string>;
}

export interface LanNode {
  name: string;
  ns: string;
  nics: string[];
  /** MAC address per NIC. */
  macs: Record<string, string>;
}

export interface Lan {
  switchNs: string;
  nodes: Record<string, LanNode>;
  /** Runs a command inside a node's namespace. */
  exec(node: string, cmd: string, args: readonly string[], options?: { reject?: boolean }): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  destroy(): Promise<void>;
}

const SAFE_V4 = /^198\.(18|19)\./;
const SAFE_V6 = /^fd[0-9a-f]{2}:/i;

export function assertTestAddress(address: string): void {
  const ip = address.split('/')[0]!;
  if (!SAFE_V4.test(ip) && !SAFE_V6.test(ip)) throw new Error(`test address ${address} is outside 198.18.0.0/15 and fd00::/8`);
}

async function ip(args: readonly string[]) {
  return execa('ip', args as string[], { timeout: 20_000 });
}

/** Names unique to this test process: tap runs test files in parallel. */
export function uniquePrefix(tag: string): string {
  return `${tag}${process.pid}`;
}

export async function createLan(tag: string, specs: readonly NodeSpec[]): Promise<Lan> {
  const prefix = uniquePrefix(tag);
  const switchNs = `${prefix}-sw`;
  const created: string[] = [];
  const lan: Lan = {
    switchNs,
    nodes: {},
    async exec(node, cmd, args, options = {}) {
      const target = lan.nodes[node];
      if (!target) throw new Error(`no node ${node}`);
      const r = await execa('ip', ['netns', 'exec', target.ns, cmd, ...args], { reject: options.reject ?? true, timeout: 60_000 });
      return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
    },
    async destroy() {
      for (const ns of [...created].reverse()) await destroyNamespace(ns);
      created.length = 0;
    },
  };
  try {
    await ip(['netns', 'add', switchNs]);
    created.push(switchNs);
    await ip(['-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    // No STP listening delay: ports forward at once.
    await ip(['-n', switchNs, 'link', 'set', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    await ip(['-n', switchNs, 'link', 'set', 'br0', 'up']);
    let port = 0;
    for (const spec of specs) {
      const ns = `${prefix}-${spec.name}`;
      await ip(['netns', 'add', ns]);
      created.push(ns);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      for (const [key, value] of Object.entries(spec.sysctls ?? {})) {
        await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
      }
      const nics = [...(spec.nics ?? ['eth1']), ...(spec.unplugged ?? [])];
      const macs: Record<string, string> = {};
      for (const nic of nics) {
        const switchPort = `p${port++}`;
        await ip(['-n', switchNs, 'link', 'add', switchPort, 'type', 'veth', 'peer', 'name', nic, 'netns', ns]);
        if (spec.unplugged?.includes(nic)) await ip(['-n', switchNs, 'link', 'set', switchPort, 'up']);
        else await ip(['-n', switchNs, 'link', 'set', switchPort, 'master', 'br0', 'up']);
        await ip(['-n', ns, 'link', 'set', nic, 'up']);
        const link = JSON.parse(String((await ip(['-j', '-n', ns, 'link', 'show', 'dev', nic])).stdout)) as { address: string }[];
        macs[nic] = link[0]!.address;
      }
      for (const address of spec.addresses ?? []) {
        assertTestAddress(address);
        // Base addresses skip DAD: the rig's own addresses need not wait.
        await ip(['-n', ns, 'addr', 'add', address, 'dev', nics[0]!, ...(address.includes(':') ? ['nodad'] : [])]);
      }
      lan.nodes[spec.name] = { name: spec.name, ns, nics, macs };
    }
  } catch (error) {
    await lan.destroy();
    throw error;
  }
  return lan;
}

/** Ends the processes left inside (by PID, found with `ip netns pids`) and deletes the namespace. */
export async function destroyNamespace(ns: string): Promise<void> {
  const pids = await execa('ip', ['netns', 'pids', ns], { reject: false });
  for (const pid of String(pids.stdout).split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await execa('ip', ['netns', 'del', ns], { reject: false });
}

/** The link-layer address a node's neighbour table holds for `address`, or undefined. */
export async function neighbourMac(lan: Lan, node: string, address: string): Promise<string | undefined> {
  const family = address.includes(':') ? '-6' : '-4';
  const { stdout } = await lan.exec(node, 'ip', ['-j', family, 'neigh', 'show', address]);
  const entries = JSON.parse(stdout.trim() || '[]') as { lladdr?: string; state?: string[] }[];
  return entries.find((e) => e.lladdr && !(e.state ?? []).includes('FAILED'))?.lladdr;
}
