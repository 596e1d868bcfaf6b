import type { AgentContext, AgentDefinition, Params } from '../../contract/agent.ts';
import { AgentError } from '../../contract/errors.ts';
import { resolveDrbdTools } from '../../drbd/config.ts';
import { Drbdadm } from '../../drbd/drbdadm.ts';
import { fstypeSupport } from '../../fs/fstype.ts';
import { findInterfaceForAddress } from '../../ip/iproute-json.ts';
import { parseVipSpec } from '../../ip/target.ts';
import { OptionFileError, readOptionFiles } from '../../mysql/mycnf.ts';
import { DEFAULT_CONFIG_FILES, resolveServerSettings } from '../../mysql/settings.ts';
import { posix } from 'node:path';
import { globLastPart, readDrbdResources, type DrbdResourceSettings } from '../../drbd/conf.ts';
import type { HaCfEntry } from '../hacf.ts';
import type { HaresourcesGroup, HaresourcesResource } from '../haresources.ts';
import type { FindingCode, Findings } from './codes.ts';
import type { CheckOptions, NodeFiles } from './context.ts';

// Our resources in haresources (HA305, HA31x–HA36x): what each agent needs
// on this node (the VIP's interface and network, the DRBD resource, the
// mount point and fstype, mysqld's option files, datadir and binary), the
// agent's own validate-all on the node itself, and the order inside a group
// (promote before mount, mount before mysqld); and the DRBD configuration
// of each drbddisk resource against split brain (fencing, handlers).

/** Where a resource of the group lives, for ordering and ownership checks. */
export interface Resolved {
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

/** Checks every resource of ours whose arguments parsed, then the order inside each group. */
export async function checkOurResources(resolved: readonly Resolved[], file: string, options: CheckOptions, files: NodeFiles, findings: Findings): Promise<void> {
  // Every resource's parameters are known, so mysqld sees the Filesystems after it too.
  for (const entry of resolved) if (entry.params) await checkOurResource(entry, resolved, file, options, files, findings);
  checkOrdering(resolved, file, findings);
}

/** Mount points of the group's Filesystem resources, with their index. */
function groupMounts(resolved: readonly Resolved[], group: HaresourcesGroup): GroupMount[] {
  return resolved
    .filter((r) => r.group === group && r.definition?.name === 'Filesystem' && r.params)
    .map((r) => ({ directory: r.params!.get('directory').replace(/\/+$/, ''), index: r.index, resource: r.resource }));
}

/** Whether `name` is in a directory of PATH (under the checked root). */
const onPath = (files: NodeFiles, env: NodeJS.ProcessEnv, name: string) =>
  (env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((dir) => dir && files.exists(`${dir}/${name}`));

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
      // IPaddr goes on without its duplicate check when arping is missing (as stock IPaddr, which never checks): say so here.
      if (spec.address.family === 'inet' && p.bool('run_arping') && !onPath(files, options.env, 'arping')) {
        say('HA312', `no arping on this node: start adds ${spec.ip} without checking that no other node still answers for it, so a split brain goes unnoticed`, 'install arping (Habets\' arping, or iputils\' arping: iputils-arping / iputils), or set run_arping=false');
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

/** HA360–HA362: the DRBD resources drbddisk names, as the DRBD configuration sets them up. */
export function checkDrbdFencing(resolved: readonly Resolved[], entries: readonly HaCfEntry[], files: NodeFiles, findings: Findings): void {
  const dopd = entries.some((e) => e.directive === 'respawn' && e.values.some((v) => posix.basename(v) === 'dopd'));
  // Only resources drbdadm knows (HA320 reports the others).
  const resources = resolved.filter((r) => r.definition?.name === 'drbddisk' && r.params && r.drbdDevice).map((r) => ({ name: r.params!.get('drbd_resource'), conf: r.params!.get('drbdconf') || undefined }));
  const reader = { read: (p: string) => { const t = files.read(p); return typeof t === 'string' ? t : undefined; }, glob: (p: string) => globLastPart(p, (d) => files.list(d)) };
  const cache = new Map<string, DrbdResourceSettings[]>();
  for (const { name, conf } of resources) {
    const main = conf || '/etc/drbd.conf';
    if (!cache.has(main)) cache.set(main, readDrbdResources(main, reader));
    const settings = cache.get(main)!.find((r) => r.name === name);
    if (!settings) continue; // unknown resources are HA320
    const fencing = settings.fencing && settings.fencing !== 'dont-care' ? settings.fencing : undefined;
    if (!fencing) {
      findings.add('HA360', settings.file, 0, `DRBD resource ${name} has no fencing policy${dopd ? ' (dopd runs, but DRBD never calls it)' : ' and ha.cf runs no dopd'}: after the heartbeat link fails, the side that takes over promotes a disk the other may still write, and the data diverge`, `set "fencing resource-only;" (disk section in 8.4, net in 9) with handlers { fence-peer "/usr/libexec/heartbeat/drbd-peer-outdater -t 5"; } and run dopd from ha.cf ("respawn hacluster /usr/libexec/heartbeat/dopd", "apiauth dopd gid=haclient uid=hacluster")`);
    } else if (!settings.handlers.has('fence-peer')) {
      findings.add('HA362', settings.file, 0, `DRBD resource ${name} has "fencing ${fencing}" but no fence-peer handler: DRBD has nothing to call when it loses the peer, so the fencing never happens`, 'add handlers { fence-peer "/usr/libexec/heartbeat/drbd-peer-outdater -t 5"; } (heartbeat with dopd) to the resource or to common');
    }
    if (!settings.handlers.has('split-brain')) {
      findings.add('HA361', settings.file, 0, `DRBD resource ${name} has no split-brain handler: when DRBD detects split brain it drops the connection and tells nobody`, 'add handlers { split-brain "/usr/lib/drbd/notify-split-brain.sh root"; } (it mails root; ha-agent watch reports the StandAlone state too)');
    }
  }
}
