// What heartbeat and ResourceManager cost on their own: the same cluster,
// daemon and haresources line, with resource scripts that do nothing but
// keep a state file. A takeover can never be faster than this, whatever the
// agents do; the agents' share of a row is what lies above it.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { pollUntil } from '../lib/system/wait.ts';
import type { Cluster as ClusterClass, NodeName } from '../test/rig/cluster.ts';

type Cluster = Awaited<ReturnType<typeof ClusterClass.create>>;

const NOOP_NAMES = ['IPaddr', 'drbddisk', 'Filesystem', 'mysqld'];
/** Inside each node's private root: /run is the node's own, /var/log is kept on the host. */
const STATE_DIR = '/run/bench-noop';
const STAMP_LOG = 'bench-noop.log';

/**
 * A resource.d whose four scripts answer ResourceManager correctly (start and
 * stop idempotent, status "running"/"stopped") and stamp each start with the
 * epoch milliseconds into the node's /var/log/bench-noop.log.
 */
export function noopResourceDir(tmp: string): string {
  const dir = `${tmp}/noop-resource.d`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    `${dir}/noop`,
    `#!/bin/sh
# bench: a resource script that does nothing (heartbeat's and ResourceManager's own cost)
name=\${0##*/}
for action; do :; done
state=${STATE_DIR}/$name
case $action in
  start) mkdir -p ${STATE_DIR}; : > "$state"; echo "$name start $(date +%s%3N)" >> /var/log/${STAMP_LOG} ;;
  stop) rm -f "$state" ;;
  status) if [ -e "$state" ]; then echo "running"; else echo "stopped"; exit 3; fi ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  for (const name of NOOP_NAMES) symlinkSync('noop', `${dir}/${name}`);
  return dir;
}

async function heldCount(cluster: Cluster, node: NodeName): Promise<number> {
  const sb = cluster.nodes[node];
  if (!sb?.alive) return 0;
  const r = await sb.sh(`ls ${STATE_DIR} 2>/dev/null | wc -l`);
  return Number(r.stdout.trim()) || 0;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const reached = await pollUntil(async () => ((await check()) ? true : undefined), { intervalMs: 50, timeoutMs });
  if (!reached) throw new Error(`no-op cluster: ${what} not reached within ${timeoutMs} ms`);
}

/** Epoch ms of the first `mysqld start` (the group's last resource) on `node` at or after `since`. */
function mysqldStartedAt(cluster: Cluster, node: NodeName, since: number): number | undefined {
  const stamps = cluster
    .nodeLog(node, STAMP_LOG)
    .split('\n')
    .map((line) => /^mysqld start (\d+)$/.exec(line)?.[1])
    .filter((s): s is string => !!s)
    .map(Number)
    .filter((ms) => ms >= since);
  return stamps[0];
}

export interface FloorSamples {
  take: number[];
  give: number[];
  takegive: number[];
  /** Crash of master1 → the last start (mysqld) on master2 has been called. */
  crash: number[];
}

/** The same rounds the ours/stock clusters run, with no-op scripts. */
export async function measureFloor(cluster: Cluster, firstResource: string, groupRounds: number, crashCycles: number, settleMs = 0): Promise<FloorSamples> {
  const samples: FloorSamples = { take: [], give: [], takegive: [], crash: [] };
  const sb = await cluster.bootNode('master1');
  for (let round = 0; round < groupRounds; round++) {
    const t0 = performance.now();
    await sb.resourceManager(['takegroup', firstResource]);
    const took = performance.now() - t0;
    if ((await heldCount(cluster, 'master1')) !== NOOP_NAMES.length) throw new Error('no-op takegroup did not start all four scripts');
    const t1 = performance.now();
    await sb.resourceManager(['givegroup', firstResource]);
    const gave = performance.now() - t1;
    if ((await heldCount(cluster, 'master1')) !== 0) throw new Error('no-op givegroup did not stop all four scripts');
    samples.take.push(took);
    samples.give.push(gave);
    samples.takegive.push(took + gave);
  }
  for (let cycle = 0; cycle < crashCycles; cycle++) {
    await cluster.startHeartbeat('master1');
    await cluster.startHeartbeat('master2');
    await waitFor('master1 holding the group', async () => (await heldCount(cluster, 'master1')) === NOOP_NAMES.length && (await heldCount(cluster, 'master2')) === 0, 120_000);
    // As the measured clusters do before each trigger: heartbeat settled.
    await new Promise((r) => setTimeout(r, settleMs));
    const t = Date.now();
    await cluster.crashNode('master1');
    let stamp: number | undefined;
    await waitFor('master2 taking over', async () => (stamp = mysqldStartedAt(cluster, 'master2', t)) !== undefined, 60_000);
    samples.crash.push(stamp! - t);
    await cluster.stopHeartbeat('master2');
    await cluster.bootNode('master1');
  }
  return samples;
}
