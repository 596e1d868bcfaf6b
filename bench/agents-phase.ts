// Per-agent rows: cold `status` (held, released) and `start`/`stop`, ours
// against stock, interleaved. bench/run.sh runs this inside the network
// namespace it created (`ip netns exec`), which also gives this process a
// private mount namespace: the loop mount, and the bind mounts that point
// the stock scripts at the bench's MariaDB config and the drbdadm double,
// are invisible to the host and die with this process.
//
// Usage (from run.sh): bun bench/agents-phase.ts --tmp DIR --agents DIR --out FILE [--quick]
import { appendFileSync, chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hyperfineInterleaved, peakRssKiB, runTimed, sh, stats, type Ran } from './lib/measure.ts';
import { phaseArgs } from './lib/args.ts';
import { noteKey, type PhaseResult, type Row, type RssRow, type Side } from './lib/types.ts';

const { ROOT, argv, opt, quick, TMP, AGENTS, OUT } = phaseArgs('agents.json');
const STATE = `${TMP}/cleanup.state`;
const only = opt('--only')?.split(',');

// Sample sizes: status n = rounds x runs; start/stop n per side.
const STATUS_ROUNDS = quick ? 2 : 8;
const STATUS_RUNS = 2;
const CYCLES: Record<string, number> = quick
  ? { IPaddr: 2, Filesystem: 2, drbddisk: 2, mysqld: 1 }
  : { IPaddr: 5, Filesystem: 7, drbddisk: 7, mysqld: 5 };

const VIP = '198.18.4.1';
const NIC = 'eth1';

const env: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C',
  HOME: '/root',
  HA_RSCTMP: `${TMP}/rsctmp`,
  HA_LOGFILE: `${TMP}/ha-log`,
  HA_DEBUGLOG: `${TMP}/ha-debug`,
  HA_LOGFACILITY: 'none',
};

const result: PhaseResult = { rows: [], rss: [], notes: [] };

function remember(line: string) {
  appendFileSync(STATE, `${line}\n`);
}

/** ResourceManager's reading of a status text (resource_status in ResourceManager). */
function rmSaysHeld(stdout: string): boolean {
  if (/[Nn][Oo][Tt] *[Rr]unning/.test(stdout)) return false;
  return /[Rr]unning|OK/.test(stdout);
}

const pkgVersion = (name: string) => sh('dpkg-query', ['-W', '-f', '${Version}', name], { allowFailure: true }).stdout.trim() || '?';

const firstLine = (r: Ran) => (r.stdout.trim() || r.stderr.trim()).split('\n')[0]!.slice(0, 120);

interface AgentSpec {
  name: 'IPaddr' | 'Filesystem' | 'drbddisk' | 'mysqld';
  args: string[];
  stock: string;
  stockSource: string;
  /** The tuned group's script where it differs from the stock one (mysqld only). */
  tuned?: string;
  /** Independent check of the real state (not through either agent). */
  isHeld(): boolean;
  /** Last-resort cleanup when neither agent could release. */
  forceRelease(): void;
  /** Optional extra check right after a start returned (not timed). */
  afterStart?(): boolean;
  afterStartLabel?: string;
  pending?: string;
}

function agentPath(side: Side, spec: AgentSpec) {
  return side === 'ours' ? `${AGENTS}/${spec.name}` : side === 'tuned' ? (spec.tuned ?? spec.stock) : spec.stock;
}

/** The sides measured for this agent: the tuned group differs from the stock one only in its mysqld. */
const sidesOf = (spec: AgentSpec): Side[] => (spec.tuned ? ['ours', 'stock', 'tuned'] : ['ours', 'stock']);

/** Rows of an agent whose tuned script is the stock one: the tuned column repeats the stock numbers. */
function tunedIsStock(spec: AgentSpec, rows: Row[]) {
  if (spec.tuned) return;
  for (const row of rows) {
    row.tuned = row.stock;
    row.tunedSameAsStock = true;
  }
}

/** Order of the sides in round i: rotated every round, so no side always runs first. */
function rotation(sides: Side[], i: number): Side[] {
  const k = i % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

function call(side: Side, spec: AgentSpec, action: string): Ran {
  return runTimed(agentPath(side, spec), [...spec.args, action], { env, timeout: 120_000, captureDir: TMP });
}

function ensure(spec: AgentSpec, held: boolean): string {
  if (spec.isHeld() === held) return 'already';
  for (const side of ['ours', 'stock'] as Side[]) {
    const r = call(side, spec, held ? 'start' : 'stop');
    if (spec.isHeld() === held) return side;
    result.notes.push(`${spec.name}: ${side} ${held ? 'start' : 'stop'} while preparing: exit ${r.code}: ${firstLine(r)}`);
  }
  if (!held) {
    spec.forceRelease();
    if (!spec.isHeld()) return 'forced';
  }
  throw new Error(`${spec.name}: cannot bring the resource to ${held ? 'held' : 'released'}`);
}

// ---------------------------------------------------------------- fixtures

function inPrivateNamespaces() {
  // run.sh passes its own namespaces (/proc/1/ns is not readable in every container).
  const [hostNet, hostMnt] = (process.env.HOST_NS ?? '').split(' ');
  if (!hostNet || !hostMnt) throw new Error('refusing to run: HOST_NS not set (run bench/run.sh)');
  if (readlinkSync('/proc/self/ns/net') === hostNet) throw new Error('refusing to run: not inside a network namespace of the bench (run bench/run.sh)');
  if (readlinkSync('/proc/self/ns/mnt') === hostMnt) throw new Error('refusing to run: not inside a private mount namespace (run bench/run.sh)');
}

function ipaddrSpec(): AgentSpec {
  const has = () => sh('ip', ['-o', '-4', 'addr', 'show', 'dev', NIC], { env }).stdout.includes(` ${VIP}/`);
  return {
    name: 'IPaddr',
    args: [`${VIP}/16/${NIC}`],
    stock: '/etc/ha.d/resource.d/IPaddr',
    stockSource: `heartbeat ${pkgVersion('heartbeat')} wrapper over resource-agents ${pkgVersion('resource-agents')} OCF IPaddr`,
    isHeld: has,
    forceRelease: () => void sh('ip', ['addr', 'del', `${VIP}/16`, 'dev', NIC], { env, allowFailure: true }),
  };
}

function filesystemSpec(): AgentSpec {
  const img = `${TMP}/fs.img`;
  const mnt = `${TMP}/mnt`;
  mkdirSync(mnt, { recursive: true });
  sh('truncate', ['-s', '64M', img]);
  sh('mkfs.ext3', ['-q', '-F', img], { env });
  const dev = sh('losetup', ['--find', '--show', img], { env }).stdout.trim();
  remember(`loop ${dev} ${img}`);
  const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
  return {
    name: 'Filesystem',
    args: [dev, mnt, 'ext3'],
    stock: '/etc/ha.d/resource.d/Filesystem',
    stockSource: `heartbeat ${pkgVersion('heartbeat')} wrapper over resource-agents ${pkgVersion('resource-agents')} OCF Filesystem`,
    isHeld: mounted,
    forceRelease: () => void sh('umount', [mnt], { env, allowFailure: true }),
  };
}

function drbddiskSpec(): AgentSpec {
  const double = `${ROOT}/test/doubles/drbdadm`;
  // Debian 12's drbd-utils still ships the script; newer ones may not.
  const installed = '/etc/ha.d/resource.d/drbddisk';
  const stock = existsSync(installed) ? installed : `${ROOT}/bench/stock/drbddisk`;
  const stockSource = stock === installed ? `drbd-utils ${pkgVersion('drbd-utils')} ${installed} as installed` : 'bench/stock/drbddisk (copy from drbd-utils 9.22; not installed here)';
  const base = { name: 'drbddisk' as const, args: ['data'], stock, stockSource };
  if (!existsSync(double)) {
    return { ...base, isHeld: () => false, forceRelease: () => {}, pending: 'drbdadm double (test/doubles/drbdadm) not landed yet' };
  }
  const hooks = drbdDoubleHooks(double);
  return { ...base, ...hooks };
}

/**
 * Wires the drbdadm test double in for both sides the way a user configures
 * drbddisk: /etc/default/drbd (sourced by the stock script, honoured by
 * ours) sets DRBDADM. /etc/default is replaced by a copy in this private
 * mount namespace only.
 */
function drbdDoubleHooks(double: string): Pick<AgentSpec, 'isHeld' | 'forceRelease'> {
  const state = `${TMP}/drbd-state`;
  mkdirSync(state, { recursive: true });
  Object.assign(env, drbdDoubleEnv(state));
  const etcDefault = `${TMP}/etc-default`;
  cpSync('/etc/default', etcDefault, { recursive: true });
  writeFileSync(`${etcDefault}/drbd`, `# bench: the drbdadm test double stands in for DRBD\nDRBDADM=${double}\n`);
  sh('mount', ['--bind', etcDefault, '/etc/default']);
  drbdDoubleInit(double, state);
  const role = () => sh(double, ['role', 'data'], { env, allowFailure: true }).stdout.trim();
  return {
    isHeld: () => role().startsWith('Primary'),
    forceRelease: () => void sh(double, ['secondary', 'data'], { env, allowFailure: true }),
  };
}

// The double's interface is documented at the top of test/doubles/drbdadm:
// a state directory shared by the two nodes; this node is master1, the peer
// master2 is up, connected and Secondary. DRBD 8.3 output, as in the
// tutorial (drbd83-8.3.13).
function drbdDoubleEnv(state: string): Record<string, string> {
  return { DRBD_DOUBLE_STATE: state, DRBD_DOUBLE_NODE: 'master1', DRBD_DOUBLE_VERSION: process.env.BENCH_DRBD_VERSION ?? '8.3' };
}
function drbdDoubleInit(_double: string, state: string): void {
  const res = `${state}/res/data`;
  mkdirSync(res, { recursive: true });
  writeFileSync(`${res}/nodes`, 'master1 master2\n');
  writeFileSync(`${res}/minor`, '1\n');
  writeFileSync(`${res}/role.master1`, 'Secondary\n');
  writeFileSync(`${res}/role.master2`, 'Secondary\n');
}

function mysqldSpec(): AgentSpec {
  const base = `${TMP}/mysql`;
  const data = `${base}/data`;
  const socket = `${base}/mysqld.sock`;
  const pidFile = `${data}/mysqld.pid`;
  const cnf = `${TMP}/my.cnf`;
  chmodSync(TMP, 0o755); // mysqld runs as mysql and must reach its datadir and socket
  mkdirSync(data, { recursive: true });
  const mysqlUid = Number(sh('id', ['-u', 'mysql']).stdout.trim());
  const mysqlGid = Number(sh('id', ['-g', 'mysql']).stdout.trim());
  chownSync(base, mysqlUid, mysqlGid);
  chownSync(data, mysqlUid, mysqlGid);
  // The tutorial's my.cnf essentials (datadir on the replicated disk, log-bin
  // for the replicas), made private: socket only, no TCP.
  writeFileSync(
    cnf,
    [
      '# bench: throwaway MariaDB for the mysqld rows (bind-mounted over /etc/mysql/my.cnf in the bench namespace only)',
      '[client]',
      `socket = ${socket}`,
      '[mysqld]',
      'user = mysql',
      `datadir = ${data}`,
      `socket = ${socket}`,
      `pid-file = ${pidFile}`,
      `log-error = ${base}/error.log`,
      'skip-networking',
      'log-bin = mysql-bin',
      'server-id = 1',
      'innodb_buffer_pool_size = 32M',
      'innodb_log_file_size = 16M',
      'innodb_flush_log_at_trx_commit = 1',
      '',
    ].join('\n'),
  );
  sh('mount', ['--bind', cnf, '/etc/mysql/my.cnf']);
  sh('mariadb-install-db', [`--defaults-file=${cnf}`, '--user=mysql', '--skip-test-db', '--auth-root-authentication-method=socket'], { env, timeout: 120_000 });
  const pid = () => {
    try {
      return Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
    } catch {
      return undefined;
    }
  };
  const alive = (p: number | undefined) => p !== undefined && existsSync(`/proc/${p}`);
  // Processes of this bench's server (mysqld_safe, mariadbd): their command
  // line names this run's unique datadir or config.
  const serverPids = () => pidsNaming([data, cnf]);
  return {
    name: 'mysqld',
    args: [],
    stock: `${ROOT}/bench/stock/mysqld`,
    stockSource: 'bench/stock/mysqld: MySQL 5.x mysql.server as /etc/init.d/mysqld (tutorial section 4)',
    tuned: `${ROOT}/bench/stock/mysqld-tuned`,
    isHeld: () => alive(pid()),
    forceRelease: () => {
      for (const p of serverPids()) if (p !== process.pid) try { process.kill(p, 'SIGTERM'); } catch { /* gone */ }
      for (let i = 0; i < 300 && serverPids().length; i++) Bun.sleepSync(50);
    },
    afterStart: () => sh('mariadb', [`--socket=${socket}`, '-uroot', '-N', '-e', 'select 1'], { env, allowFailure: true }).code === 0,
    afterStartLabel: 'accepts a query when start returns',
  };
}

/** PIDs (other than ours) whose command line contains one of `needles` (unique temp paths). */
function pidsNaming(needles: string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (needles.some((n) => cmdline.includes(n))) found.push(Number(entry));
    } catch { /* exited */ }
  }
  return found;
}

// ---------------------------------------------------------------- measuring

function measureStatus(spec: AgentSpec, held: boolean) {
  const label = `${spec.name} status (${held ? 'held' : 'released'})`;
  const row: Row = { id: `status.${spec.name}.${held ? 'held' : 'released'}`, section: 'status', label, unit: 'ms' };
  result.rows.push(row);
  if (spec.pending) {
    row.pending = true;
    row.note = spec.pending;
    return;
  }
  ensure(spec, held);
  const commands: { name: Side; argv: string[] }[] = [];
  for (const side of sidesOf(spec)) {
    const probe = call(side, spec, 'status');
    const reads = rmSaysHeld(probe.stdout);
    const text = `exit ${probe.code}, "${firstLine(probe)}"`;
    // Right reading by ResourceManager, and not an error exit (LSB 0/3, OCF 7).
    if (reads !== held || ![0, 3, 7].includes(probe.code)) {
      row[noteKey(side)] = `wrong answer (${text}), not timed`;
      continue;
    }
    row[noteKey(side)] = text;
    commands.push({ name: side, argv: [agentPath(side, spec), ...spec.args, 'status'] });
  }
  const times = hyperfineInterleaved(commands, { rounds: STATUS_ROUNDS, runsPerRound: STATUS_RUNS, env, scratch: TMP });
  for (const side of sidesOf(spec)) row[side] = stats(times[side] ?? []);
  tunedIsStock(spec, [row]);
  if (spec.isHeld() !== held) result.notes.push(`${label}: the state changed while measuring`);
  if (held) {
    const rss: RssRow = { label: `${spec.name} status (held)` };
    if (row.ours) rss.oursKiB = peakRssKiB(agentPath('ours', spec), [...spec.args, 'status'], { env }, TMP);
    if (row.stock) rss.stockKiB = peakRssKiB(agentPath('stock', spec), [...spec.args, 'status'], { env }, TMP);
    result.rss.push(rss);
  }
}

function measureStartStop(spec: AgentSpec) {
  const start: Row = { id: `start.${spec.name}`, section: 'start/stop', label: `${spec.name} start`, unit: 'ms' };
  const stop: Row = { id: `stop.${spec.name}`, section: 'start/stop', label: `${spec.name} stop`, unit: 'ms' };
  result.rows.push(start, stop);
  if (spec.pending) {
    start.pending = stop.pending = true;
    start.note = stop.note = spec.pending;
    return;
  }
  const sides = sidesOf(spec);
  const samples = { start: { ours: [] as number[], stock: [] as number[], tuned: [] as number[] }, stop: { ours: [] as number[], stock: [] as number[], tuned: [] as number[] } };
  const failures: Record<Side, string | undefined> = { ours: undefined, stock: undefined, tuned: undefined };
  const ready: Record<Side, [number, number]> = { ours: [0, 0], stock: [0, 0], tuned: [0, 0] };
  // Three sides: as many cycles as two sides had, and at least 2 per side per order position.
  const cycles = sides.length === 3 ? Math.max(CYCLES[spec.name]!, quick ? 2 : 6) : CYCLES[spec.name]!;
  for (let i = 0; i < cycles; i++) {
    for (const side of sides.length === 3 ? rotation(sides, i) : ((i % 2 ? ['stock', 'ours'] : ['ours', 'stock']) as Side[])) {
      if (failures[side]) continue;
      ensure(spec, false);
      const up = call(side, spec, 'start');
      if (up.code !== 0 || !spec.isHeld()) {
        failures[side] = `start failed: exit ${up.code}: ${firstLine(up)}`;
        continue;
      }
      samples.start[side].push(up.ms);
      if (spec.afterStart) {
        ready[side][1]++;
        if (spec.afterStart()) ready[side][0]++;
      }
      const down = call(side, spec, 'stop');
      if (down.code !== 0 || spec.isHeld()) {
        failures[side] = `stop failed: exit ${down.code}: ${firstLine(down)}`;
        continue;
      }
      samples.stop[side].push(down.ms);
    }
  }
  ensure(spec, false);
  for (const side of sides) {
    start[side] = stats(samples.start[side]);
    stop[side] = stats(samples.stop[side]);
    const key = noteKey(side);
    if (failures[side]) {
      start[key] = stop[key] = failures[side];
    }
    if (spec.afterStart && ready[side][1]) {
      const text = `${spec.afterStartLabel}: ${ready[side][0]}/${ready[side][1]}`;
      start[key] = start[key] ? `${start[key]}; ${text}` : text;
    }
  }
  tunedIsStock(spec, [start, stop]);
  // Peak memory of one start (mysqld's loads mysql2): one extra, untimed cycle.
  const rss: RssRow = { label: `${spec.name} start` };
  for (const side of ['ours', 'stock'] as Side[]) {
    if (failures[side] || !samples.start[side].length) continue;
    ensure(spec, false);
    const kib = peakRssKiB(agentPath(side, spec), [...spec.args, 'start'], { env }, TMP);
    if (side === 'ours') rss.oursKiB = kib;
    else rss.stockKiB = kib;
    ensure(spec, false);
  }
  result.rss.push(rss);
}

// ---------------------------------------------------------------- main

/**
 * The stock Filesystem agent refuses to run without modprobe (check_binary),
 * and kmod is not installed on these machines. A real host has it and would
 * find ext3 loaded; a no-op shim stands in, first in PATH for both sides.
 */
function modprobeShim() {
  if (sh('sh', ['-c', 'command -v modprobe'], { env, allowFailure: true }).code === 0) return;
  const bin = `${TMP}/bin`;
  mkdirSync(bin, { recursive: true });
  writeFileSync(`${bin}/modprobe`, '#!/bin/sh\n# bench: kmod is not installed here; modules in use are built in or loaded\nexit 0\n', { mode: 0o755 });
  env.PATH = `${bin}:${env.PATH}`;
  result.notes.push('kmod (modprobe) is not installed here: the stock Filesystem agent gets a no-op modprobe shim first in PATH (both sides see it)');
}

function main() {
  inPrivateNamespaces();
  mkdirSync(env.HA_RSCTMP!, { recursive: true });
  modprobeShim();
  const builders: [string, () => AgentSpec][] = [
    ['IPaddr', ipaddrSpec],
    ['Filesystem', filesystemSpec],
    ['drbddisk', drbddiskSpec],
    ['mysqld', mysqldSpec],
  ];
  const specs: AgentSpec[] = [];
  for (const [name, build] of builders) {
    if (only && !only.includes(name)) continue;
    try {
      specs.push(build());
    } catch (error) {
      result.notes.push(`${name}: fixture setup failed: ${(error as Error).message}`);
      specs.push({ name: name as AgentSpec['name'], args: [], stock: '', stockSource: '', isHeld: () => false, forceRelease: () => {}, pending: `fixture setup failed: ${(error as Error).message.split('\n')[0]}` });
    }
  }
  try {
    for (const spec of specs) {
      process.stderr.write(`bench: ${spec.name} status\n`);
      try {
        measureStatus(spec, true);
        measureStatus(spec, false);
      } catch (error) {
        result.notes.push(`${spec.name} status: ${(error as Error).message}`);
      }
    }
    for (const spec of specs) {
      process.stderr.write(`bench: ${spec.name} start/stop\n`);
      try {
        measureStartStop(spec);
      } catch (error) {
        result.notes.push(`${spec.name} start/stop: ${(error as Error).message}`);
      }
    }
  } finally {
    for (const spec of specs) {
      if (spec.pending) continue;
      try {
        ensure(spec, false);
      } catch (error) {
        result.notes.push(`cleanup ${spec.name}: ${(error as Error).message}`);
        spec.forceRelease();
      }
    }
    (result as PhaseResult & { stock?: Record<string, string> }).stock = {
      ...Object.fromEntries(specs.map((s) => [s.name, s.stockSource])),
      tuned: 'the tuned shell group: the same stock IPaddr, Filesystem and drbddisk, and bench/stock/mysqld-tuned (mysqld_safe, readiness polled every 0.2 s with mysqladmin ping, stop = SIGTERM and a 0.2 s poll until the pid is gone)',
    };
    writeFileSync(OUT, JSON.stringify(result, null, 2));
  }
}

main();
