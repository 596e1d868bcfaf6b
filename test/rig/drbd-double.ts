import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from './agents.ts';

// Sets up the drbdadm test double (test/doubles/drbdadm) for one or two
// "nodes" sharing a state directory. The double's interface is written up in
// test/fixtures/drbd/README.md; this helper only writes its state files.

export type DrbdVersion = '8.3' | '8.4' | '9';
export const DRBD_VERSIONS: readonly DrbdVersion[] = ['8.3', '8.4', '9'];
export type DiskState = 'UpToDate' | 'Inconsistent' | 'Outdated' | 'Diskless' | 'Consistent' | 'DUnknown';

export const DRBDADM_DOUBLE = resolve(ROOT, 'test/doubles/drbdadm');
export const DRBDSETUP_DOUBLE = resolve(ROOT, 'test/doubles/drbdsetup');

export interface ResourceSetup {
  nodes?: [string, string];
  minor?: number;
  /** Device path the double reports (sh-dev) and looks for in mountinfo; default /dev/drbd<minor>. */
  device?: string;
}

export class DrbdDouble {
  readonly log: string;

  constructor(
    readonly stateDir: string,
    readonly version: DrbdVersion,
  ) {
    this.log = join(stateDir, 'calls.log');
    writeFileSync(join(stateDir, 'version'), `${version}\n`);
  }

  /** A fresh state directory (removed by `cleanup`). */
  static create(version: DrbdVersion, prefix = 'drbd-double-'): DrbdDouble {
    return new DrbdDouble(mkdtempSync(join(tmpdir(), prefix)), version);
  }

  private dir(res: string): string {
    return join(this.stateDir, 'res', res);
  }

  private write(res: string, file: string, value: string | undefined): this {
    const path = join(this.dir(res), file);
    if (value === undefined) rmSync(path, { force: true });
    else writeFileSync(path, `${value}\n`);
    return this;
  }

  /** Defines a resource (both nodes know it; it is down on both until roles are set). */
  defineResource(res: string, setup: ResourceSetup = {}): this {
    const [a, b] = setup.nodes ?? ['master1', 'master2'];
    mkdirSync(this.dir(res), { recursive: true });
    this.write(res, 'nodes', `${a} ${b}`);
    this.write(res, 'minor', String(setup.minor ?? 1));
    if (setup.device) this.write(res, 'device', setup.device);
    return this;
  }

  /** Role on one node; undefined takes the resource down there (Unconfigured). */
  setRole(res: string, node: string, role: 'Primary' | 'Secondary' | undefined): this {
    return this.write(res, `role.${node}`, role);
  }

  role(res: string, node: string): string | undefined {
    const path = join(this.dir(res), `role.${node}`);
    return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
  }

  setDisk(res: string, node: string, disk: DiskState): this {
    return this.write(res, `disk.${node}`, disk);
  }

  /** StandAlone on that node (split brain, or `drbdadm disconnect`); false reconnects. */
  setStandAlone(res: string, node: string, standalone = true): this {
    return this.write(res, `net.${node}`, standalone ? 'standalone' : undefined);
  }

  /** After split brain with `after-sb-*pri disconnect` (the tutorial's): both sides StandAlone. */
  splitBrain(res: string, nodes: [string, string] = ['master1', 'master2']): this {
    return this.setStandAlone(res, nodes[0]).setStandAlone(res, nodes[1]);
  }

  /** The node vanishes (crash) `afterMs` from now, as DRBD on the other node will notice it. */
  nodeGoesAway(res: string, node: string, afterMs: number): this {
    return this.write(res, `down-at.${node}`, String(Date.now() + afterMs));
  }

  /**
   * The node is back after a crash or reboot: DRBD comes up Secondary there (what `drbdadm up`
   * on that node also does). The double never notices a dead node by itself: a test that kills a
   * node calls nodeGoesAway (with DRBD's ping timeout as delay, or 0) for the survivor to see it.
   */
  nodeComesBack(res: string, node: string): this {
    return this.write(res, `down-at.${node}`, undefined).setRole(res, node, 'Secondary');
  }

  /** The device is held open on that node without being mounted (e.g. a process has it open). */
  setHeldOpen(res: string, node: string, open = true): this {
    return this.write(res, `open.${node}`, open ? '' : undefined);
  }

  /** Makes `cmd` ("role", "primary", "all", "setup-status" for drbdsetup status ...) fail with this exit code and stderr. */
  injectFailure(res: string, cmd: string, exitCode: number, stderr: string, node?: string): this {
    return this.write(res, `fail.${cmd}${node ? `.${node}` : ''}`, `${exitCode}\n${stderr}`);
  }

  clearFailure(res: string, cmd: string, node?: string): this {
    return this.write(res, `fail.${cmd}${node ? `.${node}` : ''}`, undefined);
  }

  /** Environment that makes drbddisk (or stock drbddisk via DRBDADM) on `node` use the double. */
  env(node: string): Record<string, string> {
    return {
      DRBDADM: DRBDADM_DOUBLE,
      DRBD_DOUBLE_STATE: this.stateDir,
      DRBD_DOUBLE_VERSION: this.version,
      DRBD_DOUBLE_NODE: node,
      DRBD_DOUBLE_LOG: this.log,
      // No /etc/default/drbd of the host may redirect the agent.
      DRBD_DEFAULTS_FILE: join(this.stateDir, 'no-defaults'),
    };
  }

  /** Calls recorded by the double: "node<TAB>drbdadm args". */
  calls(): string[] {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').split('\n').filter(Boolean) : [];
  }

  cleanup(): void {
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}
