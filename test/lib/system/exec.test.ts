import t from 'tap';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandFailedError, NotInstalledError, TimeoutError } from '../../../lib/contract/errors.ts';
import { run, startDetached } from '../../../lib/system/exec.ts';
import { terminate } from '../../../lib/system/terminate.ts';
import { pollUntil } from '../../../lib/system/wait.ts';

// The engine under test here is Node's (execa, node:child_process); the Bun
// engine of the same functions is what the built agents run in every agent test.

const dir = mkdtempSync(join(tmpdir(), 'exec-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const sessionOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);
const waitFor = async (check: () => boolean) => (await pollUntil(() => (check() ? true : undefined), { intervalMs: 10, timeoutMs: 5000 })) ?? false;

t.test('run: output, failures and missing programs become typed results', async (t) => {
  const ok = await run('sh', ['-c', 'echo out; echo err >&2']);
  t.same([ok.stdout, ok.stderr, ok.exitCode], ['out\n', 'err\n', 0]);
  await t.rejects(run('sh', ['-c', 'echo boom >&2; exit 3']), CommandFailedError);
  const allowed = await run('sh', ['-c', 'exit 3'], { allowFailure: true });
  t.equal(allowed.exitCode, 3);
  await t.rejects(run('/nonexistent/program', []), NotInstalledError);
  await t.rejects(run('sleep', ['5'], { timeoutMs: 100 }), TimeoutError);
  t.equal((await run('sh', ['-c', 'echo "$1"', 'sh', 'a b; $(id)'])).stdout, 'a b; $(id)\n', 'arguments are never a shell string');
});

t.test('startDetached: own session, output to the given fd, exit seen while we live', async (t) => {
  const log = join(dir, 'out.log');
  const fd = openSync(log, 'a');
  const child = await startDetached('sh', ['-c', 'echo started; exec sleep 30'], { outputFd: fd, cwd: '/' });
  closeSync(fd);
  t.teardown(() => terminate([child.pid], { termWaitMs: 500, killWaitMs: 500 }));
  t.equal(sessionOf(child.pid), child.pid, 'the child leads its own session (setsid)');
  t.ok(await waitFor(() => readFileSync(log, 'utf8') === 'started\n'), 'its output went to the fd');
  t.equal(child.exit(), undefined, 'running');
  process.kill(child.pid, 'SIGTERM');
  t.ok(await waitFor(() => child.exit() !== undefined), 'the exit is noticed');
  t.equal(child.exit(), 'was killed by SIGTERM');

  const quick = await startDetached('sh', ['-c', 'exit 7']);
  t.ok(await waitFor(() => quick.exit() !== undefined));
  t.equal(quick.exit(), 'exited with status 7');
  await t.rejects(startDetached('/nonexistent/daemon', []), /ENOENT/, 'a program that cannot be run is an error, not a pid');
});
