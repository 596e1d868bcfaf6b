import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { resolve } from 'node:path';
import { execa } from 'execa';
import { ROOT } from './agents.ts';
import { Sandbox, ip, netnsAdd, netnsDelete } from './sandbox.ts';
import { SharedDisk, setUpOrTearDown } from './cluster-parts.ts';
import { hasLocalAddress, hasMountOn, isDrbdPrimary } from './node-state.ts';
import { parseHaDebug, type TimelineLine } from './timeline.ts';
import { startVipWriter, type VipWriter, type WriterRecord } from './vip-writer.ts';

// The tutorial's cluster on one machine: master1 and master2 (each its own
// network, UTS, mount and PID namespace and private root, see sandbox.ts),
// a "switch" namespace with the LAN bridge (eth1, where the VIP lives) and
// the dedicated heartbeat link (eth2), a client namespace (slave1: the
// application writing through the VIP, and a MariaDB replica following the
// VIP). One loop-backed ext3 image is /dev/drbd1 in both nodes; the drbdadm
// test double (test/doubles/drbdadm) keeps one DRBD state for both.
// Used by test/e2e/*.test.ts and by the demo.

export type NodeName = 'master1' | 'master2';
export const NODES: readonly NodeName[] = ['master1', 'master2'];
export const VIP = '198.18.4.1';
export const VIP_RESOURCE = `IPaddr::${VIP}/16/eth1`;
/** The tutorial's haresources group, VIP moved to 198.18.0.0/15. */
export const GROUP = [VIP_RESOURCE, 'drbddisk::data', 'Filesystem::/dev/drbd1::/data::ext3', 'mysqld'] as const;
const LAN: Record<NodeName | 'client', string> = { master1: '198.18.4.2', master2: '198.18.4.3', client: '198.18.4.4' };
const HBLINK: Record<NodeName, string> = { master1: '198.19.4.2', master2: '198.19.4.3' };
/** The second heartbeat link (ClusterOptions.secondLink): eth3 on its own switch. */
const HBLINK2: Record<NodeName, string> = { master1: '198.19.5.2', master2: '198.19.5.3' };
export const LAN_ADDRESS = LAN;
const SHORT: Record<NodeName, string> = { master1: 'm1', master2: 'm2' };
const PATH_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

export interface HeartbeatTimings {
  keepalive: string;
  deadtime: number;
  warntime: number;
  initdead: number;
}
export const DEFAULT_TIMINGS: HeartbeatTimings = { keepalive: '500ms', deadtime: 3, warntime: 2, initdead: 6 };

export interface ClusterOptions {
  /** Unique id (namespaces, work directory): include process.pid. */
  id: string;
  agentsDir?: string;
  timings?: HeartbeatTimings;
  /** haresources line after the node name; default the tutorial's group. */
  group?: readonly string[];
  /** drbd version the double prints (the tutorial ran 8.3). */
  drbdVersion?: '8.3' | '8.4' | '9';
  /** Progress lines (the demo prints them). */
  say?: (line: string) => void;
  workBase?: string;
  /** Extra files under each node's /etc (e.g. test-only init.d scripts). */
  extraEtc?: Record<string, string | { content: string; mode?: number }>;
  /**
   * Millisecond timeline (test/rig/timeline.ts): each node's shellfuncs sets
   * HA_DATEFMT with %3N and HA_debug=1, so ResourceManager logs every
   * resource call's start and end and the agents their steps, to the ms.
   */
  timeline?: boolean;
  /** Lines appended to ha.cf (e.g. stonith_host). */
  haCfLines?: string;
  /** A second dedicated heartbeat link (eth3, its own switch, ucast lines in ha.cf): the tutorial's first remedy. */
  secondLink?: boolean;
  /**
   * `ha-agent watch` on each node, started by the rig with these arguments
   * (after --peer-address PEER) whenever heartbeat is started there and no
   * watcher runs; it is not heartbeat's child, so it outlives a killed heartbeat.
   */
  watch?: { args: readonly string[] };
  /** Extra executables in one node's private /usr/sbin (ahead of /usr/bin in PATH), e.g. an older tool's behaviour over the real one. */
  nodeSbin?: Partial<Record<NodeName, Record<string, string>>>;
}

export interface NodeState {
  node: NodeName;
  up: boolean;
  vip: boolean;
  mounted: boolean;
  role: string;
  mysqld: boolean;
  heartbeat: boolean;
}

export interface TimelineEvent {
  t: number;
  text: string;
}

export type { WriterRecord } from './vip-writer.ts';

/**
 * The rig's shellfuncs for the timeline: heartbeat's own, then the
 * millisecond date format and debug lines. The heartbeat daemon sets
 * HA_DATEFMT for its children itself (setenv, overwriting), so the
 * environment cannot carry it; ResourceManager sources this file.
 */
function timelineShellfuncs(): string {
  return `${readFileSync('/etc/ha.d/shellfuncs', 'utf8')}
# test rig (timeline): millisecond stamps (GNU date %3N) and ResourceManager's
# debug lines around every resource call, for ResourceManager and the agents.
HA_DATEFMT='%Y/%m/%d_%T.%3N '; export HA_DATEFMT
HA_debug=1; export HA_debug
`;
}

// ---------------------------------------------------------------- configs

export function haCf(timings: HeartbeatTimings, secondLink = false): string {
  // The tutorial's ha.cf: timings shortened, ucast on the dedicated link
  // instead of mcast (both lines on both nodes: heartbeat skips its own).
  return `# tutorial ha.cf, timings shortened for the test rig
debugfile /var/log/ha-debug
logfile /var/log/ha-log
logfacility none
keepalive ${timings.keepalive}
deadtime ${timings.deadtime}
warntime ${timings.warntime}
initdead ${timings.initdead}
udpport 694
ucast eth2 ${HBLINK.master1}
ucast eth2 ${HBLINK.master2}
${secondLink ? `ucast eth3 ${HBLINK2.master1}\nucast eth3 ${HBLINK2.master2}\n` : ''}auto_failback on
node master1
node master2
crm no
`;
}

export const AUTHKEYS = 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n';

/** The tutorial's drbd.conf (resource data on /dev/drbd1), host names unchanged. */
export const DRBD_CONF = `global { usage-count no; }
common {
  protocol C;
  disk { on-io-error detach; no-disk-flushes; no-md-flushes; }
  net {
    sndbuf-size 512k; max-buffers 8000; unplug-watermark 1024; max-epoch-size 8000;
    cram-hmac-alg "sha1"; shared-secret "hdhwXes23sYEhart8t";
    after-sb-0pri disconnect; after-sb-1pri disconnect; after-sb-2pri disconnect; rr-conflict disconnect;
  }
  syncer { rate 120M; al-extents 517; }
}
resource data {
  on master1 { device /dev/drbd1; disk /dev/sdb1; address ${LAN.master1}:7788; meta-disk /dev/sdb2 [0]; }
  on master2 { device /dev/drbd1; disk /dev/sdb1; address ${LAN.master2}:7788; meta-disk /dev/sdb2 [0]; }
}
`;

/** The tutorial's my.cnf: datadir and binlog on the replicated disk. */
export const MY_CNF = `# tutorial my.cnf: data and binlog on /data (the DRBD disk)
[mysqld]
user = mysql
datadir = /data
socket = /run/mysqld/mysqld.sock
pid-file = /run/mysqld/mysqld.pid
port = 3306
bind-address = 0.0.0.0
log-bin = /data/mysql-bin
server-id = 3
log-error = /var/log/mysql/error.log
skip-name-resolve
innodb_flush_log_at_trx_commit = 1
sync_binlog = 1
innodb_buffer_pool_size = 32M
innodb_log_file_size = 16M
performance_schema = OFF

[client]
socket = /run/mysqld/mysqld.sock
`;

export const INIT_SQL = `FLUSH PRIVILEGES;
CREATE USER 'rep'@'198.18.%' IDENTIFIED BY 'rep';
GRANT REPLICATION SLAVE ON *.* TO 'rep'@'198.18.%';
CREATE USER 'app'@'198.18.%' IDENTIFIED BY 'app';
GRANT ALL PRIVILEGES ON *.* TO 'app'@'198.18.%';
`;

const drbdadmWrapper = (prog: string) => `#!/bin/sh
# test rig: drbd-utils' ${prog} replaced by the test double (test/doubles/${prog}), one shared state
DRBD_DOUBLE_STATE=/var/lib/drbd-double DRBD_DOUBLE_LOG=/var/log/drbdadm-calls.log
export DRBD_DOUBLE_STATE DRBD_DOUBLE_LOG
exec /opt/drbd-double/${prog} "$@"
`;

// ---------------------------------------------------------------- cluster

export class Cluster {
  readonly base: string;
  readonly ns: { sw: string; client: string; master1: string; master2: string };
  readonly nodes: Partial<Record<NodeName, Sandbox>> = {};
  readonly timeline: TimelineEvent[] = [];
  readonly writes: WriterRecord[] = [];
  readonly disk: SharedDisk;
  private writer?: VipWriter;
  private replica?: ChildProcess;
  private nextRowId = 1;
  private logTimer?: ReturnType<typeof setInterval>;
  private monitorTimer?: ReturnType<typeof setInterval>;
  /** Samples taken and moments two nodes held the same resource (startSafetyMonitor). */
  monitorSamples = 0;
  readonly violations: string[] = [];
  private logPoll?: () => void;
  readonly t0 = Date.now();

  private constructor(readonly options: Required<Pick<ClusterOptions, 'id' | 'timings' | 'group' | 'drbdVersion'>> & ClusterOptions) {
    this.base = `${options.workBase ?? '/tmp'}/harig-${options.id}`;
    const p = `hae-${options.id}`;
    this.ns = { sw: `${p}-sw`, client: `${p}-cl`, master1: `${p}-m1`, master2: `${p}-m2` };
    this.disk = new SharedDisk(this.base);
  }

  static async create(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster({ timings: DEFAULT_TIMINGS, group: GROUP, drbdVersion: '8.3', ...options });
    return setUpOrTearDown(cluster, () => cluster.setup(), () => cluster.destroy());
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
    mkdirSync(this.base, { recursive: true });
    // Network: a switch namespace with the LAN bridge and the heartbeat bridge.
    await netnsAdd(this.ns.sw);
    await ip(['link', 'add', 'br-lan', 'type', 'bridge'], this.ns.sw);
    await ip(['link', 'add', 'br-hb', 'type', 'bridge'], this.ns.sw);
    await ip(['link', 'set', 'br-lan', 'up'], this.ns.sw);
    await ip(['link', 'set', 'br-hb', 'up'], this.ns.sw);
    if (this.options.secondLink) {
      await ip(['link', 'add', 'br-hb2', 'type', 'bridge'], this.ns.sw);
      await ip(['link', 'set', 'br-hb2', 'up'], this.ns.sw);
    }
    await netnsAdd(this.ns.client);
    await this.plug(this.ns.client, 'eth1', 'cl-lan', 'br-lan', `${LAN.client}/16`);

    // The replicated disk (/dev/drbd1 in each node) and the DRBD double's resource data on both.
    await this.disk.create(NODES, this.options.drbdVersion);

    for (const node of NODES) {
      cpSync('/var/lib/heartbeat', `${this.base}/${node}-varlib-heartbeat`, { recursive: true });
    }
    await this.initDatadir();
  }

  /** veth from namespace `ns` (inner name) to the switch (outer name on bridge). */
  private async plug(ns: string, inner: string, outer: string, bridge: string, cidr: string): Promise<void> {
    await execa('ip', ['link', 'add', inner, 'netns', ns, 'type', 'veth', 'peer', 'name', outer, 'netns', this.ns.sw], { env: PATH_ENV });
    await ip(['link', 'set', outer, 'master', bridge], this.ns.sw);
    await ip(['link', 'set', outer, 'up'], this.ns.sw);
    await ip(['addr', 'add', cidr, 'dev', inner], ns);
    await ip(['link', 'set', inner, 'up'], ns);
  }

  /** mariadb-install-db onto the replicated disk, once, in master1's root. */
  private async initDatadir(): Promise<void> {
    await this.createNodeNetwork('master1');
    const sb = await this.startSandbox('master1', 'init');
    try {
      const r = await sb.sh(
        'set -e; mount -t ext3 /dev/drbd1 /data; chown mysql:mysql /data; ' +
          'mariadb-install-db --defaults-file=/etc/mysql/my.cnf --user=mysql --datadir=/data --skip-test-db ' +
          '--auth-root-authentication-method=normal --extra-file=/etc/mysql/rig-init.sql >/var/log/install-db.log 2>&1; ' +
          'umount /data',
        { timeoutMs: 120_000 },
      );
      if (r.exitCode !== 0) throw new Error(`datadir init failed: ${r.stderr}\n${sb.readLog('install-db.log')}`);
    } finally {
      await sb.destroy(true);
    }
  }

  private async createNodeNetwork(node: NodeName): Promise<void> {
    const ns = this.ns[node];
    await netnsAdd(ns);
    await this.plug(ns, 'eth1', `${SHORT[node]}-lan`, 'br-lan', `${LAN[node]}/16`);
    await this.plug(ns, 'eth2', `${SHORT[node]}-hb`, 'br-hb', `${HBLINK[node]}/24`);
    if (this.options.secondLink) await this.plug(ns, 'eth3', `${SHORT[node]}-hb2`, 'br-hb2', `${HBLINK2[node]}/24`);
  }

  private async startSandbox(node: NodeName, tag: string): Promise<Sandbox> {
    const sb = await Sandbox.start({
      name: `${this.options.id}-${node}-${tag}`,
      hostname: node,
      netns: this.ns[node],
      agentsDir: this.options.agentsDir,
      workBase: this.base,
      logDir: `${this.base}/${node}-${tag}-log`,
      etc: {
        ...this.options.extraEtc,
        ...(this.options.timeline ? { 'ha.d/shellfuncs': timelineShellfuncs() } : {}),
        'ha.d/ha.cf': haCf(this.options.timings, this.options.secondLink) + (this.options.haCfLines ?? ''),
        'ha.d/authkeys': { content: AUTHKEYS, mode: 0o600 },
        'ha.d/haresources': `master1 ${this.options.group.join(' ')}\n`,
        'drbd.conf': DRBD_CONF,
        'mysql/my.cnf': MY_CNF,
        'mysql/rig-init.sql': INIT_SQL,
      },
      sbin: { drbdadm: drbdadmWrapper('drbdadm'), drbdsetup: drbdadmWrapper('drbdsetup'), ...this.options.nodeSbin?.[node] },
      devices: [{ name: 'drbd1', type: 'b', ...this.disk.numbers }],
      binds: [
        { host: resolve(ROOT, 'test/doubles'), inner: '/opt/drbd-double', ro: true },
        { host: this.drbdState, inner: '/var/lib/drbd-double' },
        { host: `${this.base}/${node}-varlib-heartbeat`, inner: '/var/lib/heartbeat' },
      ],
    });
    mkdirSync(`${sb.logDir}/mysql`, { recursive: true });
    const mysqlIds = await execa('id', ['-u', 'mysql']);
    const mysqlGid = await execa('id', ['-g', 'mysql']);
    chownSync(`${sb.logDir}/mysql`, Number(mysqlIds.stdout), Number(mysqlGid.stdout));
    return sb;
  }

  /** Powers a node on: network namespace, private root (no heartbeat yet). */
  async bootNode(node: NodeName): Promise<Sandbox> {
    if (this.nodes[node]?.alive) return this.nodes[node]!;
    if (!existsSync(`/run/netns/${this.ns[node]}`)) await this.createNodeNetwork(node);
    rmSync(`${this.drbdState}/res/data/down-at.${node}`, { force: true });
    writeFileSync(`${this.drbdState}/res/data/role.${node}`, 'Secondary\n');
    const sb = await this.startSandbox(node, 'node');
    this.nodes[node] = sb;
    return sb;
  }

  async startHeartbeat(node: NodeName): Promise<void> {
    const sb = await this.bootNode(node);
    const r = await sb.exec('/usr/libexec/heartbeat/heartbeat', [], { timeoutMs: 30_000 });
    if (r.exitCode !== 0) throw new Error(`heartbeat start on ${node} failed (${r.exitCode}): ${r.stderr}`);
    this.say(`${node}: heartbeat started`);
    if (this.options.watch) await this.startWatch(node);
  }

  /** Starts `ha-agent watch` in the node (detached, its own session) unless one runs; output in /var/log/watch.out. */
  async startWatch(node: NodeName): Promise<void> {
    const sb = await this.bootNode(node);
    const peer = node === 'master1' ? 'master2' : 'master1';
    const args = ['/etc/ha.d/resource.d/ha-agent', 'watch', '--peer-address', LAN[peer], ...(this.options.watch?.args ?? [])];
    // Test-authored script: arguments are the rig's own constants, quoted for sh.
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = await sb.sh(`[ -f /run/ha-agent-watch.pid ] && kill -0 "$(cat /run/ha-agent-watch.pid)" 2>/dev/null && exit 0
setsid ${quoted} >>/var/log/watch.out 2>&1 </dev/null &
echo $! >/run/ha-agent-watch.pid`);
    if (r.exitCode !== 0) throw new Error(`ha-agent watch on ${node} did not start: ${r.stderr}`);
  }

  /** Ends the node's watcher (SIGTERM, as an operator would), if one runs. */
  async stopWatch(node: NodeName): Promise<void> {
    const sb = this.nodes[node];
    if (!sb?.alive) return;
    await sb.sh('[ -f /run/ha-agent-watch.pid ] && kill -TERM "$(cat /run/ha-agent-watch.pid)" 2>/dev/null; rm -f /run/ha-agent-watch.pid; true');
  }

  /** Every process named heartbeat in the node SIGKILLed (the node, its VIP, mount, Primary and mysqld stay). */
  async killHeartbeat(node: NodeName): Promise<void> {
    this.say(`${node}: heartbeat KILLED (kill -9; the node and its resources stay)`);
    await this.nodes[node]?.sh('kill -9 $(pgrep -x heartbeat) 2>/dev/null; true');
  }

  /** `/etc/init.d/heartbeat stop` equivalent: heartbeat -k, then wait until it is gone. */
  async stopHeartbeat(node: NodeName, timeoutMs = 120_000): Promise<void> {
    const sb = this.nodes[node];
    if (!sb?.alive) return;
    this.say(`${node}: heartbeat stop (graceful)`);
    await sb.exec('/usr/libexec/heartbeat/heartbeat', ['-k'], { timeoutMs });
    const deadline = Date.now() + timeoutMs;
    while (await this.heartbeatRunning(node)) {
      if (Date.now() > deadline) throw new Error(`heartbeat on ${node} did not stop within ${timeoutMs} ms`);
      await sleep(100);
    }
    this.say(`${node}: heartbeat stopped`);
  }

  async heartbeatRunning(node: NodeName): Promise<boolean> {
    const sb = this.nodes[node];
    if (!sb?.alive) return false;
    const r = await sb.exec('/usr/bin/pgrep', ['-x', 'heartbeat']);
    return r.exitCode === 0;
  }

  /**
   * Crash: every process of the node's namespaces dies at once (SIGKILL to
   * its PID namespace's init), its network namespace is deleted; the DRBD
   * double learns the peer is gone, as DRBD would after its ping timeout.
   */
  async crashNode(node: NodeName): Promise<void> {
    const sb = this.nodes[node];
    this.say(`${node}: CRASH (all processes killed, network namespace deleted)`);
    await sb?.kill();
    await netnsDelete(this.ns[node]);
    writeFileSync(`${this.drbdState}/res/data/down-at.${node}`, `${Date.now()}\n`);
    delete this.nodes[node];
  }

  /**
   * The dedicated heartbeat link (eth2) unplugged or plugged back: both
   * nodes' ports on the heartbeat switch go down/up, so each node's eth2
   * loses carrier while the nodes and the service LAN (eth1) stay up.
   */
  async setHeartbeatLink(up: boolean, links: readonly ('eth2' | 'eth3')[] = ['eth2']): Promise<void> {
    for (const link of links) {
      for (const node of NODES) await ip(['link', 'set', `${SHORT[node]}-${link === 'eth2' ? 'hb' : 'hb2'}`, up ? 'up' : 'down'], this.ns.sw);
    }
    this.say(`heartbeat link (${links.join(', ')}) ${up ? 'back up' : 'DOWN'}: nodes and LAN untouched`);
  }

  async nodeState(node: NodeName): Promise<NodeState> {
    const sb = this.nodes[node];
    const state: NodeState = { node, up: !!sb?.alive, vip: false, mounted: false, role: '-', mysqld: false, heartbeat: false };
    if (!sb?.alive) return state;
    const r = await sb.sh(
      'ip -o -4 addr show dev eth1; echo "--"; grep -c " /data " /proc/self/mountinfo; echo "--"; drbdadm role data 2>&1; echo "--"; ' +
        // ps, not pgrep: an exited mysqld waiting for PID 1 to reap it is a zombie, not a server.
        'ps -C mariadbd -o stat= | grep -qv "^Z" && echo mysqld; pgrep -x heartbeat >/dev/null && echo heartbeat; true',
    );
    const [addrs = '', mounts = '', role = '', procs = ''] = r.stdout.split('--\n');
    state.vip = addrs.includes(` ${VIP}/`);
    state.mounted = Number(mounts.trim()) > 0;
    state.role = role.trim().split('/')[0] ?? '?';
    state.mysqld = /\bmysqld\b/.test(procs);
    state.heartbeat = /\bheartbeat\b/.test(procs);
    return state;
  }

  async states(): Promise<NodeState[]> {
    return Promise.all(NODES.map((n) => this.nodeState(n)));
  }

  /** Waits until `holder` holds VIP, mount, Primary and mysqld, and the other node none of them. */
  async waitForHolder(holder: NodeName, timeoutMs = 60_000): Promise<NodeState[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await this.states();
      const ok = states.every((s) =>
        s.node === holder ? s.vip && s.mounted && s.role === 'Primary' && s.mysqld : !s.vip && !s.mounted && s.role !== 'Primary' && !s.mysqld,
      );
      if (ok) return states;
      if (Date.now() > deadline) throw new Error(`${holder} did not become the only holder: ${JSON.stringify(states)}`);
      await sleep(200);
    }
  }

  // ------------------------------------------------------------ client side

  /** mariadb CLI in the client namespace through the VIP (password via MYSQL_PWD, not argv). */
  async sql(statement: string, host = VIP): Promise<string> {
    const r = await execa('ip', ['netns', 'exec', this.ns.client, 'mariadb', '--no-defaults', '-h', host, '-u', 'app', '--connect-timeout=3', '-N', '-B', '-e', statement], {
      env: { ...PATH_ENV, MYSQL_PWD: 'app' },
      extendEnv: false,
      timeout: 30_000,
    });
    return r.stdout;
  }

  /** Waits until MySQL answers through the VIP (start returned, VIP announced). */
  async waitForSql(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.sql('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await sleep(100);
    }
  }

  /** Creates the test table (and lets a replica, if set up, receive it). */
  async createSchema(): Promise<void> {
    await this.sql('CREATE DATABASE IF NOT EXISTS test; CREATE TABLE IF NOT EXISTS test.t (id INT PRIMARY KEY, node VARCHAR(32), at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB');
  }

  /** Starts the client writing one row every intervalMs through the VIP. */
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

  /** Writes `count` rows one by one (each its own acknowledged commit) now. */
  async writeRows(count: number): Promise<number[]> {
    const ids = Array.from({ length: count }, (_, i) => this.nextRowId + i);
    this.nextRowId += count;
    await this.sql(ids.map((id) => `INSERT INTO test.t (id, node) VALUES (${id}, @@hostname);`).join(' '));
    const t = Date.now();
    for (const id of ids) this.writes.push({ ok: id, t, node: 'batch' });
    return ids;
  }

  /** When the client's connections through the VIP completed (connect + handshake). */
  get connectTimes(): number[] {
    return this.writes.filter((w) => w.connect).map((w) => w.t);
  }

  get committedIds(): number[] {
    return this.writes.filter((w) => w.ok !== undefined).map((w) => w.ok!);
  }

  /** Ids committed (acknowledged) but missing through the VIP now. */
  async missingRows(host = VIP): Promise<number[]> {
    // Snapshot first: rows the writer commits while the SELECT runs are not owed yet.
    const committed = this.committedIds;
    const present = new Set((await this.sql('SELECT id FROM test.t', host)).split('\n').filter(Boolean).map(Number));
    return committed.filter((id) => !present.has(id));
  }

  /** First acknowledged write served by `node` at or after time `since`. */
  firstWriteBy(node: NodeName, since: number): WriterRecord | undefined {
    return this.writes.find((w) => w.ok !== undefined && w.node === node && w.t >= since);
  }

  async waitForWriteBy(node: NodeName, since: number, timeoutMs = 60_000): Promise<WriterRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const w = this.firstWriteBy(node, since);
      if (w) return w;
      if (Date.now() > deadline) throw new Error(`no write through the VIP served by ${node} within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  // ------------------------------------------------------------ replica

  get replicaSocket(): string {
    return `${this.base}/replica/mysqld.sock`;
  }

  /** slave1 of the tutorial: a MariaDB in the client namespace replicating from the VIP. */
  async startReplica(): Promise<void> {
    const dir = `${this.base}/replica`;
    mkdirSync(`${dir}/data`, { recursive: true });
    await execa('chown', ['-R', 'mysql:mysql', dir]);
    await execa('mariadb-install-db', ['--no-defaults', '--user=mysql', `--datadir=${dir}/data`, '--skip-test-db', '--auth-root-authentication-method=socket'], { env: PATH_ENV, extendEnv: false });
    const args = [
      '--no-defaults', '--user=mysql', `--datadir=${dir}/data`, `--socket=${this.replicaSocket}`, `--pid-file=${dir}/mysqld.pid`,
      `--log-error=${dir}/error.log`, '--port=3306', `--bind-address=${LAN.client}`, '--server-id=4', '--skip-name-resolve',
      '--skip-log-bin', '--relay-log=relay-bin', '--innodb-buffer-pool-size=32M', '--performance-schema=OFF', '--slave-net-timeout=5',
    ];
    this.replica = spawn('ip', ['netns', 'exec', this.ns.client, 'setpriv', '--pdeathsig', 'KILL', '/usr/sbin/mariadbd', ...args], { stdio: 'ignore', env: PATH_ENV });
    const deadline = Date.now() + 60_000;
    while ((await this.replicaSql('SELECT 1', false)) === undefined) {
      if (Date.now() > deadline || this.replica.exitCode !== null) throw new Error(`replica did not start: ${readFileSync(`${dir}/error.log`, 'utf8').slice(-2000)}`);
      await sleep(100);
    }
    // The tutorial's CHANGE MASTER, from the master's current position, retrying every second.
    const [file, pos] = (await this.sql('SHOW MASTER STATUS')).split('\t');
    await this.replicaSql(
      `CHANGE MASTER TO MASTER_HOST='${VIP}', MASTER_PORT=3306, MASTER_USER='rep', MASTER_PASSWORD='rep', ` +
        `MASTER_LOG_FILE='${file}', MASTER_LOG_POS=${Number(pos)}, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1; START SLAVE`,
    );
    this.say(`slave1: replica started in the client namespace, replicating from ${VIP} (${file}:${pos})`);
  }

  async replicaSql(statement: string, throwOnError = true): Promise<string | undefined> {
    const r = await execa('mariadb', ['--no-defaults', '-S', this.replicaSocket, '-u', 'root', '-N', '-B', '-e', statement], { env: PATH_ENV, extendEnv: false, reject: false, timeout: 30_000 });
    if (r.exitCode !== 0) {
      if (throwOnError) throw new Error(`replica: ${statement}: ${r.stderr}`);
      return undefined;
    }
    return r.stdout;
  }

  async replicaStatus(): Promise<{ io: string; sql: string; lastError: string }> {
    const r = await execa('mariadb', ['--no-defaults', '-S', this.replicaSocket, '-u', 'root', '-e', 'SHOW SLAVE STATUS\\G'], { env: PATH_ENV, extendEnv: false, reject: false });
    const field = (name: string) => new RegExp(`^\\s*${name}: ?(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '';
    return { io: field('Slave_IO_Running'), sql: field('Slave_SQL_Running'), lastError: [field('Last_IO_Error'), field('Last_SQL_Error')].filter(Boolean).join('; ') };
  }

  /** Waits until both replica threads run and the replica has every committed row. */
  async waitForReplicaCaughtUp(timeoutMs = 60_000): Promise<{ io: string; sql: string; missing: number[] }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const committed = this.committedIds;
      const status = await this.replicaStatus();
      const present = new Set(((await this.replicaSql('SELECT id FROM test.t', false)) ?? '').split('\n').filter(Boolean).map(Number));
      const missing = committed.filter((id) => !present.has(id));
      if (status.io === 'Yes' && status.sql === 'Yes' && missing.length === 0) return { ...status, missing };
      if (Date.now() > deadline) return { ...status, missing };
      await sleep(200);
    }
  }

  private async stopReplica(): Promise<void> {
    const child = this.replica;
    if (!child || child.exitCode !== null) return;
    await this.replicaSql('STOP SLAVE', false);
    const exited = new Promise((r) => child.once('exit', r));
    const pid = Number(readFileSync(`${this.base}/replica/mysqld.pid`, 'utf8').trim() || 0);
    if (pid) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } child.kill('SIGKILL'); }, 20_000);
    await exited;
    clearTimeout(timer);
  }

  // ------------------------------------------------------------ logs & teardown

  /** A node's /var/log file (kept on the host, also after a crash). */
  nodeLog(node: NodeName, file: string): string {
    const path = `${this.base}/${node}-node-log/${file}`;
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** `ResourceManager[pid]: ... info: Running /etc/ha.d/resource.d/X args start|stop` lines, in order. */
  resourceRuns(node: NodeName): { script: string; action: string; line: string }[] {
    return this.nodeLog(node, 'ha-debug')
      .split('\n')
      .map((line) => ({ line, m: /info: Running \/etc\/(?:ha\.d\/+resource\.d|init\.d)\/+(\S+).* (start|stop)$/.exec(line) }))
      .filter((x) => x.m)
      .map((x) => ({ script: x.m![1]!, action: x.m![2]!, line: x.line }));
  }

  /** Both nodes' ha-debug files as `ha-agent timeline` arguments (NODE=PATH). */
  timelineInputs(): string[] {
    return NODES.map((node) => `${node}=${this.base}/${node}-node-log/ha-debug`).filter((arg) => existsSync(arg.slice(arg.indexOf('=') + 1)));
  }

  /** Both nodes' ha-debug lines with their stamps (ms with the timeline option), in time order. */
  timelineLines(): TimelineLine[] {
    return NODES.flatMap((node) => parseHaDebug(this.nodeLog(node, 'ha-debug'), node)).sort((a, b) => a.t - b.t);
  }

  haLog(node: NodeName): string {
    return this.nodeLog(node, 'ha-log');
  }

  /**
   * Samples, every intervalMs until stopped, who has /data mounted (the
   * nodes' mount tables), who has the VIP (their local routing tables) and
   * who is DRBD Primary (the double's state), all read from files, and
   * records every moment two nodes held the same thing: the promise is that
   * this never happens, not only that the end state is right.
   */
  startSafetyMonitor(intervalMs = 100): void {
    if (this.monitorTimer) return;
    let busy = false;
    const sample = async () => {
      if (busy) return;
      busy = true;
      try {
        const mounted: string[] = [];
        const vip: string[] = [];
        const primary: string[] = [];
        // Synchronous reads only (node-state.ts): a sample is one moment, not a sweep.
        for (const node of NODES.filter((n) => this.nodes[n]?.alive)) {
          const init = this.nodes[node]!.initPid;
          if (hasMountOn(init, '/data')) mounted.push(node);
          if (hasLocalAddress(init, VIP)) vip.push(node);
          if (isDrbdPrimary(this.drbdState, node)) primary.push(node);
        }
        this.monitorSamples += 1;
        for (const [what, holders] of [['/data mounted', mounted], ['VIP', vip], ['DRBD Primary', primary]] as const) {
          if (holders.length > 1) {
            const text = `${what} on ${holders.join(' and ')} at +${((Date.now() - this.t0) / 1000).toFixed(1)}s`;
            this.violations.push(text);
            this.say(`SAFETY VIOLATION: ${text}`);
          }
        }
      } finally {
        busy = false;
      }
    };
    this.monitorTimer = setInterval(() => void sample(), intervalMs);
  }

  stopSafetyMonitor(): void {
    if (this.monitorTimer) clearInterval(this.monitorTimer);
    this.monitorTimer = undefined;
  }

  /**
   * Follows both nodes' ha-log and reports the lines that tell who holds
   * what (daemon decisions, ResourceManager steps, our agents' INFO lines)
   * through say(), stamped when seen. For the demo's timeline.
   */
  watchLogs(intervalMs = 150): void {
    if (this.logTimer) return;
    const offsets: Record<string, number> = {};
    const poll = () => {
      for (const node of NODES) {
        const path = `${this.base}/${node}-node-log/ha-log`;
        if (!existsSync(path)) continue;
        const text = readFileSync(path, 'utf8');
        const start = offsets[node] ?? 0;
        const end = text.lastIndexOf('\n') + 1;
        if (end <= start) continue;
        offsets[node] = end;
        for (const line of text.slice(start, end).split('\n')) {
          const summary = summariseHaLogLine(line);
          if (summary) this.say(`  ${node.padEnd(7)} | ${summary}`);
        }
      }
    };
    this.logTimer = setInterval(poll, intervalMs);
    this.logPoll = poll;
  }

  stopWatchingLogs(): void {
    if (this.logTimer) clearInterval(this.logTimer);
    this.logPoll?.();
    this.logTimer = undefined;
  }

  /** Calls the reboot/init/pkill/... stubs logged on a node (a failed stop would show here). */
  stubCalls(node: NodeName): string[] {
    return this.nodeLog(node, 'stub-calls.log').split('\n').filter(Boolean);
  }

  /** Everything down and gone: writer, replica, nodes (by their init PIDs), namespaces, loop device, files. */
  async destroy(keepLogs = false): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (fn: () => Promise<unknown>) => { try { await fn(); } catch (e) { errors.push(e); } };
    if (this.logTimer) clearInterval(this.logTimer);
    this.stopSafetyMonitor();
    await attempt(() => this.stopWriter());
    await attempt(() => this.stopReplica());
    for (const node of NODES) {
      const sb = this.nodes[node];
      if (sb) await attempt(() => sb.destroy(keepLogs));
    }
    for (const ns of [this.ns.master1, this.ns.master2, this.ns.client, this.ns.sw]) await attempt(() => netnsDelete(ns));
    await attempt(() => this.disk.destroy());
    if (!keepLogs) await attempt(async () => rmSync(this.base, { recursive: true, force: true }));
    if (errors.length) throw new AggregateError(errors, 'cluster teardown had errors');
  }
}

const HA_LOG_PATTERNS: [RegExp, (m: RegExpExecArray) => string][] = [
  [/Received shutdown notice from '(\w+)'/, (m) => `heartbeat: shutdown notice from ${m[1]}`],
  [/WARN: node (\w+): is dead/, (m) => `heartbeat: node ${m[1]} is dead`],
  [/Heartbeat restart on node (\w+)/, (m) => `heartbeat: ${m[1]} is back`],
  [/Initial resource acquisition complete/, () => 'heartbeat: initial resource acquisition complete'],
  [/(\w+) wants to go standby/, (m) => `heartbeat: ${m[1]} goes standby (auto_failback)`],
  [/mach_down takeover complete\./, () => 'heartbeat: takeover complete'],
  [/ResourceManager.*info: (Acquiring|Releasing) resource group/, (m) => `ResourceManager: ${m[1]!.toLowerCase()} the group`],
  [/ResourceManager.*info: Running \/etc\/ha\.d\/+resource\.d\/+(.*)$/, (m) => `ResourceManager: ${m[1]!.replace(/\s+/g, ' ')}`],
  [/\s(IPaddr|drbddisk|Filesystem|mysqld)\[\d+\]:\s+(INFO|WARNING|ERROR|CRIT): (.*)$/, (m) => `  ${m[1]}: ${m[2] === 'INFO' ? '' : `${m[2]}: `}${m[3]}`],
  [/ERROR: Return code (\d+) from (\S+)/, (m) => `ResourceManager: ERROR: return code ${m[1]} from ${m[2]}`],
  [/CRIT: (.*)/, (m) => `CRIT: ${m[1]}`],
];

/** One readable line for the demo's timeline, or undefined for noise. */
export function summariseHaLogLine(line: string): string | undefined {
  for (const [pattern, render] of HA_LOG_PATTERNS) {
    const m = pattern.exec(line);
    if (m) return render(m);
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
