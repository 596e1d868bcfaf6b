import { posix } from 'node:path';
import { canonicalAddress, parseAddress } from '../../ip/address.ts';
import { paramsFromV1Args } from '../../contract/params.ts';
import type { HaCfEntry } from '../hacf.ts';
import type { Haresources, HaresourcesResource } from '../haresources.ts';
import type { Findings } from './codes.ts';
import type { CheckOptions, NodeFiles } from './context.ts';
import type { Resolved } from './resources.ts';

// The node (HA4xx): what it starts at boot (rc?.d links, systemd *.wants
// links, /etc/fstab, the OS's network configuration), read as files under
// the root, never through systemctl; whether the peer's name resolves; and
// whether anything watches the node (ha-agent watch).

/** Init script names and systemd units that start what a resource manages. */
function bootUnitsFor(r: Resolved): string[] {
  if (!r.definition) return [r.resource.script];
  if (r.definition.name === 'mysqld') return ['mysql', 'mysqld', 'mariadb'];
  return [];
}

export async function checkNode(parsed: Haresources, nodes: readonly { name: string }[], node: string, options: CheckOptions, files: NodeFiles, findings: Findings): Promise<void> {
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

  // Milliseconds in the logs, for `ha-agent timeline`: heartbeat stamps its own lines to the second
  // and exports HA_DATEFMT="%Y/%m/%d_%T " to its children; ResourceManager sources shellfuncs, so a
  // HA_DATEFMT with %N there gives ResourceManager's and the agents' lines milliseconds.
  const shellfuncs = `${options.haDir.replace(/\/+$/, '')}/shellfuncs`;
  const sf = files.read(shellfuncs);
  if (typeof sf === 'string' && !/^\s*(?:export\s+)?HA_DATEFMT=['"]?[^'"\n]*%\d*N/m.test(sf)) {
    findings.add('HA407', shellfuncs, 0, 'ResourceManager and the agents stamp their log lines to the second (no HA_DATEFMT with %N here): after an incident, ha-agent timeline cannot tell which step of a takeover was slow', `add at the end of ${shellfuncs}: HA_DATEFMT='%Y/%m/%d_%T.%3N '; export HA_DATEFMT (and HA_debug=1; export HA_debug for each resource call's start and end)`);
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

/** HA406: `ha-agent watch` from ha.cf's respawn, or an enabled systemd unit. */
export function checkWatch(entries: readonly HaCfEntry[], file: string, files: NodeFiles, findings: Findings): void {
  const enabledUnits = [...bootEnabled(files).keys()];
  const respawned = entries.some((e) => e.directive === 'respawn' && e.values.some((v, i) => /^ha-agent/.test(posix.basename(v)) && (posix.basename(v) === 'ha-agent-watch' || e.values[i + 1] === 'watch')));
  if (respawned || enabledUnits.some((u) => /^ha-agent-watch(@.*)?$/.test(u))) return;
  findings.add('HA406', file, 0, 'nothing watches this node: no "respawn … ha-agent watch" in ha.cf and no enabled ha-agent-watch unit, so a split brain, a dead heartbeat or a stopped mysqld is seen only when a customer calls', 'add "respawn root /usr/sbin/ha-agent watch --alert-exec /etc/ha.d/alert.sh" (or --mail-to root) to ha.cf on both nodes, or systemctl enable ha-agent-watch');
}
