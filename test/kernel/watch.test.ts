import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { oldKernelNode } from '../rig/old-kernel.ts';
import { netnsDelete, netnsWithEth1 } from '../rig/sandbox.ts';
import { childOf } from '../rig/watch-node.ts';

// Issue 21, item 3, for `ha-agent watch` (it landed after the other
// commands were covered): under 3.10's syscall table (CentOS 7), in a
// node's private root with a VIP held, `watch --once` answers as it does on
// the host's table, and a watcher loop samples (its kept arping, the
// metrics file written atomically, all under the table) and ends with exit
// 0 on SIGTERM.

t.test("3.10's table: ha-agent watch --once, and a watcher loop ended by SIGTERM", async (t) => {
  const nodeNs = `hak-w-${process.pid}`;
  const VIP = '198.18.63.1';
  await netnsWithEth1(nodeNs, '198.18.63.2/24');
  t.teardown(() => netnsDelete(nodeNs));
  const { node, prefix: old } = await oldKernelNode(`kernw-${process.pid}`, nodeNs, `master1 IPaddr::${VIP}/24/eth1\n`);
  t.teardown(() => node.destroy());
  const haAgent = '/etc/ha.d/resource.d/ha-agent';

  const start = await node.exec(old[0]!, [...old.slice(1), '/etc/ha.d/resource.d/IPaddr', `${VIP}/24/eth1`, 'start']);
  t.equal(start.exitCode, 0, `the VIP held (IPaddr start under the table): ${start.stderr}`);

  type Once = { events?: { code: string }[] } & Record<string, unknown>;
  const codes = (json: Once) => (json.events ?? []).map((e) => e.code).sort();
  const host = await node.exec(haAgent, ['watch', '--once', '--json']);
  const simulated = await node.exec(old[0]!, [...old.slice(1), haAgent, 'watch', '--once', '--json']);
  t.equal(simulated.exitCode, host.exitCode, `--once exits as on the host (${simulated.stderr})`);
  t.ok([0, 1, 2].includes(simulated.exitCode), `a verdict, not UNKNOWN (${simulated.exitCode})`);
  t.same(codes(JSON.parse(simulated.stdout) as Once), codes(JSON.parse(host.stdout) as Once), '--once finds the same events as on the host');
  t.notMatch(simulated.stdout + simulated.stderr, /ENOSYS|not implemented/i, 'no system call missing');
  const text = await node.exec(old[0]!, [...old.slice(1), haAgent, 'watch', '--once']);
  t.equal(text.exitCode, host.exitCode);
  t.match(text.stdout, /^HA WATCH (OK|WARNING|CRITICAL) - .* \| resources_held=/, 'one status line with perfdata');

  // The loop: every 0.2 s, with a metrics file to count its samples by.
  const watcher = spawn('nsenter', [...node.nsenterArgs(), '--', '/usr/bin/env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...old, haAgent, 'watch', '--interval', '0.2', '--metrics-file', '/var/log/ha.prom'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  watcher.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  watcher.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  const exited = new Promise<number | null>((resolve) => watcher.once('exit', (code) => resolve(code)));
  t.teardown(() => { try { process.kill(watcher.pid!, 'SIGKILL'); } catch { /* ended */ } });
  const metrics = join(node.logDir, 'ha.prom');
  const samples = () => Number(/^ha_watch_samples_total (\d+)$/m.exec(existsSync(metrics) ? readFileSync(metrics, 'utf8') : '')?.[1] ?? 0);
  const deadline = Date.now() + 30_000;
  while (samples() < 5 && Date.now() < deadline && watcher.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  t.ok(samples() >= 5, `the watcher sampled at least 5 times under the table (${samples()}; ${output})`);
  t.match(readFileSync(metrics, 'utf8'), /^ha_watch_vip_held\{[^}]*\} 1$/m, 'the VIP seen held');
  // The watcher (old-kernel execs it: the same PID) is nsenter's child.
  const pid = childOf(watcher.pid!);
  t.ok(pid > 0, 'the watcher found');
  t.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Seccomp:\s+2$/m, 'the watcher runs under the filter');
  process.kill(pid, 'SIGTERM');
  t.equal(await exited, 0, `SIGTERM: exit 0 (${output})`);
  t.match(node.readLog('ha-log'), /INFO: stopped \(SIGTERM\)/, 'its clean stop logged');
  t.notMatch(output, /ENOSYS|not implemented/i, 'no system call missing');

  const stop = await node.exec(old[0]!, [...old.slice(1), '/etc/ha.d/resource.d/IPaddr', `${VIP}/24/eth1`, 'stop']);
  t.equal(stop.exitCode, 0, stop.stderr);
});
