import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { execa } from 'execa';
import { AGENTS_DIR, ROOT } from './agents.ts';

// A private root for one "node": its own mount, UTS and PID namespace (and
// a network namespace of the caller's making), the host's /usr and /etc
// overlaid read-only-to-the-host, logging stubs in place of reboot, init,
// shutdown, halt, poweroff, pkill and killall, our built agents as
// /etc/ha.d/resource.d. Stock ResourceManager and the heartbeat daemon run
// inside it exactly as installed. Killing the namespace's init ends every
// process the node started and drops every mount it made.

const ROOT_SCRIPT = resolve(ROOT, 'test/rig/sandbox-root.sh');
export const SANDBOX_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
export const STUBBED = ['/sbin/reboot', '/sbin/init', '/sbin/shutdown', '/sbin/halt', '/sbin/poweroff', '/usr/bin/pkill', '/usr/bin/killall'];

export interface SandboxFile {
  content: string;
  mode?: number;
}

export interface SandboxOptions {
  /** Unique name (work directory, logs). Include process.pid. */
  name: string;
  /** uname -n inside; heartbeat's node name. */
  hostname: string;
  /** Network namespace (made by the caller) the node lives in. */
  netns?: string;
  /** Directory mounted as /etc/ha.d/resource.d; default HA_AGENTS_DIR. */
  agentsDir?: string;
  /** Files written under the private /etc, keyed by path relative to /etc. */
  etc?: Record<string, string | SandboxFile>;
  /** Extra device nodes, e.g. { name: 'drbd1', type: 'b', major: 7, minor: 3 }. */
  devices?: { name: string; type: 'b' | 'c'; major: number; minor: number }[];
  /** Host paths bind-mounted inside (shared state between nodes); ro for read-only. */
  binds?: { host: string; inner: string; ro?: boolean }[];
  /** Executables placed in the private /usr/sbin (e.g. the drbdadm double as drbdadm). */
  sbin?: Record<string, string>;
  /** Host directory that is /var/log inside (outlives the sandbox); default <work>/log. */
  logDir?: string;
  /** Base of the work directory; default /tmp. */
  workBase?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

export class Sandbox {
  private exited = false;

  private constructor(
    readonly name: string,
    readonly hostname: string,
    readonly work: string,
    readonly netns: string | undefined,
    private readonly unshare: ChildProcess,
    /** Host PID of the namespace's init (PID 1 inside). */
    readonly initPid: number,
    /** Host directory that is /var/log inside (survives the node). */
    readonly logDir: string,
  ) {
    unshare.once('exit', () => { this.exited = true; });
  }

  static async start(options: SandboxOptions): Promise<Sandbox> {
    const work = `${options.workBase ?? '/tmp'}/harig-${options.name}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(`${work}/root`, { recursive: true });
    const logDir = options.logDir ?? `${work}/log`;
    mkdirSync(logDir, { recursive: true });
    mkdirSync(`${work}/up-etc`, { recursive: true });
    for (const [path, file] of Object.entries(options.etc ?? {})) {
      const spec = typeof file === 'string' ? { content: file } : file;
      const target = `${work}/up-etc/${path}`;
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, spec.content);
      chmodSync(target, spec.mode ?? 0o644);
    }
    mkdirSync(`${work}/up-sbin`, { recursive: true });
    for (const [name, content] of Object.entries(options.sbin ?? {})) {
      writeFileSync(`${work}/up-sbin/${name}`, content);
      chmodSync(`${work}/up-sbin/${name}`, 0o755);
    }
    const agentsDir = options.agentsDir ?? AGENTS_DIR;
    if (!existsSync(`${agentsDir}/IPaddr`)) throw new Error(`no built agents in ${agentsDir} (run the build, set HA_AGENTS_DIR)`);
    const env: Record<string, string> = {
      PATH: SANDBOX_PATH,
      SBX_WORK: work,
      SBX_HOSTNAME: options.hostname,
      SBX_LOGDIR: logDir,
      SBX_AGENTS: resolve(agentsDir),
      SBX_DEVS: (options.devices ?? []).map((d) => `${d.name}:${d.type}:${d.major}:${d.minor}`).join(' '),
      SBX_BINDS: (options.binds ?? []).map((b) => `${b.host}=>${b.inner}${b.ro ? '=>ro' : ''}`).join(' '),
    };
    // setpriv: if this process dies, unshare gets SIGKILL, and --kill-child
    // passes it on to the namespace's init: no node outlives its harness.
    const launch = ['--pdeathsig', 'KILL', 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--propagation', 'slave', '--', 'bash', ROOT_SCRIPT];
    const [cmd, args] = options.netns ? ['ip', ['netns', 'exec', options.netns, 'setpriv', ...launch]] : ['setpriv', launch];
    const out = `${work}/sandbox.out`;
    writeFileSync(out, '');
    const fd = openSync(out, 'a');
    const child = spawn(cmd, args as string[], { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    let exited = false;
    child.once('exit', () => { exited = true; });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const status = existsSync(`${work}/status`) ? readFileSync(`${work}/status`, 'utf8').trim() : '';
      if (status === 'ready') break;
      if (status.startsWith('FAILED') || exited || Date.now() > deadline) {
        if (!exited && child.pid) try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
        const output = readFileSync(out, 'utf8');
        while (!exited && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
        rmSync(work, { recursive: true, force: true });
        throw new Error(`sandbox ${options.name} did not come up: ${status || 'timeout'}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const initPid = await findInit(child.pid!);
    return new Sandbox(options.name, options.hostname, work, options.netns, child, initPid, logDir);
  }

  /** Runs a command inside (all namespaces and the private root), clean env. */
  async exec(cmd: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    const envArgs = Object.entries({ PATH: SANDBOX_PATH, HOME: '/root', ...options.env }).map(([k, v]) => `${k}=${v}`);
    const result = await execa('nsenter', [...this.nsenterArgs(), '--', '/usr/bin/env', '-i', ...envArgs, cmd, ...args], {
      reject: false,
      timeout: options.timeoutMs ?? 120_000,
      input: options.input,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
      extendEnv: false,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  /** nsenter arguments that enter this node (for printing to a person too). */
  nsenterArgs(): string[] {
    return ['-t', String(this.initPid), '-m', '-u', '-p', '-n', '-r', '-w'];
  }

  /** sh -c inside (test-authored scripts only, never agent arguments). */
  sh(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.exec('/bin/sh', ['-c', script], options);
  }

  /**
   * Stock ResourceManager as heartbeat runs it: stdin /dev/null (with a tty
   * it logs to the screen), logs in /var/log/ha-log and ha-debug.
   */
  resourceManager(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<ExecResult> {
    return this.exec('/usr/share/heartbeat/ResourceManager', args, {
      timeoutMs,
      env: {
        HA_LOGFILE: '/var/log/ha-log',
        HA_DEBUGLOG: '/var/log/ha-debug',
        HA_CURHOST: this.hostname,
        HA_DATEFMT: '%Y/%m/%d_%T ',
        ...env,
      },
    });
  }

  readLog(name: string): string {
    const path = `${this.logDir}/${name}`;
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** Lines the reboot/init/pkill/... stubs logged. */
  stubCalls(): string[] {
    return this.readLog('stub-calls.log').split('\n').filter(Boolean);
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * Ends the node at once: SIGKILL to the namespace's init takes every
   * process of the PID namespace with it (a crash, for the cluster tests).
   */
  async kill(): Promise<void> {
    if (this.exited) return;
    try { process.kill(this.initPid, 'SIGKILL'); } catch { /* already gone */ }
    const deadline = Date.now() + 10_000;
    while (!this.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!this.exited && this.unshare.pid) {
      try { process.kill(this.unshare.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    // The mount namespace (and the loop mount in it) goes away with its last process.
    while (existsSync(`/proc/${this.initPid}`) && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 10));
  }

  /** kill() and remove the work directory (keepLogs leaves log/ behind). */
  async destroy(keepLogs = false): Promise<void> {
    await this.kill();
    if (keepLogs) {
      for (const sub of ['root', 'up-sbin', 'up-bin', 'up-etc', 'wk-sbin', 'wk-bin', 'wk-etc']) rmSync(`${this.work}/${sub}`, { recursive: true, force: true });
    } else {
      rmSync(this.work, { recursive: true, force: true });
    }
  }
}

async function findInit(unsharePid: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      if (children.length === 1) return Number(children[0]);
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`cannot find the init of sandbox (unshare pid ${unsharePid})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Network namespace helpers (ip netns), for rigs that need their own. */
export async function ip(args: readonly string[], netns?: string): Promise<void> {
  const argv = netns ? ['-n', netns, ...args] : [...args];
  await execa('ip', argv, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, extendEnv: false });
}

export async function netnsAdd(name: string): Promise<void> {
  await execa('ip', ['netns', 'add', name]);
  await ip(['link', 'set', 'lo', 'up'], name);
}

/**
 * A node's namespace with one LAN interface: `eth1` (one end of a veth whose
 * other end, `eth1p`, stays in the namespace and up, so eth1 has a carrier)
 * holding `address`. Enough for IPaddr and heartbeat's interface checks.
 */
export async function netnsWithEth1(name: string, address: string): Promise<void> {
  await netnsAdd(name);
  await ip(['link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p'], name);
  await ip(['link', 'set', 'eth1p', 'up'], name);
  await ip(['addr', 'add', address, 'dev', 'eth1'], name);
  await ip(['link', 'set', 'eth1', 'up'], name);
}

export async function netnsDelete(name: string): Promise<void> {
  await execa('ip', ['netns', 'delete', name], { reject: false });
}
