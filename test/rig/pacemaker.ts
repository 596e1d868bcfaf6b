import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { execa } from 'execa';
import { AGENTS_DIR, ROOT } from './agents.ts';
import { INIT_SQL, MY_CNF, sleep, type TimelineEvent } from './cluster.ts';
import { FenceWatcher } from './fence/watcher.ts';
import { SharedDisk, setUpOrTearDown } from './cluster-parts.ts';
import { hasLocalAddress, hasMountOn, isDrbdPrimary } from './node-state.ts';
import { Sandbox, ip, netnsAdd, netnsDelete } from './sandbox.ts';
import { startVipWriter, type VipWriter, type WriterRecord } from './vip-writer.ts';

// The N-node Pacemaker + Corosync cluster on one machine (issue 16): each
// node is a sandbox (sandbox.ts: its own network, mount, UTS and PID
// namespace, private root with stubs for reboot/pkill, private /run, /var,
// /dev/shm and a sysfs of its own network namespace) plugged into one LAN
// bridge. Per node, private and kept across a node's reboots (a disk):
// /var/lib/pacemaker (the CIB), /var/lib/corosync, /var/log. /etc/corosync
// comes from the private /etc overlay (corosync.conf, a shared authkey).
// The build directory is OCF provider "hara" in every node; the stock
// providers (heartbeat, pacemaker, linbit) stay where they are. One loop
// image is /dev/drbd1 in every node, the drbdadm double keeps one shared
// DRBD state. Fencing is stonith:fence_hara (test/rig/fence/): a request in
// a shared directory, carried out by the host-side watcher, which powers
// the target off (its PID-namespace init killed, its network namespace
// deleted) and, for a reboot, on again.

export const VIP = '198.18.4.1';
const CLIENT_ADDR = '198.18.4.4';
const PATH_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const nodeAddress = (index: number) => `198.18.4.${11 + index}`;

export type Flavour = 'ours' | 'stock';

export interface PacemakerOptions {
  /** Unique id (namespaces, work directory): include process.pid. Short: it names interfaces. */
  id: string;
  /** Node count (3 by default): master1 … masterN. */
  nodes?: number;
  agentsDir?: string;
  workBase?: string;
  say?: (line: string) => void;
  /** A fenced reboot powers the node on again (default true). */
  rebootPowersOn?: boolean;
}

/** Who holds what on one node, read from the host side. */
export interface PcmkNodeState {
  node: string;
  up: boolean;
  vip: boolean;
  mounted: boolean;
  primary: boolean;
  mysqld: boolean;
}

/** The group's members by what they do (names come from the configuration). */
export interface GroupNames {
  group: string;
  vip: string;
  drbd: string;
  fs: string;
  db: string;
}

export interface CrmStatus {
  dc?: string;
  online: string[];
  /** resource id → nodes it is active on. */
  active: Record<string, string[]>;
  /** resource id → agent (ocf:hara:IPaddr ...). */
  agents: Record<string, string>;
  /** group id → member ids in order. */
  groups: Record<string, string[]>;
  /** Failed operations Pacemaker still records (rc: the exit reason, else the exit status text). */
  failures: { resource: string; node: string; op: string; rc: string }[];
}

// ---------------------------------------------------------------- configs

export function corosyncConf(nodes: readonly string[]): string {
  return `# ha-resource-agents Pacemaker rig: knet on the LAN, crash noticed in ~1 s
totem {
  version: 2
  cluster_name: hara
  transport: knet
  token: 500
  token_coefficient: 0
  join: 50
  consensus: 600
  crypto_cipher: aes256
  crypto_hash: sha256
}
nodelist {
${nodes.map((name, i) => `  node {\n    ring0_addr: ${nodeAddress(i)}\n    name: ${name}\n    nodeid: ${i + 1}\n  }`).join('\n')}
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_stderr: no
  to_syslog: no
  timestamp: on
}
`;
}

/** A first CIB: a DC is elected after 2 s instead of 20; no fencing until the rig configures it. */
const SEED_CIB = `<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
`;

/** The cluster-wide part of the configuration: real fencing through the host, quorum policy. */
export function fencingCrm(nodes: readonly string[]): string {
  return `primitive fence_rig stonith:fence_hara \\
  params pcmk_host_list="${nodes.join(' ')}" pcmk_host_check=static-list pcmk_reboot_timeout=60s \\
  op monitor interval=60s timeout=20s
property stonith-enabled=true stonith-action=reboot no-quorum-policy=stop stonith-timeout=60s
`;
}

/** The tutorial's haresources line for this rig (what a heartbeat user has). */
export const HARESOURCES = `master1 IPaddr::${VIP}/16/eth1 drbddisk::data Filesystem::/dev/drbd1::/data::ext3 mysqld\n`;

/**
 * The same group with Debian's stock agents, written like `ha-agent
 * crm-config` writes ours (same monitor interval, timeouts, location
 * preference and stickiness) so that only the agents differ. DRBD is our
 * drbddisk on both sides: ocf:linbit:drbd needs the kernel module (see the
 * README). The stock mysql agent runs mariadbd itself, as ours does (its
 * default, mysqld_safe, would restart a killed server behind Pacemaker's back).
 */
export const STOCK_GROUP_CRM = `primitive vip ocf:heartbeat:IPaddr2 \\
  params ip=${VIP} cidr_netmask=16 nic=eth1 \\
  op monitor interval=10s timeout=20s op start timeout=20s interval=0s op stop timeout=20s interval=0s
primitive drbd_data ocf:hara:drbddisk \\
  params drbd_resource=data \\
  op monitor interval=10s timeout=20s op start timeout=20s interval=0s op stop timeout=20s interval=0s
primitive fs_data ocf:heartbeat:Filesystem \\
  params device=/dev/drbd1 directory=/data fstype=ext3 \\
  op monitor interval=10s timeout=40s op start timeout=60s interval=0s op stop timeout=60s interval=0s
primitive mysql ocf:heartbeat:mysql \\
  params binary=/usr/sbin/mariadbd config=/etc/mysql/my.cnf datadir=/data user=mysql group=mysql \\
    log=/var/log/mysql/error.log pid=/run/mysqld/mysqld.pid socket=/run/mysqld/mysqld.sock \\
  op monitor interval=10s timeout=30s op start timeout=120s interval=0s op stop timeout=120s interval=0s
group mysql_group vip drbd_data fs_data mysql
location mysql_group-on-master1 mysql_group 100: master1
rsc_defaults rsc-options: resource-stickiness=200
`;

/** Our group as `ha-agent crm-config` (the build under test) writes it for HARESOURCES: the migration path. */
export async function crmConfigOfHaresources(agentsDir = AGENTS_DIR, work = '/tmp'): Promise<string> {
  const file = `${work}/haresources`;
  writeFileSync(file, HARESOURCES);
  const r = await execa(`${agentsDir}/ha-agent`, ['crm-config', file], { reject: false });
  if (r.exitCode !== 0) throw new Error(`ha-agent crm-config ${file} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

const DRBD_CONF = (nodes: readonly string[]) => `# the tutorial's resource on DRBD 9 with ${nodes.length} nodes (the drbdadm double serves it)
global { usage-count no; }
resource data {
  device /dev/drbd1; disk /dev/sdb1; meta-disk internal;
${nodes.map((n, i) => `  on ${n} { address ${nodeAddress(i)}:7788; node-id ${i}; }`).join('\n')}
  connection-mesh { hosts ${nodes.join(' ')}; }
}
`;

// The double models one peer; with three nodes a promotion must also be
// refused while any other live node is Primary, as DRBD 9 refuses it.
const drbdWrapper = (prog: string) => `#!/bin/bash
# Pacemaker rig: drbd-utils' ${prog} is the test double (test/doubles/${prog}), one state for all nodes
export DRBD_DOUBLE_STATE=/var/lib/drbd-double DRBD_DOUBLE_LOG=/var/log/drbdadm-calls.log
if [[ ${prog} == drbdadm && " $* " == *" primary "* ]]; then
  read -r me </proc/sys/kernel/hostname
  for f in /var/lib/drbd-double/res/data/role.*; do
    peer=\${f##*/role.}
    [[ $peer == "$me" || -f /var/lib/drbd-double/res/data/down-at.$peer ]] && continue
    read -r role <"$f"
    if [[ $role == Primary ]]; then
      echo "1: State change failed: (-1) Multiple primaries not allowed by config" >&2
      echo "Command 'drbdsetup primary data' terminated with exit code 11" >&2
      exit 11
    fi
  done
fi
exec /opt/drbd-double/${prog} "$@"
`;

// ---------------------------------------------------------------- cluster

interface NodeRecord {
  name: string;
  index: number;
  ns: string;
  sandbox?: Sandbox;
  boots: number;
  /** pacemaker.log length when the current boot started. */
  logOffset: number;
}

export class PacemakerCluster {
  readonly base: string;
  readonly nodeNames: string[];
  readonly ns: { sw: string; client: string };
  readonly timeline: TimelineEvent[] = [];
  readonly writes: WriterRecord[] = [];
  readonly fence: FenceWatcher;
  readonly t0 = Date.now();
  private readonly nodes: Record<string, NodeRecord> = {};
  private readonly disk: SharedDisk;
  private writer?: VipWriter;
  private nextRowId = 1;
  private monitorTimer?: ReturnType<typeof setInterval>;
  /** Sample times of the safety monitor (gaps show its resolution). */
  readonly sampleTimes: number[] = [];
  readonly violations: string[] = [];
  private readonly agentsDir: string;

  private constructor(readonly options: PacemakerOptions) {
    this.base = `${options.workBase ?? '/tmp'}/hapm-${options.id}`;
    this.nodeNames = Array.from({ length: options.nodes ?? 3 }, (_, i) => `master${i + 1}`);
    this.ns = { sw: `${options.id}-sw`, client: `${options.id}-cl` };
    this.nodeNames.forEach((name, index) => { this.nodes[name] = { name, index, ns: `${options.id}-m${index + 1}`, boots: 0, logOffset: 0 }; });
    this.agentsDir = resolve(options.agentsDir ?? AGENTS_DIR);
    this.disk = new SharedDisk(this.base);
    this.fence = new FenceWatcher(`${this.base}/fence`, this.nodeNames, { off: (n) => this.powerOff(n), on: (n) => this.powerOn(n) }, options.rebootPowersOn ?? true);
  }

  static async create(options: PacemakerOptions): Promise<PacemakerCluster> {
    const cluster = new PacemakerCluster(options);
    return setUpOrTearDown(cluster, () => cluster.setup(), () => cluster.destroy(true));
  }

  say(text: string): void {
    this.timeline.push({ t: Date.now(), text });
    this.options.say?.(text);
  }

  get drbdState(): string {
    return this.disk.drbdState;
  }

  private async setup(): Promise<void> {
    rmSync(this.base, { recursive: true, force: true });
    mkdirSync(`${this.base}/rig`, { recursive: true });
    this.fence.prepare();
    await netnsAdd(this.ns.sw);
    await ip(['link', 'add', 'br-lan', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0'], this.ns.sw);
    await ip(['link', 'set', 'br-lan', 'up'], this.ns.sw);
    await netnsAdd(this.ns.client);
    await this.plug(this.ns.client, 'cl-lan', `${CLIENT_ADDR}/16`);

    await this.disk.create(this.nodeNames, '9');

    // /usr/lib/ocf/resource.d inside: the stock providers plus ours (hara = the build directory).
    const ocf = `${this.base}/ocf-resource.d`;
    mkdirSync(ocf);
    for (const provider of readdirSync('/usr/lib/ocf/resource.d')) symlinkSync(`/opt/ocf/${provider}`, `${ocf}/${provider}`);
    symlinkSync('/opt/ocf/hara', `${ocf}/hara`);

    const [hacluster, haclient] = [await numericId('-u', 'hacluster'), await numericId('-g', 'hacluster')];
    const [mysqlUid, mysqlGid] = [await numericId('-u', 'mysql'), await numericId('-g', 'mysql')];
    for (const name of this.nodeNames) {
      const dir = `${this.base}/${name}`;
      mkdirSync(dir, { recursive: true });
      // cp -a keeps hacluster's ownership of the state directories.
      await execa('cp', ['-a', '/var/lib/pacemaker', `${dir}/varlib-pacemaker`]);
      writeFileSync(`${dir}/varlib-pacemaker/cib/cib.xml`, SEED_CIB, { mode: 0o600 });
      chownSync(`${dir}/varlib-pacemaker/cib/cib.xml`, hacluster, haclient);
      mkdirSync(`${dir}/varlib-corosync`);
      for (const sub of ['pacemaker', 'corosync', 'crmsh', 'mysql']) mkdirSync(`${dir}/log/${sub}`, { recursive: true });
      chownSync(`${dir}/log/pacemaker`, hacluster, haclient);
      chownSync(`${dir}/log/mysql`, mysqlUid, mysqlGid);
    }
    this.fence.start();

    // mariadb-install-db onto the shared disk, in master1 before its stack starts.
    const first = this.nodeNames[0]!;
    await this.createNodeNetwork(first);
    const sb = await this.startSandbox(first);
    const r = await sb.sh(
      'set -e; mount -t ext3 /dev/drbd1 /data; chown mysql:mysql /data; ' +
        'mariadb-install-db --defaults-file=/etc/mysql/my.cnf --user=mysql --datadir=/data --skip-test-db ' +
        '--auth-root-authentication-method=normal --extra-file=/etc/mysql/rig-init.sql >/var/log/install-db.log 2>&1; umount /data',
      { timeoutMs: 120_000 },
    );
    if (r.exitCode !== 0) throw new Error(`datadir init failed: ${r.stderr}\n${sb.readLog('install-db.log')}`);
    this.nodes[first]!.sandbox = sb;
  }

  private async plug(ns: string, outer: string, cidr: string): Promise<void> {
    await execa('ip', ['link', 'add', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name', outer, 'netns', this.ns.sw], { env: PATH_ENV });
    await ip(['link', 'set', outer, 'master', 'br-lan', 'up'], this.ns.sw);
    await ip(['addr', 'add', cidr, 'dev', 'eth1'], ns);
    await ip(['link', 'set', 'eth1', 'up'], ns);
  }

  private async createNodeNetwork(node: string): Promise<void> {
    const rec = this.nodes[node]!;
    if (existsSync(`/run/netns/${rec.ns}`)) return;
    await netnsAdd(rec.ns);
    await this.plug(rec.ns, `m${rec.index + 1}-lan`, `${nodeAddress(rec.index)}/16`);
  }

  private async startSandbox(node: string): Promise<Sandbox> {
    const rec = this.nodes[node]!;
    const dir = `${this.base}/${node}`;
    rec.boots += 1;
    const pcmkLog = `${dir}/log/pacemaker/pacemaker.log`;
    rec.logOffset = existsSync(pcmkLog) ? statSync(pcmkLog).size : 0;
    const providers = readdirSync('/usr/lib/ocf/resource.d').map((p) => ({ host: `/usr/lib/ocf/resource.d/${p}`, inner: `/opt/ocf/${p}`, ro: true }));
    return Sandbox.start({
      name: `${this.options.id}-${node}-b${rec.boots}`,
      hostname: node,
      netns: rec.ns,
      agentsDir: this.agentsDir,
      workBase: this.base,
      logDir: `${dir}/log`,
      etc: {
        'corosync/corosync.conf': corosyncConf(this.nodeNames),
        'corosync/authkey': { content: this.authkey, mode: 0o400 },
        'drbd.conf': DRBD_CONF(this.nodeNames),
        'mysql/my.cnf': MY_CNF,
        'mysql/rig-init.sql': INIT_SQL,
        'ha.d/haresources': HARESOURCES,
      },
      sbin: {
        drbdadm: drbdWrapper('drbdadm'),
        drbdsetup: drbdWrapper('drbdsetup'),
        fence_hara: readFileSync(resolve(ROOT, 'test/rig/fence/fence_hara'), 'utf8'),
      },
      devices: [{ name: 'drbd1', type: 'b', ...this.disk.numbers }],
      binds: [
        { host: resolve(ROOT, 'test/doubles'), inner: '/opt/drbd-double', ro: true },
        { host: this.drbdState, inner: '/var/lib/drbd-double' },
        { host: this.fence.dir, inner: '/var/lib/hara-fence' },
        { host: `${dir}/varlib-pacemaker`, inner: '/var/lib/pacemaker' },
        { host: `${dir}/varlib-corosync`, inner: '/var/lib/corosync' },
        { host: `${this.base}/rig`, inner: '/opt/hara-rig', ro: true },
        ...providers,
        { host: this.agentsDir, inner: '/opt/ocf/hara', ro: true },
        { host: `${this.base}/ocf-resource.d`, inner: '/usr/lib/ocf/resource.d', ro: true },
      ],
    });
  }

  private authkeyCache?: string;
  private get authkey(): string {
    // Any bytes make a key; hex passes through the sandbox's string-typed file API unchanged.
    this.authkeyCache ??= randomBytes(128).toString('hex');
    return this.authkeyCache;
  }

  /** Powers a node on: network, private root, corosync, pacemakerd. */
  async powerOn(node: string): Promise<void> {
    const rec = this.nodes[node]!;
    if (!rec.sandbox?.alive) {
      await this.createNodeNetwork(node);
      rmSync(`${this.drbdState}/res/data/down-at.${node}`, { force: true });
      writeFileSync(`${this.drbdState}/res/data/role.${node}`, 'Secondary\n');
      rec.sandbox = await this.startSandbox(node);
    }
    const sb = rec.sandbox;
    const started = await sb.sh('pgrep -x corosync >/dev/null && echo corosync; pgrep -x pacemakerd >/dev/null && echo pacemakerd; true');
    if (!started.stdout.includes('corosync')) {
      await sb.sh('setsid corosync -f </dev/null >>/var/log/corosync/stdout.log 2>&1 &');
      const deadline = Date.now() + 30_000;
      while ((await sb.exec('corosync-cfgtool', ['-s'])).exitCode !== 0) {
        if (Date.now() > deadline) throw new Error(`corosync on ${node} did not come up: ${sb.readLog('corosync/corosync.log').slice(-2000)}`);
        await sleep(100);
      }
    }
    if (!started.stdout.includes('pacemakerd')) {
      await sb.sh('PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none setsid pacemakerd </dev/null >>/var/log/pacemaker/stdout.log 2>&1 &');
    }
    this.fence.setPowered(node, true);
    this.say(`${node}: powered on (boot ${rec.boots}): corosync, pacemakerd`);
  }

  /** Powers a node off at once: every process dies with its PID namespace, its network goes, DRBD's peers see it gone. */
  async powerOff(node: string): Promise<void> {
    const rec = this.nodes[node]!;
    await rec.sandbox?.kill();
    await netnsDelete(rec.ns);
    // The kernel frees a network namespace lazily; its eth1 (and a VIP on it) must leave the LAN now.
    await execa('ip', ['-n', this.ns.sw, 'link', 'del', `m${rec.index + 1}-lan`], { reject: false, env: PATH_ENV });
    if (existsSync(`${this.drbdState}/res/data/role.${node}`)) writeFileSync(`${this.drbdState}/res/data/down-at.${node}`, `${Date.now()}\n`);
    this.fence.setPowered(node, false);
  }

  /** A crash: the node dies without a word (the cluster must notice and fence it). */
  async crash(node: string): Promise<void> {
    this.say(`${node}: CRASH (every process killed, network gone)`);
    await this.powerOff(node);
  }

  /** Pulls (or plugs back) the node's LAN cable: the switch end of its link goes down. */
  async setLink(node: string, up: boolean): Promise<void> {
    const rec = this.nodes[node]!;
    this.say(`${node}: LAN link ${up ? 'up' : 'DOWN (partition)'}`);
    await ip(['link', 'set', `m${rec.index + 1}-lan`, up ? 'up' : 'down'], this.ns.sw);
  }

  alive(node: string): boolean {
    return !!this.nodes[node]?.sandbox?.alive;
  }

  sandbox(node: string): Sandbox {
    const sb = this.nodes[node]?.sandbox;
    if (!sb?.alive) throw new Error(`${node} is not up`);
    return sb;
  }

  /** Starts every node and waits until all are online with a DC. */
  async start(timeoutMs = 90_000): Promise<void> {
    await Promise.all(this.nodeNames.map((n) => this.powerOn(n)));
    await this.waitFor(`all ${this.nodeNames.length} nodes online with a DC`, async () => {
      const s = await this.status();
      return !!s.dc && this.nodeNames.every((n) => s.online.includes(n));
    }, timeoutMs);
    this.startSafetyMonitor();
  }

  /** Loads crm shell text (one commit) and checks the result with crm_verify -L. */
  async configure(crm: string): Promise<string> {
    writeFileSync(`${this.base}/rig/cluster.crm`, crm);
    const node = this.observer();
    const r = await this.crm(node, ['configure', 'load', 'update', '/opt/hara-rig/cluster.crm']);
    if (r.exitCode !== 0) throw new Error(`crm configure load update failed (${r.exitCode}): ${r.stderr}${r.stdout}`);
    const verify = await this.sandbox(node).exec('crm_verify', ['-L', '-V']);
    return `${verify.stdout}${verify.stderr}`.trim();
  }

  /** crm shell inside a node (crmsh wants a writable /var/log/crmsh and a home). */
  crm(node: string, args: readonly string[]) {
    return this.sandbox(node).exec('crm', args, { timeoutMs: 60_000 });
  }

  /** Waits until the cluster has no action pending (crm_resource --wait), asked on a live node. */
  async settled(from?: string, timeoutMs = 90_000): Promise<void> {
    const r = await this.sandbox(from ?? this.observer()).exec('crm_resource', ['--wait', `--timeout=${Math.round(timeoutMs / 1000)}s`], { timeoutMs: timeoutMs + 10_000 });
    if (r.exitCode !== 0) throw new Error(`crm_resource --wait: the cluster did not settle (${r.exitCode}): ${r.stderr.trim()}`);
  }

  /** A primitive's agent (class:provider:type) and parameters, from the CIB. */
  async primitive(id: string, from?: string): Promise<{ provider: string; type: string; params: Record<string, string> }> {
    const r = await this.sandbox(from ?? this.observer()).exec('cibadmin', ['--query', '--xpath', `//primitive[@id='${id}']`]);
    const head = /<primitive [^>]*>/.exec(r.stdout)?.[0] ?? '';
    const params: Record<string, string> = {};
    const attrs = /<instance_attributes[\s\S]*?<\/instance_attributes>/.exec(r.stdout)?.[0] ?? '';
    for (const m of attrs.matchAll(/<nvpair [^>]*>/g)) params[attr(m[0], 'name')!] = attr(m[0], 'value') ?? '';
    return { provider: attr(head, 'provider') ?? '', type: attr(head, 'type') ?? '', params };
  }

  /**
   * CPU time (user + system, ms) of one recurring `monitor` call of a
   * primitive on `node`, as Pacemaker's executor would make it (same OCF
   * environment): `calls` calls in a loop under /usr/bin/time, divided. The
   * first call's exit code comes back too (0: it was measuring a running resource).
   */
  async monitorCost(id: string, node: string, calls = 20): Promise<{ cpuMs: number; wallMs: number; firstRc: number }> {
    const { provider, type, params } = await this.primitive(id, node);
    const env: Record<string, string> = {
      OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: id, OCF_RESOURCE_TYPE: type, OCF_RESOURCE_PROVIDER: provider,
      OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_CRM_meta_timeout: '20000',
    };
    for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
    const agent = `/usr/lib/ocf/resource.d/${provider}/${type}`;
    const sb = this.sandbox(node);
    const first = await sb.exec(agent, ['monitor'], { env });
    const r = await sb.exec('/usr/bin/time', ['-f', '%e %U %S', 'sh', '-c', `i=0; while [ $i -lt ${calls} ]; do "$0" monitor >/dev/null 2>&1; i=$((i+1)); done`, agent], { env, timeoutMs: 300_000 });
    const [wall, user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    return { cpuMs: ((user! + sys!) * 1000) / calls, wallMs: (wall! * 1000) / calls, firstRc: first.exitCode };
  }

  /** A live node to ask (not one of `avoid`), the first by name. */
  observer(avoid: readonly string[] = []): string {
    const node = this.nodeNames.find((n) => this.alive(n) && !avoid.includes(n)) ?? this.nodeNames.find((n) => this.alive(n));
    if (!node) throw new Error('no node is up');
    return node;
  }

  /** crm_mon's view from one node (parsed from its XML). */
  async status(from?: string): Promise<CrmStatus> {
    const node = from ?? this.observer();
    const r = await this.sandbox(node).exec('crm_mon', ['-1', '--output-as=xml'], { timeoutMs: 20_000 });
    return parseCrmMon(r.stdout);
  }

  async groupNames(from?: string): Promise<GroupNames> {
    const s = await this.status(from);
    const [group, members] = Object.entries(s.groups)[0] ?? [];
    if (!group || !members) throw new Error('no group configured');
    const by = (pattern: RegExp) => {
      const id = members.find((m) => pattern.test(s.agents[m] ?? ''));
      if (!id) throw new Error(`group ${group} has no member matching ${pattern} (${members.map((m) => `${m}=${s.agents[m]}`).join(', ')})`);
      return id;
    };
    return { group, vip: by(/:IPaddr2?$/), drbd: by(/:(drbddisk|drbd)$/), fs: by(/:Filesystem$/), db: by(/:(mysqld|mysql)$/) };
  }

  /** Fail count of a resource on a node (0 when none). */
  async failCount(resource: string, node: string, from?: string): Promise<number> {
    const r = await this.sandbox(from ?? this.observer()).exec('crm_failcount', ['--query', '-r', resource, '-N', node]);
    const m = /value=(\d+|INFINITY)/.exec(r.stdout);
    return !m ? 0 : m[1] === 'INFINITY' ? Number.POSITIVE_INFINITY : Number(m[1]);
  }

  /** pacemaker.log of a node since its current boot (all boots with `all`). */
  pacemakerLog(node: string, all = false): string {
    const path = `${this.base}/${node}/log/pacemaker/pacemaker.log`;
    if (!existsSync(path)) return '';
    // Only the part since this boot: the log grows by megabytes, and the safety monitor shares this thread.
    const fd = openSync(path, 'r');
    try {
      const from = all ? 0 : this.nodes[node]!.logOffset;
      const buf = Buffer.alloc(Math.max(0, fstatSync(fd).size - from));
      readSync(fd, buf, 0, buf.length, from);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** "Result of probe operation for X on NODE: RESULT" lines logged by that node since its current boot. */
  probeResults(node: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of this.pacemakerLog(node).matchAll(/Result of probe operation for (\S+) on (\S+): (.*?)(?: \||$)/gm)) {
      if (m[2] === node) out[m[1]!] = m[3]!.trim();
    }
    return out;
  }

  // ------------------------------------------------------------ who holds what

  /**
   * Live mariadbd processes per node, as PIDs inside the node: read from the
   * node's own procfs (/proc/<init>/root/proc lists that PID namespace only,
   * a few dozen entries). Zombies are not servers, and our agent, also
   * called mysqld, is not one either: only the server's executable counts.
   */
  mariadbdPids(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const node of this.nodeNames) {
      out[node] = [];
      const sb = this.nodes[node]?.sandbox;
      if (!sb?.alive) continue;
      const procfs = `/proc/${sb.initPid}/root/proc`;
      let entries: string[] = [];
      try { entries = readdirSync(procfs); } catch { continue; }
      for (const entry of entries) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = readFileSync(`${procfs}/${entry}/stat`, 'utf8');
          if (!stat.includes('(mariadbd)') && !stat.includes('(mysqld)')) continue;
          if (/\) Z /.test(stat)) continue;
          if (!/\/(mariadbd|mysqld)( \(deleted\))?$/.test(readlinkSync(`${procfs}/${entry}/exe`))) continue;
          out[node]!.push(Number(entry));
        } catch { /* gone */ }
      }
    }
    return out;
  }

  /**
   * Synchronous reads from /proc only (no process spawned), so a sample is
   * one moment and costs a few ms: the VIP from the node's local routing
   * table (/proc/<init>/net/fib_trie is its network namespace's), the mount
   * from its mount table, Primary from the double's state, mariadbd from /proc.
   */
  async nodeStates(): Promise<PcmkNodeState[]> {
    const mysqld = this.mariadbdPids();
    return this.nodeNames.map((node) => {
      const state: PcmkNodeState = { node, up: this.alive(node), vip: false, mounted: false, primary: false, mysqld: false };
      if (!state.up) return state;
      const init = this.nodes[node]!.sandbox!.initPid;
      state.vip = hasLocalAddress(init, VIP);
      state.mounted = hasMountOn(init, '/data');
      state.primary = isDrbdPrimary(this.drbdState, node);
      state.mysqld = mysqld[node]!.length > 0;
      return state;
    });
  }

  /** The node holding all four (and nobody else any), or undefined. */
  static holderOf(states: PcmkNodeState[]): string | undefined {
    const full = states.filter((s) => s.vip && s.mounted && s.primary && s.mysqld);
    const any = states.filter((s) => s.vip || s.mounted || s.primary || s.mysqld);
    return full.length === 1 && any.length === 1 ? full[0]!.node : undefined;
  }

  /** Waits until one node holds the whole group (and `holder`, if given, is it); returns it. */
  async waitForHolder(holder?: string, timeoutMs = 90_000): Promise<string> {
    let found: string | undefined;
    let last: PcmkNodeState[] = [];
    await this.waitFor(`${holder ?? 'one node'} holding VIP, /data, Primary and mysqld alone`, async () => {
      last = await this.nodeStates();
      found = PacemakerCluster.holderOf(last);
      return !!found && (!holder || found === holder);
    }, timeoutMs, () => JSON.stringify(last));
    return found!;
  }

  async waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, detail?: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let ok = false;
      try { ok = await check(); } catch { ok = false; }
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`);
      await sleep(200);
    }
  }

  /**
   * Every intervalMs: who has the VIP, /data mounted, DRBD Primary and a
   * live mariadbd; any moment with two holders of one is a violation.
   */
  startSafetyMonitor(intervalMs = 100): void {
    if (this.monitorTimer) return;
    let busy = false;
    this.monitorTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.nodeStates().then((states) => {
        this.sampleTimes.push(Date.now());
        for (const [what, pick] of [['VIP', (s: PcmkNodeState) => s.vip], ['/data mounted', (s: PcmkNodeState) => s.mounted], ['DRBD Primary', (s: PcmkNodeState) => s.primary], ['mysqld', (s: PcmkNodeState) => s.mysqld]] as const) {
          const holders = states.filter(pick).map((s) => s.node);
          if (holders.length > 1) {
            const text = `${what} on ${holders.join(' and ')} at +${((Date.now() - this.t0) / 1000).toFixed(1)}s`;
            this.violations.push(text);
            this.say(`SAFETY VIOLATION: ${text}`);
          }
        }
      }).catch(() => {}).finally(() => { busy = false; });
    }, intervalMs);
  }

  stopSafetyMonitor(): void {
    if (this.monitorTimer) clearInterval(this.monitorTimer);
    this.monitorTimer = undefined;
  }

  /** Largest gap between two samples, and the median gap (ms). */
  sampleGaps(): { max: number; median: number; samples: number } {
    const gaps = this.sampleTimes.slice(1).map((t, i) => t - this.sampleTimes[i]!).sort((a, b) => a - b);
    return { max: gaps.at(-1) ?? 0, median: gaps[Math.floor(gaps.length / 2)] ?? 0, samples: this.sampleTimes.length };
  }

  // ------------------------------------------------------------ client side

  async sql(statement: string): Promise<string> {
    const r = await execa('ip', ['netns', 'exec', this.ns.client, 'mariadb', '--no-defaults', '-h', VIP, '-u', 'app', '--connect-timeout=3', '-N', '-B', '-e', statement], {
      env: { ...PATH_ENV, MYSQL_PWD: 'app' }, extendEnv: false, timeout: 30_000,
    });
    return r.stdout;
  }

  async createSchema(): Promise<void> {
    await this.waitFor('MySQL answering through the VIP', async () => { await this.sql('SELECT 1'); return true; }, 60_000);
    await this.sql('CREATE DATABASE IF NOT EXISTS test; CREATE TABLE IF NOT EXISTS test.t (id INT PRIMARY KEY, node VARCHAR(32), at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB');
  }

  startWriter(intervalMs = 100): void {
    if (this.writer) return;
    this.writer = startVipWriter(this.ns.client, VIP, this.nextRowId, intervalMs, { ...PATH_ENV }, (record) => {
      this.writes.push(record);
      this.nextRowId = Math.max(this.nextRowId, (record.ok ?? record.fail ?? 0) + 1);
    });
  }

  async stopWriter(): Promise<void> {
    await this.writer?.stop();
    this.writer = undefined;
  }

  get committedIds(): number[] {
    return this.writes.filter((w) => w.ok !== undefined).map((w) => w.ok!);
  }

  async missingRows(): Promise<number[]> {
    const committed = this.committedIds;
    const present = new Set((await this.sql('SELECT id FROM test.t')).split('\n').filter(Boolean).map(Number));
    return committed.filter((id) => !present.has(id));
  }

  async waitForWriteBy(node: string, since: number, timeoutMs = 90_000): Promise<WriterRecord> {
    let found: WriterRecord | undefined;
    await this.waitFor(`a write through the VIP served by ${node}`, async () => {
      found = this.writes.find((w) => w.ok !== undefined && w.node === node && w.t >= since);
      return !!found;
    }, timeoutMs);
    return found!;
  }

  // ------------------------------------------------------------ teardown

  /** Everything down and gone: writer, nodes (by their init PIDs), namespaces, loop device, files. */
  async destroy(keepLogs = false): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (fn: () => Promise<unknown>) => { try { await fn(); } catch (e) { errors.push(e); } };
    this.stopSafetyMonitor();
    this.fence.stop();
    await attempt(() => this.stopWriter());
    await attempt(() => this.fence.settle());
    for (const rec of Object.values(this.nodes)) {
      if (rec.sandbox) await attempt(() => rec.sandbox!.destroy(true));
      await attempt(() => netnsDelete(rec.ns));
    }
    for (const ns of [this.ns.client, this.ns.sw]) await attempt(() => netnsDelete(ns));
    await attempt(() => this.disk.destroy());
    if (!keepLogs) await attempt(async () => rmSync(this.base, { recursive: true, force: true }));
    if (errors.length) throw new AggregateError(errors, 'pacemaker cluster teardown had errors');
  }
}

async function numericId(flag: '-u' | '-g', user: string): Promise<number> {
  return Number((await execa('id', [flag, user])).stdout.trim());
}

const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

/** crm_mon --output-as=xml → the parts the rig needs. Pure. */
export function parseCrmMon(xml: string): CrmStatus {
  const status: CrmStatus = { online: [], active: {}, agents: {}, groups: {}, failures: [] };
  const dc = /<current_dc [^>]*present="true"[^>]*>/.exec(xml);
  if (dc) status.dc = attr(dc[0], 'name');
  const nodesSection = /<nodes>([\s\S]*?)<\/nodes>/.exec(xml)?.[1] ?? '';
  for (const m of nodesSection.matchAll(/<node [^>]*>/g)) {
    if (attr(m[0], 'online') === 'true') status.online.push(attr(m[0], 'name')!);
  }
  const resources = /<resources>([\s\S]*?)<\/resources>/.exec(xml)?.[1] ?? '';
  for (const g of resources.matchAll(/<group ([^>]*)>([\s\S]*?)<\/group>/g)) {
    const id = attr(` ${g[1]}`, 'id')!;
    status.groups[id] = [...g[2]!.matchAll(/<resource [^>]*>/g)].map((r) => attr(r[0], 'id')!);
  }
  for (const r of resources.matchAll(/<resource ([^>]*?)(\/>|>([\s\S]*?)<\/resource>)/g)) {
    const id = attr(` ${r[1]}`, 'id')!;
    status.agents[id] = attr(` ${r[1]}`, 'resource_agent') ?? '';
    status.active[id] = [...(r[3] ?? '').matchAll(/<node [^>]*>/g)].map((n) => attr(n[0], 'name')!);
  }
  const failures = /<failures>([\s\S]*?)<\/failures>/.exec(xml)?.[1] ?? '';
  for (const f of failures.matchAll(/<failure [^>]*>/g)) {
    const key = attr(f[0], 'op_key') ?? '';
    status.failures.push({ resource: key.replace(/_[a-z-]+_\d+$/, ''), node: attr(f[0], 'node') ?? '', op: key, rc: attr(f[0], 'exitreason') || attr(f[0], 'exitstatus') || '' });
  }
  return status;
}
