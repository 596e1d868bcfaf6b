import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

// The tools of older systems in place of this machine's, for the agents
// only: each agent call goes through a wrapper script that binds the old
// binary over the system's (/usr/bin/ip, /usr/sbin/arping) in a mount
// namespace of its own (unshare -m with slave propagation: the binds stay in
// it, and other tests' unmounts still reach it, so it never holds a copy of
// their loop mounts), then execs the real agent. The
// test's own rig (createLan, the assertions' `ip -j`) keeps Debian 12's ip.
//
// Old ip: HARA_OLD_IP_DIR names a directory of iproute2 builds called
// ip-VERSION (ip-3.10.0, ip-4.9.0 ...: iproute2's ip of that version; no
// such binary, nor its source or a recipe for it, is in this repository).
// Without it (CI), the text path still runs against a real ip:
// a wrapper over this machine's ip that answers -j exactly as iproute2
// before 4.14 does (exit 255, its message) and execs the real ip otherwise.
//
// iputils' arping: Debian's iputils-arping conflicts with Habets' arping,
// so test/install-deps.sh keeps its .deb in test/.cache and this extracts it.

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Where the agents' own build is, as test/rig/agents.ts has it (not imported: that module may point at wrappers). */
const BUILT_AGENTS = process.env.HA_AGENTS_DIR ?? resolve(ROOT, 'dist/resource.d');
const AGENT_NAMES = ['IPaddr', 'drbddisk', 'Filesystem', 'mysqld', 'ha-agent'];

/** What old ip says to -j (iproute2 3.10 to 4.13), with exit 255. */
export const OLD_IP_NO_JSON = 'Option "-j" is unknown, try "ip -help".';

export interface Bind {
  source: string;
  target: string;
  /** target is expanded by the wrapper's shell (e.g. /proc/$$/net: the agent's own, since the shell execs it). */
  shell?: boolean;
}

/** One `ip` to run the agents against. */
export interface IpUnderTest {
  /** "ip-4.9.0", or "no-json wrapper" for the CI stand-in. */
  name: string;
  path: string;
  /** Whether this ip has JSON addresses (iproute2 4.14 and later). */
  json: boolean;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A copy of this machine's ip named `ip` (iproute2 reads a longer name as a
 * batch object) in `dir`, and a wrapper beside it that refuses -j as ip
 * before 4.14 does. `log`: every call's arguments appended there, so a test
 * can see what the agent ran.
 */
export function noJsonIp(dir: string, options: { log?: string; refuseJson?: boolean } = {}): string {
  const real = `${dir}/real`;
  mkdirSync(real, { recursive: true });
  if (!existsSync(`${real}/ip`)) copyFileSync('/usr/bin/ip', `${real}/ip`);
  chmodSync(`${real}/ip`, 0o755);
  const wrapper = `${dir}/${options.refuseJson === false ? 'ip-logged' : 'ip-no-json'}`;
  const lines = ['#!/bin/sh'];
  if (options.log) lines.push(`printf '%s\\n' "$*" >> ${quote(options.log)}`);
  if (options.refuseJson !== false) {
    lines.push(
      '# ip before 4.14: its option loop stops at the first non-option; -j (or -json) is unknown there.',
      'for a in "$@"; do',
      '  case "$a" in',
      `    -j|-js|-jso|-json) echo "Option \\"$a\\" is unknown, try \\"ip -help\\"." >&2; exit 255 ;;`,
      '    -*) ;;',
      '    *) break ;;',
      '  esac',
      'done',
    );
  }
  lines.push(`exec ${quote(`${real}/ip`)} "$@"`);
  writeFileSync(wrapper, `${lines.join('\n')}\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** The no-JSON wrapper always; then every ip-* of HARA_OLD_IP_DIR, oldest first. */
export function ipsUnderTest(dir: string): IpUnderTest[] {
  const list: IpUnderTest[] = [{ name: 'no-json wrapper', path: noJsonIp(dir), json: false }];
  const old = process.env.HARA_OLD_IP_DIR;
  if (old) {
    const versions = readdirSync(old).filter((n) => /^ip-\d+\.\d+(\.\d+)?$/.test(n));
    const key = (n: string) => n.slice(3).split('.').map(Number);
    versions.sort((x, y) => {
      const [a, b] = [key(x), key(y)];
      for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
      return 0;
    });
    for (const n of versions) {
      const [major, minor] = key(n) as [number, number];
      list.push({ name: n, path: resolve(old, n), json: major > 4 || (major === 4 && minor >= 14) });
    }
  }
  return list;
}

/**
 * A resource.d-like directory whose agents are wrappers: each binds
 * `binds` in a private mount namespace and execs the built agent (argv[0]
 * keeps the agent's name, which is how the executable knows which it is).
 */
export function agentsDirWith(dir: string, binds: readonly Bind[]): string {
  const target = `${dir}/resource.d`;
  mkdirSync(target, { recursive: true });
  const mounts = binds.map((b) => `mount --bind ${quote(b.source)} ${b.shell ? `"${b.target}"` : quote(b.target)} && `).join('');
  for (const name of AGENT_NAMES) {
    const script = `#!/bin/sh\nexec unshare -m --propagation slave /bin/sh -c ${quote(`${mounts}exec "$0" "$@"`)} ${quote(`${BUILT_AGENTS}/${name}`)} "$@"\n`;
    writeFileSync(`${target}/${name}`, script);
    chmodSync(`${target}/${name}`, 0o755);
  }
  return target;
}

/**
 * A bind that hides the agent's /proc/net (an empty directory over
 * /proc/PID/net of the shell that execs it: /proc/net is /proc/self/net),
 * so that what reads addresses from /proc must ask `ip` instead.
 */
export function hiddenProcNet(emptyDir: string): Bind {
  mkdirSync(emptyDir, { recursive: true });
  return { source: emptyDir, target: '/proc/$$/net', shell: true };
}

/** Binds that put `ip` in place of the system's: /usr/bin/ip (/usr/sbin/ip, /sbin/ip and /bin/ip lead there). */
export const ipBinds = (ip: string): Bind[] => [{ source: ip, target: '/usr/bin/ip' }];

/** Binds that put `arping` (a file, or /dev/null: no arping at all) in place of every arping on PATH. */
export function arpingBinds(arping: string): Bind[] {
  return ['/usr/sbin/arping', '/usr/bin/arping'].filter((p) => existsSync(p)).map((target) => ({ source: arping, target }));
}

/** The cache test/install-deps.sh fills with iputils-arping's .deb. */
export const IPUTILS_CACHE = resolve(ROOT, 'test/.cache/iputils-arping');

/**
 * iputils' arping from Debian's iputils-arping .deb, extracted into `dir`
 * (dpkg-deb -x; nothing installed). The .deb comes from test/.cache, where
 * test/install-deps.sh puts it; fetched the same way when missing.
 */
export async function iputilsArping(dir: string): Promise<string> {
  mkdirSync(IPUTILS_CACHE, { recursive: true });
  let deb = readdirSync(IPUTILS_CACHE).find((n) => /^iputils-arping_.*\.deb$/.test(n));
  if (!deb) {
    await execa('apt-get', ['download', 'iputils-arping'], { cwd: IPUTILS_CACHE });
    deb = readdirSync(IPUTILS_CACHE).find((n) => /^iputils-arping_.*\.deb$/.test(n));
  }
  if (!deb) throw new Error(`no iputils-arping .deb in ${IPUTILS_CACHE}`);
  await execa('dpkg-deb', ['-x', `${IPUTILS_CACHE}/${deb}`, dir]);
  const found = ['usr/bin/arping', 'usr/sbin/arping', 'bin/arping'].map((p) => `${dir}/${p}`).find((p) => existsSync(p));
  if (!found) throw new Error(`${deb} holds no arping`);
  return found;
}
