import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

// Host side of the rig's fencing: fence_hara (this directory), run by
// pacemaker-fenced inside a node, leaves "req.<id>" = "ACTION TARGET" in a
// directory every node shares with the host; this watcher powers the target
// off (the rig kills its PID-namespace init and removes its network) and/or
// on, then answers "done.<id>" = "EXITCODE message". A reboot is answered as
// soon as the target is off (that is what a fencing device confirms); the
// power-on follows in the background, as a rebooting machine comes back.

export interface FenceRecord {
  /** When the request was seen. */
  t: number;
  action: string;
  target: string;
  /** When the target was off (or on) and the answer written. */
  doneAt?: number;
  exitCode?: number;
}

export interface PowerSwitch {
  /** Ends the node at once (no-op if it is already off). */
  off(node: string): Promise<void>;
  /** Boots the node and starts its cluster stack. */
  on(node: string): Promise<void>;
}

export class FenceWatcher {
  readonly records: FenceRecord[] = [];
  private timer?: ReturnType<typeof setInterval>;
  private busy = false;
  /** One power operation per node at a time. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Background power-ons after a reboot (awaited by settle()). */
  private readonly pending = new Set<Promise<void>>();
  readonly errors: string[] = [];

  constructor(
    readonly dir: string,
    readonly nodes: readonly string[],
    private readonly power: PowerSwitch,
    /** A fenced "reboot" powers the node on again afterwards. */
    private readonly rebootPowersOn = true,
  ) {}

  /** Creates the shared directory (with the node list fence_hara's list action prints). */
  prepare(): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(`${this.dir}/nodes`, `${this.nodes.join('\n')}\n`);
  }

  /** fence_hara's status action reads these: on.<node> exists while the node is powered. */
  setPowered(node: string, on: boolean): void {
    const file = `${this.dir}/on.${node}`;
    if (on) writeFileSync(file, '');
    else rmSync(file, { force: true });
  }

  start(intervalMs = 50): void {
    this.timer ??= setInterval(() => void this.poll(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Waits for power-ons still running in the background. */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Fencing requests for `target` (all actions) seen since `since`. */
  fencedSince(target: string, since: number): FenceRecord[] {
    return this.records.filter((r) => r.target === target && r.t >= since);
  }

  private serial(node: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(node) ?? Promise.resolve()).then(work, work);
    this.queues.set(node, next.catch(() => {}));
    return next;
  }

  private async poll(): Promise<void> {
    if (this.busy || !existsSync(this.dir)) return;
    this.busy = true;
    try {
      for (const name of readdirSync(this.dir)) {
        if (!name.startsWith('req.')) continue;
        const id = name.slice(4);
        const path = `${this.dir}/${name}`;
        const claimed = `${this.dir}/work.${id}`;
        try { renameSync(path, claimed); } catch { continue; }
        const [action = '', target = ''] = readFileSync(claimed, 'utf8').trim().split(/\s+/);
        const record: FenceRecord = { t: Date.now(), action, target };
        this.records.push(record);
        void this.handle(record, id, claimed);
      }
    } finally {
      this.busy = false;
    }
  }

  private async handle(record: FenceRecord, id: string, claimed: string): Promise<void> {
    const answer = (code: number, message: string) => {
      record.doneAt = Date.now();
      record.exitCode = code;
      writeFileSync(`${this.dir}/.answer.${id}`, `${code} ${message}\n`);
      renameSync(`${this.dir}/.answer.${id}`, `${this.dir}/done.${id}`);
      rmSync(claimed, { force: true });
    };
    const { action, target } = record;
    try {
      if (!this.nodes.includes(target)) return answer(1, `unknown node ${target}`);
      if (action === 'off' || action === 'reboot') {
        await this.serial(target, async () => {
          await this.power.off(target);
          this.setPowered(target, false);
        });
        answer(0, `${target} is off`);
        if (action === 'reboot' && this.rebootPowersOn) {
          const on = this.serial(target, async () => {
            await this.power.on(target);
            this.setPowered(target, true);
          }).catch((e: unknown) => { this.errors.push(`power on ${target}: ${e instanceof Error ? e.message : String(e)}`); });
          this.pending.add(on);
          void on.finally(() => this.pending.delete(on));
        }
      } else if (action === 'on') {
        await this.serial(target, async () => {
          await this.power.on(target);
          this.setPowered(target, true);
        });
        answer(0, `${target} is on`);
      } else {
        answer(1, `unknown action ${action}`);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.errors.push(`${action} ${target}: ${message}`);
      answer(1, `${action} ${target} failed: ${message.split('\n')[0]}`);
    }
  }
}
