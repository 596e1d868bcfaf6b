import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';

// What the heartbeat rig (cluster.ts) and the Pacemaker rig (pacemaker.ts)
// share: setting up with a teardown of whatever was made when a step fails,
// and the replicated disk, one ext3 image on one loop device that every node
// sees as /dev/drbd1, with the drbdadm double's state for resource "data".

/**
 * Runs `setup`; when it fails, tears down what it made and rethrows the
 * setup's error (a teardown error is printed, never put in its place).
 */
export async function setUpOrTearDown<T>(rig: T, setup: () => Promise<void>, teardown: () => Promise<void>): Promise<T> {
  try {
    await setup();
  } catch (error) {
    await teardown().catch((e) => console.error(`teardown after a failed setup: ${e}`));
    throw error;
  }
  return rig;
}

export class SharedDisk {
  loopDevice = '';
  /** The loop device's numbers, for the nodes' /dev/drbd1. */
  numbers = { major: 0, minor: 0 };

  constructor(private readonly base: string) {}

  get image(): string {
    return `${this.base}/drbd1.img`;
  }

  /** The drbdadm double's state directory (test/doubles/drbdadm), bind-mounted into every node. */
  get drbdState(): string {
    return `${this.base}/drbd-state`;
  }

  /** The image, formatted and attached; resource data on `nodes`, every one Secondary, UpToDate, Connected. */
  async create(nodes: readonly string[], drbdVersion: string): Promise<void> {
    await execa('truncate', ['-s', '256M', this.image]);
    await execa('mkfs.ext3', ['-q', '-F', '-m', '0', '-L', 'data', this.image]);
    this.loopDevice = (await execa('losetup', ['--find', '--show', this.image])).stdout.trim();
    const [major, minor] = readFileSync(`/sys/block/${this.loopDevice.replace('/dev/', '')}/dev`, 'utf8').trim().split(':').map(Number);
    this.numbers = { major: major!, minor: minor! };
    const res = `${this.drbdState}/res/data`;
    mkdirSync(res, { recursive: true });
    writeFileSync(`${this.drbdState}/version`, `${drbdVersion}\n`);
    writeFileSync(`${res}/nodes`, `${nodes.join(' ')}\n`);
    writeFileSync(`${res}/minor`, '1\n');
    for (const node of nodes) writeFileSync(`${res}/role.${node}`, 'Secondary\n');
  }

  /**
   * Detaches the loop device if it is still backed by our image (the mounts
   * went with the nodes' mount namespaces; a device number reused by someone
   * else is left alone), then deletes the image.
   */
  async destroy(): Promise<void> {
    if (this.loopDevice) {
      const backing = await execa('losetup', ['-n', '-O', 'BACK-FILE', this.loopDevice], { reject: false });
      if (backing.stdout.trim() === this.image) await execa('losetup', ['-d', this.loopDevice]);
    }
    rmSync(this.image, { force: true });
  }
}
