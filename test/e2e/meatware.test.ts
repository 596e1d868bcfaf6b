import t from 'tap';
import { Cluster, NODES } from '../rig/cluster.ts';

// The tutorial's remedies 2 and 4 (section 6): fencing, and a standby that
// waits for an operator before it takes over. Heartbeat v1's `stonith_host`
// with cluster-glue's meatware plugin (installed with heartbeat in Debian
// 12: /usr/lib/stonith/plugins/stonith2/meatware.so): when master1 crashes,
// master2 declares it dead and asks meatware to reset it; meatware logs
// "OPERATOR INTERVENTION REQUIRED" and the takeover waits until someone runs
// `meatclient -c master1` on master2, after which master2 takes the group.

let cluster: Cluster;
let crashAt = 0;
let asked = '';
let heldDuringWait: string[] = [];
let waitedMs = 0;
let meatclient = { exitCode: -1, stdout: '', stderr: '' };
let setupError: string | undefined;
const WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.before(async () => {
  cluster = await Cluster.create({ id: `mw${process.pid}`, haCfLines: 'stonith_host * meatware master1 master2\n' });
  try {
    await Promise.all(NODES.map((n) => cluster.bootNode(n)));
    await Promise.all(NODES.map((n) => cluster.startHeartbeat(n)));
    await cluster.waitForHolder('master1', 120_000);
    crashAt = Date.now();
    await cluster.crashNode('master1');
    // master2 declares master1 dead after deadtime and asks meatware to reset it.
    const deadline = Date.now() + 60_000;
    while (!/OPERATOR INTERVENTION REQUIRED/.test(cluster.haLog('master2'))) {
      if (Date.now() > deadline) throw new Error(`meatware never asked: ${cluster.haLog('master2').slice(-3000)}`);
      await sleep(200);
    }
    asked = cluster.haLog('master2');
    // The standby waits: nothing of the group comes up on master2 while nobody confirms.
    const until = Date.now() + WAIT_MS;
    while (Date.now() < until) {
      const s = await cluster.nodeState('master2');
      if (s.vip || s.mounted || s.role === 'Primary' || s.mysqld) heldDuringWait.push(JSON.stringify(s));
      await sleep(500);
    }
    waitedMs = Date.now() - crashAt;
    meatclient = await cluster.nodes.master2!.exec('/usr/sbin/meatclient', ['-c', 'master1'], { input: 'y\n', timeoutMs: 30_000 });
    await cluster.waitForHolder('master2', 120_000);
    // heartbeat logs the end of the takeover after the last resource started.
    const logged = Date.now() + 30_000;
    while (!/mach_down takeover complete/.test(cluster.haLog('master2')) && Date.now() < logged) await sleep(200);
  } catch (error) {
    setupError = error instanceof Error ? error.message : String(error);
  }
});
t.teardown(async () => {
  await cluster?.destroy();
});

t.test('master1 crashed: master2 asks the operator through meatware and waits', async (t) => {
  t.notOk(setupError, setupError ?? 'ran to the end');
  t.match(asked, /node master1: is dead/, 'master2 declared master1 dead');
  t.match(asked, /Resetting node master1 with/, 'master2 fences master1 (stonith_host)');
  t.match(asked, /OPERATOR INTERVENTION REQUIRED to reset master1/, 'meatware asks for the reset');
  t.match(asked, /meatclient -c master1/, 'and says how to confirm it');
  t.same(heldDuringWait, [], `master2 took nothing of the group for ${WAIT_MS / 1000} s while nobody confirmed`);
  t.comment(`waited ${waitedMs} ms after the crash before meatclient`);
});

t.test('meatclient -c master1 releases the takeover: master2 holds the group', async (t) => {
  t.equal(meatclient.exitCode, 0, `meatclient: ${meatclient.stdout}${meatclient.stderr}`);
  const log = cluster.haLog('master2');
  t.match(log, /Meatware-reset/, 'meatware took the confirmation');
  t.match(log, /node master1 now reset\./, 'heartbeat logs the reset as done');
  t.match(log, /mach_down takeover complete/, 'and completes the takeover');
  const s = await cluster.nodeState('master2');
  t.ok(s.vip && s.mounted && s.role === 'Primary' && s.mysqld, `master2 holds VIP, /data, Primary and mysqld: ${JSON.stringify(s)}`);
  t.same(cluster.stubCalls('master2'), [], 'no reboot attempted on master2');
});
