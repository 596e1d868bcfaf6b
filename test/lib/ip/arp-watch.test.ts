import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { ArpWatch } from '../../../lib/ip/arp-watch.ts';
import { ip, netnsAdd, netnsDelete } from '../../rig/sandbox.ts';
import { iputilsArping } from '../../rig/old-tools.ts';
import { knownArpingDialect } from '../../../lib/ip/probe.ts';

// A kept arping against a real holder in another namespace: the holder's
// MAC is streamed in, a second holder appears and goes, stop() ends arping
// by PID, a failing arping is reported (not taken as "nobody answers").

const id = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
const a = `hae-aw-${id}`;
const b = `hae-awb-${id}`;
const c = `hae-awc-${id}`;
const NET = '198.18.25';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const macOf = (ns: string, dev: string) => execa('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${dev}/address`]).then((r) => r.stdout.trim());

t.before(async () => {
  for (const ns of [a, b, c]) await netnsAdd(ns);
  await ip(['link', 'add', 'br0', 'type', 'bridge'], a);
  await ip(['link', 'set', 'br0', 'up'], a);
  await ip(['addr', 'add', `${NET}.1/24`, 'dev', 'br0'], a);
  for (const [ns, dev] of [[b, 'vb'], [c, 'vc']] as const) {
    await execa('ip', ['link', 'add', `${dev}p`, 'netns', a, 'type', 'veth', 'peer', 'name', dev, 'netns', ns]);
    await ip(['link', 'set', `${dev}p`, 'master', 'br0'], a);
    await ip(['link', 'set', `${dev}p`, 'up'], a);
    await ip(['link', 'set', dev, 'up'], ns);
  }
  await ip(['addr', 'add', `${NET}.10/24`, 'dev', 'vb'], b);
});

t.teardown(async () => {
  for (const ns of [a, b, c]) await netnsDelete(ns);
});

const until = async (test: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!test() && Date.now() < end) await sleep(50);
  return test();
};

t.test('replies streamed, a second holder seen and gone, stopped by PID', async (t) => {
  const w = new ArpWatch('br0', `${NET}.10`, { intervalMs: 200, lifetimeMs: 60_000, command: ['ip', 'netns', 'exec', a, 'arping'] });
  t.after(() => w.stop());
  t.equal(w.ensure(), undefined);
  const pid = w.pid!;
  t.ok(pid > 0);
  t.notOk(w.settled(), 'not settled right after start');
  const holder = await macOf(b, 'vb');
  t.ok(await until(() => w.settled() && w.macsWithin(500).includes(holder)), 'the holder\'s MAC streamed in');
  t.equal(w.ensure(), undefined, 'running: ensure starts nothing');
  t.equal(w.pid, pid, 'the same arping');
  await ip(['addr', 'add', `${NET}.10/24`, 'dev', 'vc'], c);
  const second = await macOf(c, 'vc');
  t.ok(await until(() => w.macsWithin(500).length === 2), 'the second holder seen');
  t.same(w.macsWithin(500), [holder, second].sort());
  await ip(['addr', 'del', `${NET}.10/24`, 'dev', 'vc'], c);
  t.ok(await until(() => !w.macsWithin(500).includes(second)), 'the second holder gone from the window');
  await w.stop();
  t.equal(w.pid, undefined);
  t.notOk(existsSync(`/proc/${pid}`) && !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'arping ended');
  t.equal(w.ensure(), undefined, 'started again after stop');
  t.not(w.pid, pid);
});

t.test('an arping that fails is reported once, and started again', async (t) => {
  const w = new ArpWatch('nosuchif0', `${NET}.10`, { intervalMs: 200, lifetimeMs: 60_000, command: ['ip', 'netns', 'exec', a, 'arping'] });
  t.after(() => w.stop());
  w.ensure();
  t.ok(await until(() => w.pid === undefined), 'arping exits');
  t.match(w.ensure(), /arping -0 -i nosuchif0 .* failed: .*nosuchif0/);
  t.notOk(w.settled());
});

t.test('its probe count ends it normally (bounded lifetime): no error, the next ensure starts another', async (t) => {
  const w = new ArpWatch('br0', `${NET}.10`, { intervalMs: 100, lifetimeMs: 200, command: ['ip', 'netns', 'exec', a, 'arping'] });
  t.after(() => w.stop());
  w.ensure();
  t.ok(await until(() => w.pid === undefined), 'arping ends after its count');
  t.equal(w.ensure(), undefined, 'nothing to report');
  t.ok(w.pid);
});

// iputils' arping (RHEL/CentOS), the real one from Debian's iputils-arping:
// first run with Habets' flags, its refusal learnt (in a dialect memory of
// this test's own), then streaming with its flags, a second holder seen and
// gone, and nobody else answering when the holder is away.
t.test('iputils arping: learnt from its refusal, replies streamed, a second holder seen and gone', async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/hae-aw-iputils-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const arping = await iputilsArping(`${dir}/root`);
  const env = { ...process.env, PATH: `${dirname(arping)}:${process.env.PATH}`, HA_RSCTMP: `${dir}/run` };
  t.equal(knownArpingDialect(env), 'habets', 'nothing learnt yet');
  const w = new ArpWatch('br0', `${NET}.10`, { intervalMs: 200, lifetimeMs: 60_000, command: ['ip', 'netns', 'exec', a, arping], env });
  t.after(() => w.stop());
  t.equal(w.ensure(), undefined);
  const holder = await macOf(b, 'vb');
  t.ok(await until(() => w.settled() && w.macsWithin(2.5 * w.probeIntervalMs).includes(holder), 8000), 'the holder\'s MAC streamed in');
  t.equal(knownArpingDialect(env), 'iputils', 'its refusal learnt and remembered for the probes too');
  t.equal(w.probeIntervalMs, 1000, 'one probe a second (iputils has no interval flag everywhere)');
  t.ok(readFileSync(`/proc/${w.pid}/cmdline`, 'utf8').split('\0').includes('-b'), 'the running arping has iputils\' flags');
  const pid = w.pid;
  t.equal(w.ensure(), undefined, 'running: ensure starts nothing');
  t.equal(w.pid, pid);
  await ip(['addr', 'add', `${NET}.10/24`, 'dev', 'vc'], c);
  const second = await macOf(c, 'vc');
  t.ok(await until(() => w.macsWithin(2.5 * w.probeIntervalMs).length === 2, 8000), 'the second holder seen (broadcast probes: -b)');
  t.same(w.macsWithin(2.5 * w.probeIntervalMs), [holder, second].sort());
  await ip(['addr', 'del', `${NET}.10/24`, 'dev', 'vc'], c);
  t.ok(await until(() => !w.macsWithin(2.5 * w.probeIntervalMs).includes(second), 8000), 'the second holder gone from the window');
  await ip(['addr', 'del', `${NET}.10/24`, 'dev', 'vb'], b);
  t.ok(await until(() => w.macsWithin(2.5 * w.probeIntervalMs).length === 0, 8000), 'no holder at all: nobody answers');
  await ip(['addr', 'add', `${NET}.10/24`, 'dev', 'vb'], b);
  await w.stop();
  t.equal(w.pid, undefined);
  t.notOk(existsSync(`/proc/${pid}`) && !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'arping ended');

  const failing = new ArpWatch('nosuchif0', `${NET}.10`, { intervalMs: 200, lifetimeMs: 60_000, command: ['ip', 'netns', 'exec', a, arping], env });
  t.after(() => failing.stop());
  failing.ensure();
  t.ok(await until(() => failing.pid === undefined), 'arping exits');
  t.match(failing.ensure(), /arping -b -s 0\.0\.0\.0 -I nosuchif0 .* failed: .*nosuchif0/, 'an iputils failure is reported with its flags');
});
