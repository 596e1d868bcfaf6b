import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRBD_VERSIONS, DrbdDouble } from '../../../rig/drbd-double.ts';
import { takeSample, type WatchTarget } from '../../../../lib/heartbeat/watch/sample.ts';
import { deriveConditions, EVENT_KINDS } from '../../../../lib/heartbeat/watch/events.ts';
import { parseHaresources } from '../../../../lib/heartbeat/haresources.ts';

// DRBD as a sample reads it, through the drbdadm double in each version's
// output (8.3's XML status has no peer role: then role, dstate, cstate), and
// the split-brain handler's files; the events they give.

const work = mkdtempSync(join(tmpdir(), `watch-sample-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const splitBrainDir = join(work, 'splitbrain');
mkdirSync(splitBrainDir);

function target(env: NodeJS.ProcessEnv): WatchTarget {
  return {
    node: 'master1', haDir: work, haCf: [], haresources: parseHaresources(''), vips: [], drbdResources: ['data'],
    splitBrainDir, heartbeatPidFile: join(work, 'no.pid'), env, callTimeoutMs: 10_000,
  };
}

for (const version of DRBD_VERSIONS) {
  t.test(`drbd ${version}: Connected, StandAlone, both Primary, degraded, the handler's file`, async (t) => {
    const drbd = DrbdDouble.create(version, `watch-drbd-${process.pid}-`);
    t.teardown(() => drbd.cleanup());
    drbd.defineResource('data').setRole('data', 'master1', 'Primary').setRole('data', 'master2', 'Secondary');
    const env = drbd.env('master1');
    const saved = { ...process.env };
    Object.assign(process.env, env);
    t.teardown(() => { process.env = saved; });
    const codes = async () => deriveConditions(await takeSample(target(process.env))).map((c) => EVENT_KINDS[c.kind].code).filter((c) => c.startsWith('HA72'));

    const s = await takeSample(target(process.env));
    t.match(s.drbd[0], { resource: 'data', role: 'Primary', peerRole: 'Secondary', connection: 'Connected', disks: ['UpToDate'], peerDisks: ['UpToDate'], splitBrainVolumes: [] });
    t.same(await codes(), [], 'healthy: no DRBD event');

    drbd.setRole('data', 'master2', 'Primary');
    t.same(await codes(), ['HA722'], 'both Primary');
    drbd.setRole('data', 'master2', 'Secondary');

    drbd.splitBrain('data');
    writeFileSync(join(splitBrainDir, 'drbd-split-brain-detected-data-0'), '');
    t.same((await codes()).sort(), ['HA721', 'HA723'], 'split brain: the handler\'s file, StandAlone');
    rmSync(join(splitBrainDir, 'drbd-split-brain-detected-data-0'));
    drbd.setStandAlone('data', 'master1', false).setStandAlone('data', 'master2', false);

    drbd.nodeGoesAway('data', 'master2', 0);
    const away = await takeSample(target(process.env));
    t.not(away.drbd[0]!.connection, 'Connected');
    t.same(await codes(), ['HA724'], 'the peer gone: degraded');
  });
}

t.test('resourceManagerUnder: a ResourceManager among a process\'s descendants (real /proc), none after it ends', async (t) => {
  const { spawn } = await import('node:child_process');
  const { resourceManagerUnder } = await import('../../../../lib/heartbeat/watch/sample.ts');
  // A grandchild named like heartbeat's: bash (the child) runs it, as heartbeat's forked child runs ResourceManager.
  // The name comes from the environment, so that bash's own command line does not hold it.
  const sh = spawn('/bin/bash', ['-c', 'exec -a "$RM_NAME" sleep 30 & wait'], { stdio: 'ignore', env: { ...process.env, RM_NAME: '/usr/share/heartbeat/ResourceManager' } });
  t.teardown(() => { try { process.kill(sh.pid!, 'SIGKILL'); } catch { /* gone */ } });
  const deadline = Date.now() + 10_000;
  while (!resourceManagerUnder(sh.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(resourceManagerUnder(sh.pid!), true, 'found under its parent');
  t.equal(resourceManagerUnder(process.pid), true, 'found two levels down');
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => { try { process.kill(other.pid!, 'SIGKILL'); } catch { /* gone */ } });
  t.equal(resourceManagerUnder(other.pid!), false, 'not under an unrelated process');
  t.equal(resourceManagerUnder(2 ** 22 + 7), undefined, 'no such process: cannot tell');
});
