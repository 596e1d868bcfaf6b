import { execa } from 'execa';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DrbdDouble, type DrbdVersion } from '../rig/drbd-double.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';
import { destroySandboxes, makeSandbox, MYSQL_UID_GID } from '../rig/mariadb.ts';
import { createLan, type Lan } from '../rig/netns.ts';
import type { WorkerRig } from './harness.ts';

// One rig per concurrent worker, so that cases running at the same time
// never see each other's changes: its own network namespace, DRBD double
// state, loop image and scratch directory, HA_RSCTMP (locks, announcer
// records) and log file. Every rig is torn down by the returned function,
// which the tests call from t.teardown (also on failure).

export interface Rigs {
  workers: WorkerRig[];
  destroy(): Promise<void>;
}

function haEnv(dir: string): Record<string, string> {
  mkdirSync(`${dir}/rsctmp`, { recursive: true });
  return { HA_RSCTMP: `${dir}/rsctmp`, HA_LOGFILE: `${dir}/ha-log`, HA_DEBUGLOG: `${dir}/ha-debug` };
}

/** PIDs whose network namespace is /run/netns/<ns> (what `ip netns pids` prints, without a process per snapshot). */
function processesIn(ns: string): string[] {
  const inode = statSync(`/run/netns/${ns}`).ino;
  const pids: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (statSync(`/proc/${pid}/ns/net`).ino === inode) pids.push(pid);
    } catch {
      // Exited meanwhile.
    }
  }
  return pids.sort();
}

const BASE_V4 = '198.18.0.1/24';
const BASE_V6 = 'fd00::1/64';
/** VIPs the rig holds from the start (as a start would have added them), so that stop and status meet a held resource. */
const HELD_V4 = '198.18.0.9/24';
const HELD_V6 = 'fd00::9/64';

async function holdVips(ns: string, present: readonly string[]): Promise<void> {
  if (!present.includes(HELD_V4)) await execa('ip', ['-n', ns, 'addr', 'add', HELD_V4, 'dev', 'eth1', 'label', 'eth1:9']);
  if (!present.includes(HELD_V6)) await execa('ip', ['-n', ns, 'addr', 'add', HELD_V6, 'dev', 'eth1', 'nodad']);
}

interface AddrInfo { ifname: string; addr_info: { family: string; local: string; prefixlen: number; label?: string }[] }

/** IPaddr: a namespace with eth1 (198.18.0.1/24, fd00::1/64), no IPv6 DAD wait, plugged into a bridge with nobody else. */
export async function ipaddrRigs(count: number): Promise<Rigs> {
  const lans: Lan[] = [];
  const dirs: string[] = [];
  const workers: WorkerRig[] = [];
  const destroy = async () => {
    for (const lan of lans) await lan.destroy();
    for (const dir of dirs) await removeScratchDir(dir);
  };
  try {
    for (let w = 0; w < count; w++) {
      // DAD would make every IPv6 start wait a second or more; the duplicate check itself is tested in test/agents.
      const lan = await createLan(`fzi${w}-`, [{ name: 'a', addresses: [BASE_V4, BASE_V6], sysctls: { 'net.ipv6.conf.all.accept_dad': '0', 'net.ipv6.conf.default.accept_dad': '0' } }]);
      lans.push(lan);
      const ns = lan.nodes.a!.ns;
      const dir = makeScratchDir('fuzz-ipaddr');
      dirs.push(dir);
      const addresses = async () => {
        const { stdout } = await execa('ip', ['-n', ns, '-j', 'addr', 'show']);
        return (JSON.parse(stdout) as AddrInfo[]).flatMap((l) => l.addr_info.filter((a) => a.family === 'inet' || !a.local.startsWith('fe80:')).map((a) => ({ ifname: l.ifname, ...a })));
      };
      const pids = async () => processesIn(ns);
      await holdVips(ns, []);
      workers.push({
        atoms: {},
        env: haEnv(dir),
        netns: ns,
        snapshot: async () => JSON.stringify({ addresses: (await addresses()).map((a) => `${a.ifname} ${a.local}/${a.prefixlen} ${a.label ?? ''}`).sort(), processes: await pids() }),
        restore: async () => {
          for (const pid of await pids()) {
            try {
              process.kill(Number(pid), 'SIGKILL');
            } catch {
              // Gone.
            }
          }
          const base = new Set([BASE_V4, BASE_V6, HELD_V4, HELD_V6, '127.0.0.1/8', '::1/128']);
          const present = await addresses();
          for (const a of present) {
            if (!base.has(`${a.local}/${a.prefixlen}`)) await execa('ip', ['-n', ns, 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', a.ifname], { reject: false });
          }
          await holdVips(ns, present.map((a) => `${a.local}/${a.prefixlen}`));
        },
        withoutTransient: (snapshot) => JSON.stringify((JSON.parse(snapshot) as { addresses: string[] }).addresses),
        released: (before, after) => {
          const b = JSON.parse(before) as { addresses: string[]; processes: string[] };
          const a = JSON.parse(after) as { addresses: string[]; processes: string[] };
          return a.addresses.every((x) => b.addresses.includes(x)) && a.processes.join() === b.processes.join();
        },
      });
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  return { workers, destroy };
}

/**
 * drbddisk: the drbdadm double (8.3, 8.4, 9 across workers) on node master1 with
 *   r0 Secondary, UpToDate, connected: a start promotes it (then the stop must demote it);
 *   r1 Secondary, Outdated;  r2 Secondary, StandAlone;  r3 not up here;  r4 Primary here (held).
 */
export function drbddiskRigs(count: number): Rigs {
  const versions: DrbdVersion[] = ['8.4', '9', '8.3'];
  const doubles: DrbdDouble[] = [];
  const setUp = (d: DrbdDouble) => {
    rmSync(join(d.stateDir, 'res'), { recursive: true, force: true });
    d.defineResource('r0', { minor: 0 }).setRole('r0', 'master1', 'Secondary').setRole('r0', 'master2', 'Secondary');
    d.defineResource('r1', { minor: 1 }).setRole('r1', 'master1', 'Secondary').setRole('r1', 'master2', 'Secondary').setDisk('r1', 'master1', 'Outdated');
    d.defineResource('r2', { minor: 2 }).setRole('r2', 'master1', 'Secondary').setRole('r2', 'master2', 'Secondary').setStandAlone('r2', 'master1');
    d.defineResource('r3', { minor: 3 }).setRole('r3', 'master2', 'Secondary');
    d.defineResource('r4', { minor: 4 }).setRole('r4', 'master1', 'Primary').setRole('r4', 'master2', 'Secondary');
    writeFileSync(join(d.stateDir, 'drbd.conf'), '# the double does not read it; drbddisk checks that it exists\n');
  };
  const workers = Array.from({ length: count }, (_, w) => {
    const d = DrbdDouble.create(versions[w % versions.length]!, `fuzz-drbd-${process.pid}-`);
    doubles.push(d);
    setUp(d);
    const resDir = join(d.stateDir, 'res');
    const { DRBD_DOUBLE_LOG: _log, ...env } = d.env('master1'); // no call log: it would grow with every case
    const rig: WorkerRig = {
      atoms: { conf: join(d.stateDir, 'drbd.conf') },
      env: { ...env, ...haEnv(d.stateDir) },
      // The roles, disks and connections of every resource: what promote/demote change.
      snapshot: async () =>
        JSON.stringify(readdirSync(resDir).sort().map((res) => [res, readdirSync(join(resDir, res)).sort().map((f) => `${f}=${readFileSync(join(resDir, res, f), 'utf8').trim()}`)])),
      restore: async () => setUp(d),
      // A stop may only demote this node: role.master1 Primary → Secondary, nothing else.
      released: (before, after) => {
        const b = new Map(JSON.parse(before) as [string, string[]][]);
        return (JSON.parse(after) as [string, string[]][]).every(([res, files]) => {
          const was = b.get(res) ?? [];
          return files.length === was.length && files.every((f, i) => f === was[i] || (was[i] === 'role.master1=Primary' && f === 'role.master1=Secondary'));
        });
      },
    };
    return rig;
  });
  return { workers, destroy: async () => doubles.forEach((d) => d.cleanup()) };
}

function plainFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Filesystem: an ext4 loop image per worker, a scratch directory with mnt/ and src/ (a bind source). */
export async function filesystemRigs(count: number): Promise<Rigs> {
  const images: LoopImage[] = [];
  const dirs: string[] = [];
  const destroy = async () => {
    for (const image of images) await destroyLoopImage(image);
    for (const dir of dirs) await removeScratchDir(dir);
  };
  const workers: WorkerRig[] = [];
  try {
    for (let w = 0; w < count; w++) {
      const dir = makeScratchDir('fuzz-fs');
      dirs.push(dir);
      // Logs and locks outside the scratch directory: a case may mount over all of it and hide
      // them (the agent itself moves its lock off a mount point it may unmount: lib/system/lock.ts).
      const state = makeScratchDir('fuzz-fs-state');
      dirs.push(state);
      const image = await createLoopImage(dir, 'ext4', `fz${w}${process.pid}`.slice(0, 12));
      images.push(image);
      mkdirSync(`${dir}/mnt`);
      mkdirSync(`${dir}/src`);
      writeFileSync(`${dir}/file`, 'not a directory\n');
      const initialFiles = plainFiles(dir);
      const ours = () =>
        readFileSync('/proc/self/mountinfo', 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const f = line.split(' ');
            const sep = f.indexOf('-');
            return { point: f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))), fstype: f[sep + 1]!, source: f[sep + 2]! };
          })
          .filter((m) => m.source === image.device || m.point === dir || m.point.startsWith(`${dir}/`));
      workers.push({
        atoms: { dev: image.device, uuid: image.uuid, label: image.label, scratch: dir },
        env: haEnv(state),
        // Mounts, and the plain files beside the mount points (a status file written outside its mount would land there).
        // (Not while something is mounted on the scratch directory itself: then a monitor's own status file is in the listing.)
        snapshot: async () => {
          const mounts = ours();
          return JSON.stringify({ mounts: mounts.map((m) => `${m.point} ${m.fstype} ${m.source}`), files: mounts.some((m) => m.point === dir) ? 'covered' : plainFiles(dir) });
        },
        restore: async () => {
          for (let round = 0; round < 5 && ours().length; round++) for (const m of ours().reverse()) await execa('umount', [m.point], { reject: false });
          for (const name of plainFiles(dir)) if (!initialFiles.includes(name)) rmSync(`${dir}/${name}`, { force: true });
        },
      });
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  return { workers, destroy };
}

/**
 * mariadbd/mysqld processes whose working directory *is* `dir` (same device and inode): a server in
 * another test's private root whose datadir is also called /var/lib/mysql is not on this one.
 */
function serversIn(dir: string): number[] {
  let target;
  try {
    target = statSync(dir);
  } catch {
    return [];
  }
  return serverPidsOnAnyPath().filter((pid) => {
    try {
      const cwd = statSync(`/proc/${pid}/cwd`);
      return cwd.dev === target.dev && cwd.ino === target.ino;
    } catch {
      return false;
    }
  });
}

function serverPidsOnAnyPath(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (/\/(mariadbd|mysqld)( \(deleted\))?$/.test(readlinkSync(`/proc/${name}/exe`))) pids.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/**
 * mysqld: one sandbox whose datadir is *not* initialised (the agent never
 * initialises one, so no start can start a server), a malformed option
 * file, a credentials file. Shared by the workers: nothing here changes.
 */
export async function mysqldRigs(count: number): Promise<Rigs> {
  const box = await makeSandbox('fuzz', { initialised: false });
  const [uid, gid] = await MYSQL_UID_GID();
  const badcnf = `${box.root}/bad.cnf`;
  writeFileSync(badcnf, '[mysqld\ndatadir = /nonexistent\n');
  const creds = `${box.root}/creds.cnf`;
  writeFileSync(creds, '[client]\nuser = root\npassword = fuzz\n');
  chmodSync(creds, 0o600);
  const emptyDir = `${box.root}/empty`;
  mkdirSync(emptyDir);
  chownSync(emptyDir, uid, gid);
  // Servers that run before the fuzzing starts (other tests' own) are not ours to judge; only new ones on these datadirs are.
  const watched = [box.datadir, emptyDir, '/var/lib/mysql'];
  const servers = () => watched.map((d) => `${d}: ${serversIn(d).sort().join(' ')}`).join('; ');
  const initial = servers();
  const workers = Array.from({ length: count }, (_, w) => {
    const dir = `${box.root}/w${w}`;
    mkdirSync(dir);
    const rig: WorkerRig = {
      atoms: { cnf: box.config, badcnf, creds, datadir: box.datadir, empty: emptyDir, root: box.root, run: box.runDir },
      env: haEnv(dir),
      snapshot: async () => servers(),
      restore: async () => {
        // A server that the fuzzing started (it is not in the initial list): ours to end.
        if (servers() === initial) return;
        for (const d of watched) for (const pid of serversIn(d)) if (!initial.includes(String(pid))) process.kill(pid, 'SIGKILL');
      },
    };
    return rig;
  });
  return { workers, destroy: destroySandboxes };
}
