import { spawn, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';

// A throwaway copy of this machine for package tests: an overlay of / whose
// upper layer is a tmpfs, mounted in a mount namespace of its own (slave: the
// host's unmounts reach it, none of its mounts leak out; with its own
// PID, UTS and network namespace) and entered with chroot. dpkg, dpkg-divert,
// rpm and the stock ResourceManager change only the overlay: the machine's
// own dpkg database, diversions and /etc stay as they are. Killing the
// namespace's first process drops every mount with it.

const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

const SETUP = String.raw`
set -euo pipefail
w=$ROOT_WORK
mount --make-rslave /
mount -t tmpfs -o size=4g tmpfs "$w/layer"
mkdir -p "$w/layer/upper" "$w/layer/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$w/layer/upper,workdir=$w/layer/work" "$w/merged"
m=$w/merged
mount -t proc proc "$m/proc"
mount --rbind /dev "$m/dev"
mount --rbind /sys "$m/sys"
mount -t tmpfs tmpfs "$m/run"
mount -t tmpfs tmpfs "$m/tmp"
while read -r host inner; do
  [ -n "$host" ] || continue
  mkdir -p "$m$inner"
  mount --bind "$host" "$m$inner"
done <<<"$ROOT_BINDS"
hostname "$ROOT_HOSTNAME"
ip link set lo up
# The failed-stop path of ResourceManager calls these: harmless, logging stubs (links removed first, in the overlay only).
for path in /sbin/reboot /sbin/init /sbin/shutdown /sbin/halt /sbin/poweroff /usr/bin/pkill /usr/bin/killall; do
  rm -f "$m$path"
  printf '#!/bin/sh\n# ha-resource-agents throwaway-root stub\necho "$0 $*" >>/run/stub-calls.log\n' >"$m$path"
  chmod 0755 "$m$path"
done
echo ready >"$w/status"
exec sleep infinity
`;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ThrowawayRootOptions {
  /** Unique: include process.pid. */
  name: string;
  hostname?: string;
  /** Host directories visible inside: host path → path inside. */
  binds?: Record<string, string>;
}

export class ThrowawayRoot {
  private constructor(
    readonly work: string,
    private readonly child: ChildProcess,
    private readonly initPid: number,
  ) {}

  static async start(options: ThrowawayRootOptions): Promise<ThrowawayRoot> {
    const work = `/tmp/pkgroot-${options.name}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(`${work}/layer`, { recursive: true });
    mkdirSync(`${work}/merged`, { recursive: true });
    writeFileSync(`${work}/setup.sh`, SETUP);
    const out = openSync(`${work}/setup.out`, 'a');
    // setpriv --pdeathsig: if the test dies, the namespace goes with it.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'unshare', '--mount', '--propagation', 'slave', '--uts', '--pid', '--net', '--fork', '--kill-child', '--', 'bash', `${work}/setup.sh`], {
      env: {
        PATH,
        ROOT_WORK: work,
        ROOT_HOSTNAME: options.hostname ?? 'node1',
        ROOT_BINDS: Object.entries(options.binds ?? {}).map(([host, inner]) => `${host} ${inner}`).join('\n'),
      },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    let exited = false;
    child.once('exit', () => { exited = true; });
    const deadline = Date.now() + 30_000;
    while (!existsSync(`${work}/status`)) {
      if (exited || Date.now() > deadline) {
        if (!exited) child.kill('SIGKILL');
        while (!exited && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
        const output = readFileSync(`${work}/setup.out`, 'utf8');
        // The namespace is gone with its process: only empty mount points are left here.
        await execa('rm', ['-rf', '--one-file-system', work], { reject: false });
        throw new Error(`throwaway root ${options.name} did not come up:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const initPid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    return new ThrowawayRoot(work, child, initPid);
  }

  /** A command in the chroot, clean environment. */
  async exec(cmd: string, args: readonly string[] = [], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ExecResult> {
    const env = Object.entries({ PATH, HOME: '/root', LC_ALL: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', ...options.env }).map(([k, v]) => `${k}=${v}`);
    const result = await execa(
      'nsenter',
      ['-t', String(this.initPid), '-m', '-u', '-n', '-p', '--', 'chroot', `${this.work}/merged`, '/usr/bin/env', '-i', ...env, cmd, ...args],
      { reject: false, timeout: options.timeoutMs ?? 180_000, stdin: 'ignore', extendEnv: false, env: { PATH } },
    );
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  /** sh -c in the chroot (test-authored scripts only). */
  sh(script: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ExecResult> {
    return this.exec('/bin/sh', ['-c', script], options);
  }

  /** A test-authored script that must succeed: one assertion, with its output when it fails; returns stdout. */
  async must(t: Test, script: string): Promise<string> {
    const result = await this.sh(script);
    t.equal(result.exitCode, 0, `${script.split('\n')[0]}${result.exitCode ? `\n${result.stdout}\n${result.stderr}` : ''}`);
    return result.stdout;
  }

  async sha256(path: string): Promise<string> {
    return (await this.exec('sha256sum', [path])).stdout.split(' ')[0] ?? '';
  }

  async readlink(path: string): Promise<string> {
    return (await this.exec('readlink', [path])).stdout.trim();
  }

  async destroy(): Promise<void> {
    try { process.kill(this.initPid, 'SIGKILL'); } catch { /* gone */ }
    const deadline = Date.now() + 10_000;
    while (this.child.exitCode === null && this.child.signalCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // The namespace's mounts are gone with its last process; only the empty directories remain.
    while (existsSync(`/proc/${this.initPid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await execa('rm', ['-rf', '--one-file-system', this.work], { reject: false });
  }
}
