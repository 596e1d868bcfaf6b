import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Sandbox, ip, netnsAdd, netnsDelete } from '../rig/sandbox.ts';
import { startMta, type Mta } from '../rig/mta.ts';

// A real `ha-agent watch` in a private-root node (master1) where the stock
// heartbeat daemon runs and takes the group; master2 is declared but never
// starts, and a second namespace stands in for it on the LAN. Faults are
// made for real (the peer's address answering or not, a duplicate VIP, a
// resource stopped, heartbeat killed) and each alert is checked where it
// is delivered: Debian's alert_file.sh.sample's file, a real exim4's
// mailbox, heartbeat's ha-log, the metrics file (promtool) and a real
// Prometheus scraping --listen. Then SIGHUP (reload, broken ha.cf kept
// out) and SIGTERM (exit 0, metrics file whole).

const id = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
const ns = `hae-w-${id}`;
const peerNs = `hae-wp-${id}`;
const NET = '198.18.21';
const VIP = `${NET}.10`;
const PEER = `${NET}.2`;
const LISTEN_PORT = 9664;
const PROM_PORT = 9090;
const work = mkdtempSync(join(tmpdir(), `watch-cli-${id}-`));
chmodSync(work, 0o755);

const flagScript = `#!/bin/sh
flag=/run/flag.$1
case "$2" in
  start) touch "$flag" ;;
  stop) rm -f "$flag" ;;
  status) if [ -e "$flag" ]; then echo "flag $1 is running"; else echo "flag $1 is not running"; exit 3; fi ;;
esac
`;
const HA_CF = `logfile /var/log/ha-log
debugfile /var/log/ha-debug
logfacility none
keepalive 500ms
deadtime 3
warntime 2
initdead 4
udpport 694
bcast eth1
auto_failback on
node master1
node master2
crm no
`;

let node: Sandbox;
let mta: Mta;
let watcher: ChildProcess | undefined;
let watcherPid = 0;
let watcherExit: Promise<number | null>;
let prometheus: ChildProcess | undefined;

const alerts = () => (node ? node.readLog('alerts') : '');
const haLog = () => (node ? node.readLog('ha-log') : '');

async function until(what: string, test: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- alerts:\n${alerts()}\n--- ha-log (tail):\n${haLog().split('\n').slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alertLine = (code: string, state: string) => new RegExp(`Node 'master1' is now '${code} \\w+ ${state}: `);

t.before(async () => {
  await netnsAdd(ns);
  await netnsAdd(peerNs);
  await execa('ip', ['link', 'add', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name', 'eth1p', 'netns', peerNs]);
  await ip(['addr', 'add', `${NET}.1/24`, 'dev', 'eth1'], ns);
  await ip(['link', 'set', 'eth1', 'up'], ns);
  await ip(['addr', 'add', `${PEER}/24`, 'dev', 'eth1p'], peerNs);
  await ip(['link', 'set', 'eth1p', 'up'], peerNs);
  mta = startMta(join(work, 'mta'));
  const hook = join(work, 'alert_file.sh');
  copyFileSync('/usr/share/pacemaker/alerts/alert_file.sh.sample', hook);
  chmodSync(hook, 0o755);
  node = await Sandbox.start({
    name: `w-${id}`,
    hostname: 'master1',
    netns: ns,
    etc: {
      'ha.d/ha.cf': HA_CF,
      'ha.d/authkeys': { content: 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n', mode: 0o600 },
      'ha.d/haresources': `master1 IPaddr::${VIP}/24/eth1 flag::a\n`,
      'ha.d/alert_file.sh': { content: readFileSync(hook, 'utf8'), mode: 0o755 },
      'ha.d/failing.sh': { content: '#!/bin/sh\necho "pager gateway refused" >&2\nexit 3\n', mode: 0o755 },
      'ha.d/hang.sh': { content: '#!/bin/sh\nsleep 60\n', mode: 0o755 },
      'init.d/flag': { content: flagScript, mode: 0o755 },
      hosts: `127.0.0.1 localhost\n${NET}.1 master1\n${PEER} master2\n`,
    },
    binds: [{ host: mta.dir, inner: mta.dir }],
  });
});

t.teardown(async () => {
  for (const child of [watcher, prometheus]) {
    if (child?.pid && child.exitCode === null) try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (watcherPid) try { process.kill(watcherPid, 'SIGKILL'); } catch { /* gone */ }
  await node?.destroy();
  await netnsDelete(ns);
  await netnsDelete(peerNs);
  mta?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const watchCmd = (args: string[]) => node.exec('/etc/ha.d/resource.d/ha-agent', ['watch', ...args], { timeoutMs: 60_000 });

t.test('--once before heartbeat runs: the stopped heartbeat is a WARNING with perfdata; bad input is UNKNOWN (3)', async (t) => {
  const r = await watchCmd(['--once', '--peer-address', PEER]);
  t.equal(r.exitCode, 1, r.stdout + r.stderr);
  t.match(r.stdout, /^HA WATCH WARNING - HA705 heartbeat is not running on master1 \(no \/run\/heartbeat\.pid\) \| .*resources_held=0;;;0; .*heartbeat_running=0;;;0;1 /);
  t.equal(r.stdout.trim().split('\n').length, 1, 'one line');
  const json = await watchCmd(['--once', '--json']);
  const parsed = JSON.parse(json.stdout);
  t.match(parsed, { status: 'WARNING', exitCode: 1, events: [{ code: 'HA705', severity: 'warning' }] });
  const usage = await watchCmd(['--once', '--bogus']);
  t.equal(usage.exitCode, 3);
  t.match(usage.stderr, /unknown option '--bogus'/);
  const missing = await watchCmd(['--once', '--ha-dir', '/nonexistent']);
  t.equal(missing.exitCode, 3);
  t.match(missing.stdout, /^HA WATCH UNKNOWN - cannot read \/nonexistent\/ha\.cf: ENOENT/);
  const badConfig = await watchCmd(['--once', '--config', '/nonexistent.conf']);
  t.equal(badConfig.exitCode, 3);
  t.match(badConfig.stderr, /cannot read \/nonexistent\.conf: ENOENT/);
  t.equal((await watchCmd(['--bogus'])).exitCode, 2, 'without --once the CLI\'s usage error, 2');
  t.equal((await watchCmd(['--interval', '0'])).exitCode, 2);
});

t.test('a long-running watcher: every alert raised once and cleared once, on every channel', async (t) => {
  const r = await node.exec('/usr/libexec/heartbeat/heartbeat', [], { timeoutMs: 30_000 });
  t.equal(r.exitCode, 0, 'heartbeat started');
  await until('heartbeat to declare master2 dead', () => /node master2: is dead/.test(haLog()), 60_000);
  await until('heartbeat to settle', () => /local resource transition completed/.test(haLog()), 60_000);
  // The group taken as heartbeat takes it (ResourceManager), by hand: the test decides when.
  const take = await node.resourceManager(['takegroup', `IPaddr::${VIP}/24/eth1`]);
  t.equal(take.exitCode, 0, take.stderr);

  const args = [
    'watch', '--interval', '0.5', '--clear-after', '1', '--alert-timeout', '2',
    '--alert-exec', '/etc/ha.d/alert_file.sh=/var/log/alerts',
    '--alert-exec', '/etc/ha.d/no-such-hook',
    '--alert-exec', '/etc/ha.d/hang.sh',
    '--mail-to', 'ops@watch.test', '--sendmail', mta.sendmail,
    '--metrics-file', '/var/log/metrics/ha.prom',
    '--listen', `127.0.0.1:${LISTEN_PORT}`,
    '--json',
  ];
  const out = join(work, 'watch.out');
  writeFileSync(out, '');
  watcher = spawn('nsenter', [...node.nsenterArgs(), '--', '/usr/bin/env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', '/etc/ha.d/resource.d/ha-agent', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  watcher.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  watcher.stderr!.on('data', (c: Buffer) => { stdout += c.toString(); });
  watcherExit = new Promise((resolve) => watcher!.once('exit', (code) => resolve(code)));
  // nsenter forks into the PID namespace: the watcher is its child.
  await until('the watcher process', () => {
    try {
      const kids = readFileSync(`/proc/${watcher!.pid}/task/${watcher!.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      if (kids.length) watcherPid = Number(kids[0]);
    } catch { /* not yet */ }
    return watcherPid > 0;
  });

  await t.test('split brain: heartbeat calls master2 dead, its address answers on the LAN', async (t) => {
    await until('HA702 raised in the alert file', () => alertLine('HA702', 'raised').test(alerts()));
    t.match(haLog(), /ha-agent-watch\[\d+\]:\s+CRIT: HA702 raised \(mac=[0-9a-f:]+\): heartbeat hears nothing from master2 .*but 198\.18\.21\.2 still answers/);
    await until('the line for the unwritable metrics file', () => /ERROR: cannot write the metrics file \/var\/log\/metrics\/ha\.prom: ENOENT; sampling goes on/.test(haLog()));
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(haLog().split('\n').filter((l) => l.includes('cannot write the metrics file')).length, 1, 'once, not every sample');
    await until('the failing hooks\' lines', () => /alert hook \/etc\/ha\.d\/no-such-hook for HA702 raised: not found/.test(haLog()) && /alert hook \/etc\/ha\.d\/hang\.sh for HA702 raised: did not finish within 2000 ms/.test(haLog()));
    await until('the mail', () => mta.messages().some((m) => /^Subject: \[CRITICAL\] master1: HA702 raised: /m.test(m)));
    const json = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    t.match(json.find((e) => e.code === 'HA702'), { severity: 'critical', state: 'raised', node: 'master1', subject: { mac: /:/ } });
    // The metrics directory appears: the next sample writes the file.
    mkdirSync(join(node.logDir, 'metrics'));
    await until('the metrics file', () => existsSync(join(node.logDir, 'metrics/ha.prom')));
    t.match(haLog(), /INFO: metrics file \/var\/log\/metrics\/ha\.prom written again/);
    const text = readFileSync(join(node.logDir, 'metrics/ha.prom'), 'utf8');
    const lint = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    t.equal(lint.exitCode, 0, lint.stdout + lint.stderr);
    t.match(text, /^ha_watch_events_active\{code="HA702",severity="critical"\} 1$/m);
    t.match(text, /^ha_watch_peer_status\{peer="master2",status="dead"\} 1$/m);
    t.match(text, /^ha_watch_resources_held 2$/m);
    t.match(text, /^ha_watch_link_up\{link="eth1",status="dead"\} 0$/m);
  });

  await t.test('a real Prometheus scrapes --listen', async (t) => {
    const dir = join(work, 'prom');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ha-watch\n    static_configs:\n      - targets: ['127.0.0.1:${LISTEN_PORT}']\n`);
    prometheus = spawn('ip', ['netns', 'exec', ns, 'prometheus', `--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${PROM_PORT}`], { stdio: 'ignore' });
    const query = async (expr: string) => {
      const r = await execa('ip', ['netns', 'exec', ns, 'curl', '-s', '--max-time', '2', '--get', `http://127.0.0.1:${PROM_PORT}/api/v1/query`, '--data-urlencode', `query=${expr}`], { reject: false });
      try {
        return JSON.parse(r.stdout).data?.result ?? [];
      } catch {
        return [];
      }
    };
    let up: { value: [number, string] }[] = [];
    let held: { value: [number, string] }[] = [];
    await until('Prometheus to scrape the watcher', async () => {
      up = await query('up{job="ha-watch"}');
      held = await query('ha_watch_resources_held');
      return up.length > 0 && up[0]!.value[1] === '1' && held.length > 0;
    }, 60_000);
    t.equal(up[0]!.value[1], '1', 'up');
    t.equal(held[0]!.value[1], '2', 'ha_watch_resources_held as scraped');
    const sb = await query('ha_watch_events_active{code="HA702"}');
    t.equal(sb[0]?.value[1], '1');
    const pid = prometheus.pid!;
    process.kill(pid, 'SIGTERM');
    await new Promise((r) => prometheus!.once('exit', r));
  });

  await t.test('the peer\'s address goes silent: split brain clears, the peer is dead', async (t) => {
    await ip(['addr', 'del', `${PEER}/24`, 'dev', 'eth1p'], peerNs);
    await until('HA702 cleared and HA703 raised', () => alertLine('HA702', 'cleared').test(alerts()) && alertLine('HA703', 'raised').test(alerts()));
    t.match(haLog(), /INFO: HA702 cleared/);
    t.match(haLog(), /WARNING: HA703 raised: heartbeat sees master2 dead and 198\.18\.21\.2 does not answer on the LAN/);
  });

  await t.test('a duplicate VIP on the "peer": HA711 critical, cleared when removed', async (t) => {
    await ip(['addr', 'add', `${VIP}/24`, 'dev', 'eth1p'], peerNs);
    await until('HA711 raised', () => alertLine('HA711', 'raised').test(alerts()));
    const mac = JSON.parse((await execa('ip', ['-n', peerNs, '-j', 'link', 'show', 'eth1p'])).stdout)[0].address as string;
    t.match(haLog(), new RegExp(`CRIT: HA711 raised \\(vip=198\\.18\\.21\\.10 mac=${mac}\\): VIP 198\\.18\\.21\\.10 is held here on eth1 and also answers from ${mac}`));
    await ip(['addr', 'del', `${VIP}/24`, 'dev', 'eth1p'], peerNs);
    await until('HA711 cleared', () => alertLine('HA711', 'cleared').test(alerts()));
  });

  await t.test('a resource of the held group stops: HA731 and HA732 critical, cleared when it runs again', async (t) => {
    await node.exec('/etc/init.d/flag', ['a', 'stop']);
    await until('HA731 and HA732 raised', () => alertLine('HA731', 'raised').test(alerts()) && alertLine('HA732', 'raised').test(alerts()));
    t.match(haLog(), /CRIT: HA732 raised \(resource=flag::a\): flag::a is released \(flag a is not running\) while the rest of group IPaddr::198\.18\.21\.10\/24\/eth1 is held on master1/);
    await node.exec('/etc/init.d/flag', ['a', 'start']);
    await until('both cleared', () => alertLine('HA731', 'cleared').test(alerts()) && alertLine('HA732', 'cleared').test(alerts()));
  });

  await t.test('SIGHUP re-reads haresources and watch.conf; a broken ha.cf is one line and the last good one is kept', async (t) => {
    await node.sh('printf "# added while running\\nalert-exec = /etc/ha.d/failing.sh\\nclear-after = 1\\n" > /etc/ha.d/watch.conf');
    await node.exec('/bin/mv', ['/etc/ha.d/ha.cf', '/etc/ha.d/ha.cf.moved']);
    process.kill(watcherPid, 'SIGHUP');
    await until('the reload lines', () => /ERROR: reload: cannot read \/etc\/ha\.d\/ha\.cf: ENOENT; keeping what was read before/.test(haLog()) && /INFO: reloaded: node master1, peer master2/.test(haLog()));
    await node.exec('/bin/mv', ['/etc/ha.d/ha.cf.moved', '/etc/ha.d/ha.cf']);
    // The new hook runs for the next event.
    await node.exec('/etc/init.d/flag', ['a', 'stop']);
    await until('the failing hook\'s line', () => /alert hook \/etc\/ha\.d\/failing\.sh for HA73[12] raised: exited 3: pager gateway refused/.test(haLog()));
    t.pass('the hook from watch.conf ran');
    await node.exec('/etc/init.d/flag', ['a', 'start']);
    await until('cleared', () => (alerts().match(/HA731 \w+ cleared/g) ?? []).length === 2);
  });

  await t.test('heartbeat killed with the group held: HA704 critical', async (t) => {
    await node.sh('kill -9 "$(cat /run/heartbeat.pid)"');
    await until('HA704 raised', () => alertLine('HA704', 'raised').test(alerts()));
    t.match(haLog(), /CRIT: HA704 raised: heartbeat is not running on master1 \(PID \d+ of \/run\/heartbeat\.pid is not running\), yet 2 resource\(s\) of its group are held here/);
    await until('HA703 cleared: the peer\'s state is not known without heartbeat', () => /INFO: HA703 cleared/.test(haLog()));
    const once = await watchCmd(['--once']);
    t.equal(once.exitCode, 2);
    t.match(once.stdout, /^HA WATCH CRITICAL - HA704 heartbeat is not running/);
  });

  await t.test('each event raised once: no repeats while a fault lasts', async (t) => {
    const raised = alerts().split('\n').filter((l) => / raised: /.test(l)).map((l) => /is now '(HA\d+) /.exec(l)![1]);
    t.same(raised.filter((c) => c === 'HA702').length, 1);
    t.same(raised.filter((c) => c === 'HA711').length, 1);
    t.same(raised.filter((c) => c === 'HA731').length, 2, 'two separate stops, two raises');
    const mails = mta.messages().filter((m) => /^Subject: \[CRITICAL\] master1: HA711 /m.test(m));
    t.equal(mails.length, 2, 'one mail for the raise, one for the clear');
  });

  await t.test('SIGTERM: exit 0, the metrics file whole', async (t) => {
    process.kill(watcherPid, 'SIGTERM');
    const code = await watcherExit;
    t.equal(code, 0, stdout);
    t.match(haLog(), /INFO: stopped \(SIGTERM\)/);
    const text = readFileSync(join(node.logDir, 'metrics/ha.prom'), 'utf8');
    t.equal((await execa('promtool', ['check', 'metrics'], { input: text, reject: false })).exitCode, 0);
    t.match(text, /^ha_watch_events_active\{code="HA704",severity="critical"\} 1$/m);
    t.notOk(existsSync(join(node.logDir, 'metrics', `.ha.prom.${watcherPid}.tmp`)));
    watcherPid = 0;
  });
});

t.test('respawn from ha.cf: heartbeat starts the watcher, and the watcher outlives heartbeat killed with SIGKILL to raise HA704', async (t) => {
  // The previous heartbeat was killed: its pid file is stale.
  await node.sh('rm -f /run/heartbeat.pid');
  await node.sh(`printf 'respawn root /usr/sbin/ha-agent watch --interval 0.5 --alert-exec /etc/ha.d/alert_file.sh=/var/log/alerts-respawn\\n' >> /etc/ha.d/ha.cf`);
  await node.sh('ln -sf /etc/ha.d/resource.d/ha-agent /usr/sbin/ha-agent');
  const r = await node.exec('/usr/libexec/heartbeat/heartbeat', [], { timeoutMs: 30_000 });
  t.equal(r.exitCode, 0, 'heartbeat started');
  const respawned = () => node.readLog('alerts-respawn');
  await until('the respawned watcher\'s first alert (split brain is over: the peer is dead)', () => alertLine('HA703', 'raised').test(respawned()), 60_000);
  const ps = await node.sh('ps -eo pid,ppid,args | grep "[h]a-agent watch --interval 0.5"');
  t.match(ps.stdout, /ha-agent watch --interval 0\.5 --alert-exec/, 'running as heartbeat\'s child');
  await node.sh('kill -9 "$(cat /run/heartbeat.pid)"');
  await until('HA704 from the respawned watcher', () => alertLine('HA704', 'raised').test(respawned()), 30_000);
  const after = await node.sh('ps -eo pid,ppid,args | grep "[h]a-agent watch --interval 0.5"');
  t.match(after.stdout, /ha-agent watch/, 'still watching after heartbeat\'s SIGKILL');
  const pid = /^\s*(\d+)/.exec(after.stdout)![1]!;
  await node.exec('/bin/kill', ['-TERM', pid]);
  await until('the respawned watcher to end on SIGTERM', async () => (await node.exec('/bin/kill', ['-0', pid])).exitCode !== 0);
  t.match(haLog(), /INFO: stopped \(SIGTERM\)[\s\S]*INFO: stopped \(SIGTERM\)/, 'both watchers logged their clean stop');
});
