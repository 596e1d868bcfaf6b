import { existsSync, readFileSync, statSync } from 'node:fs';
import { InvalidParameterError } from '../contract/errors.ts';
import { run, type RunResult } from '../system/exec.ts';
import { majorMinorOf, readMountinfo } from '../fs/mountinfo.ts';
import type { DrbdTools } from './config.ts';
import { classifyDrbdadmFailure, type DrbdadmFailure } from './failures.ts';
import { parseProcDrbd } from './proc-drbd.ts';
import { parseCstateOutput, parseDstateOutput, parseRoleOutput, type DiskLine, type RoleLine } from './roles.ts';
import { parseDrbdsetupStatus } from './drbdsetup-status.ts';
import { parseResourceState, type ResourceState } from './resource-state.ts';

// The steps drbddisk takes, each one drbdadm call (argument arrays only).

export interface DrbdCall {
  ok: boolean;
  result: RunResult;
  failure?: DrbdadmFailure;
}

/** The local role as far as it can be known, with where the answer came from. */
export type RoleAnswer =
  | { role: 'Primary' | 'Secondary'; peer?: string; source: string }
  | { role: 'Unconfigured'; source: string }
  | { role: 'Unknown'; reason: string };

export class Drbdadm {
  constructor(
    readonly tools: DrbdTools,
    readonly resource: string,
    readonly drbdconf: string,
    readonly callTimeoutMs: number,
  ) {}

  private baseArgs(): string[] {
    return [...this.tools.drbdadm.args, ...(this.drbdconf ? ['-c', this.drbdconf] : [])];
  }

  /** Runs `drbdadm <cmd> <resource>`; a resource unknown to the configuration is a parameter error. */
  async call(cmd: string): Promise<DrbdCall> {
    const result = await run(this.tools.drbdadm.command, [...this.baseArgs(), cmd, this.resource], { allowFailure: true, timeoutMs: this.callTimeoutMs });
    if (result.exitCode === 0) return { ok: true, result };
    const failure = classifyDrbdadmFailure(result.stderr);
    if (failure.kind === 'not-defined') {
      throw new InvalidParameterError('drbd_resource', `DRBD resource ${JSON.stringify(this.resource)} is not defined in the DRBD configuration for this host (drbdadm: ${failure.text})`);
    }
    return { ok: false, result, failure };
  }

  describe(call: DrbdCall): string {
    const line = [this.tools.drbdadm.command, ...this.baseArgs(), ...call.result.args.slice(this.baseArgs().length)].join(' ');
    return `${line} exited ${call.result.exitCode}${call.failure?.text ? `: ${call.failure.text}` : ''}`;
  }

  /** `drbdadm role`, one line per resource (several for `all`). */
  async roles(): Promise<{ lines: RoleLine[] } | { call: DrbdCall }> {
    const call = await this.call('role');
    const lines = call.ok ? parseRoleOutput(call.result.stdout) : undefined;
    return lines ? { lines } : { call };
  }

  /**
   * Role, disk and connection of one resource from one `drbdadm status`
   * (drbd 8.3's XML, 8.4's and 9's text); undefined when that call does not
   * answer all three (the caller asks role, dstate and cstate instead).
   */
  async state(): Promise<ResourceState | undefined> {
    const call = await this.call('status');
    if (call.ok) return parseResourceState(call.result.stdout, this.resource);
    return call.failure?.kind === 'not-up' ? { role: 'Unconfigured', disks: [], connections: [], notUp: call.failure.text } : undefined;
  }

  async disks(): Promise<DiskLine[] | undefined> {
    const call = await this.call('dstate');
    return call.ok ? parseDstateOutput(call.result.stdout) : undefined;
  }

  async connections(): Promise<string[] | undefined> {
    const call = await this.call('cstate');
    return call.ok ? parseCstateOutput(call.result.stdout) : undefined;
  }

  /** The device path (`drbdadm sh-dev`), e.g. /dev/drbd1. */
  async device(): Promise<string | undefined> {
    const call = await this.call('sh-dev');
    const dev = call.ok ? call.result.stdout.trim().split('\n')[0] : undefined;
    return dev || undefined;
  }

  /**
   * The role of one resource: `drbdadm role`, then /proc/drbd (8.x), then
   * `drbdsetup status` (9). Like the stock script, no /proc/drbd at all means
   * the module is not loaded, so nothing can be Primary.
   */
  async role(): Promise<RoleAnswer> {
    const roles = await this.roles();
    if ('lines' in roles) {
      const line = roles.lines[0]!;
      if (line.local === 'Unconfigured') return { role: 'Unconfigured', source: 'drbdadm role' };
      if (line.local !== 'Unknown') return { role: line.local, peer: line.peer, source: 'drbdadm role' };
      return { role: 'Unknown', reason: 'drbdadm role says Unknown' };
    }
    if (roles.call.failure?.kind === 'not-up') return { role: 'Unconfigured', source: `drbdadm role: ${roles.call.failure.text}` };
    const why = this.describe(roles.call);
    return this.roleFromFallbacks(why);
  }

  private async roleFromFallbacks(why: string): Promise<RoleAnswer> {
    const procPath = this.tools.procDrbd;
    let procText: string | undefined;
    try {
      procText = existsSync(procPath) ? readFileSync(procPath, 'utf8') : undefined;
    } catch (error) {
      return { role: 'Unknown', reason: `${why}; cannot read ${procPath}: ${(error as Error).message}` };
    }
    const proc = procText !== undefined ? parseProcDrbd(procText) : undefined;
    if (proc?.version?.startsWith('8.')) {
      const minor = await this.minor();
      if (minor === undefined) return { role: 'Unknown', reason: `${why}; drbdadm sh-dev gave no minor to look up in ${procPath}` };
      const dev = proc.devices.get(minor);
      if (!dev || dev.cs === 'Unconfigured' || !dev.role) return { role: 'Unconfigured', source: procPath };
      if (dev.role === 'Primary' || dev.role === 'Secondary') return { role: dev.role, peer: dev.peerRole, source: procPath };
      return { role: 'Unknown', reason: `${why}; ${procPath} shows role ${dev.role} for minor ${minor}` };
    }
    const status = await run(this.tools.drbdsetup, ['status', this.resource], { allowFailure: true, timeoutMs: this.callTimeoutMs }).catch((error: Error) => error);
    if (!(status instanceof Error)) {
      if (status.exitCode === 0) {
        const res = parseDrbdsetupStatus(status.stdout).find((r) => r.name === this.resource);
        if (res && (res.role === 'Primary' || res.role === 'Secondary')) return { role: res.role, peer: res.connections[0]?.role, source: 'drbdsetup status' };
      } else if (/No such resource/.test(status.stderr)) {
        return { role: 'Unconfigured', source: 'drbdsetup status' };
      }
    }
    if (procText === undefined) return { role: 'Unconfigured', source: `no ${procPath}: the DRBD module is not loaded` };
    const setupWhy = status instanceof Error ? status.message : `drbdsetup status ${this.resource} exited ${status.exitCode}${status.stderr.trim() ? `: ${status.stderr.trim().split('\n')[0]}` : ''}`;
    return { role: 'Unknown', reason: `${why}; ${setupWhy}` };
  }

  private async minor(): Promise<number | undefined> {
    const dev = await this.device();
    const fromDev = dev ? /^\/dev\/drbd(\d+)$/.exec(dev)?.[1] : undefined;
    if (fromDev) return Number(fromDev);
    // sh-minor exists since drbd 8.3.1; device names need not be /dev/drbdN.
    const call = await this.call('sh-minor');
    const text = call.ok ? call.result.stdout.trim() : '';
    return /^\d+$/.test(text) ? Number(text) : undefined;
  }
}

/** Mount points whose source is `device` (by path, or by device number when it is a block device). */
export function mountsOfDevice(device: string): string[] {
  let rdev: string | undefined;
  try {
    const st = statSync(device);
    if (st.isBlockDevice()) rdev = majorMinorOf(st.rdev);
  } catch {
    // Not a device node here: match by path only.
  }
  return readMountinfo()
    .filter((m) => m.source === device || (rdev !== undefined && m.majorMinor === rdev))
    .map((m) => m.mountPoint);
}
