import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { isAlive, processState, terminate } from '../../../lib/system/terminate.ts';
import { sleep } from '../../../lib/system/wait.ts';

// Real processes of our own making; each is ended by PID in teardown whatever happens.
function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => {
    if (child.pid && isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
  });
  return child;
}

const IGNORES_TERM = ['-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ready", flush=True); time.sleep(60)'];

async function ready(child: ChildProcess) {
  for (let i = 0; i < 200 && processState(child.pid!) === undefined; i++) await sleep(10);
  await sleep(150);
}

t.test('TERM is enough for a process that obeys it', async (t) => {
  const child = start('sleep', ['60']);
  await ready(child);
  const outcome = await terminate([child.pid!], { termWaitMs: 2000, killWaitMs: 1000 });
  t.same(outcome, { terminated: [child.pid], resumed: [], killed: [], survivors: [] });
});

t.test('KILL after the bound for one that ignores TERM, with the caller told first', async (t) => {
  const child = start('python3', IGNORES_TERM);
  // Only once it says so has it installed its SIGTERM handler.
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  const told: number[][] = [];
  const outcome = await terminate([child.pid!], { termWaitMs: 200, killWaitMs: 1000, onKill: (pids) => told.push(pids) });
  t.same(outcome, { terminated: [], resumed: [], killed: [child.pid], survivors: [] });
  t.same(told, [[child.pid]]);
});

t.test('a frozen process is resumed so it can act on TERM (resumeStopped)', async (t) => {
  const child = start('sleep', ['60']);
  await ready(child);
  process.kill(child.pid!, 'SIGSTOP');
  for (let i = 0; i < 100 && processState(child.pid!) !== 'T'; i++) await sleep(10);
  t.equal(processState(child.pid!), 'T', 'stopped');
  const outcome = await terminate([child.pid!], { termWaitMs: 2000, killWaitMs: 1000, resumeStopped: true });
  t.same(outcome, { terminated: [child.pid], resumed: [child.pid], killed: [], survivors: [] });
});

t.test('without resumeStopped a frozen process waits out the bound and is killed', async (t) => {
  const child = start('sleep', ['60']);
  await ready(child);
  process.kill(child.pid!, 'SIGSTOP');
  for (let i = 0; i < 100 && processState(child.pid!) !== 'T'; i++) await sleep(10);
  const outcome = await terminate([child.pid!], { termWaitMs: 200, killWaitMs: 1000 });
  t.same(outcome, { terminated: [], resumed: [], killed: [child.pid], survivors: [] });
});

t.test('gone and duplicate PIDs are no trouble', async (t) => {
  const child = start('sleep', ['60']);
  await ready(child);
  const gone = start('true', []);
  await new Promise((r) => gone.once('exit', r));
  const outcome = await terminate([child.pid!, child.pid!, gone.pid!], { termWaitMs: 2000, killWaitMs: 1000 });
  t.same(outcome, { terminated: [child.pid], resumed: [], killed: [], survivors: [] });
});
