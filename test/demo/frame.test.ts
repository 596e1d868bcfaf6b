import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../rig/agents.ts';
import { formatTable } from '../../demo/frame.ts';

// The demos' shared frame: the table layout, and the one teardown whatever
// ends the run (return, throw, SIGTERM), run in a real child process with
// Bun as demo/run.sh runs the demos, a stand-in cluster recording destroy().

const work = mkdtempSync(join(tmpdir(), `demo-frame-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('formatTable: header underlined, columns as wide as their widest cell', async (t) => {
  t.equal(formatTable([['scenario', 'rows'], ['crash', '136 (0)'], ['failover-long', '-']]), [
    'scenario       rows   ',
    '-------------  -------',
    'crash          136 (0)',
    'failover-long  -      ',
  ].join('\n'));
});

/** A demo whose main does `body` (after tracking a stand-in cluster); returns its exit, output and how often destroy ran. */
async function demo(name: string, body: string, signal?: NodeJS.Signals) {
  const marker = join(work, `${name}.destroyed`);
  writeFileSync(marker, '');
  const script = join(work, `${name}.ts`);
  writeFileSync(script, `import { runDemo, say } from ${JSON.stringify(join(ROOT, 'demo/frame.ts'))};
import { appendFileSync } from 'node:fs';
await runDemo(async (track) => {
  track({ destroy: async () => { await new Promise((r) => setTimeout(r, 200)); appendFileSync(${JSON.stringify(marker)}, 'destroyed\\n'); } });
  say('running');
  ${body}
});
`);
  const child = execa(join(ROOT, 'node_modules/.bin/bun'), [script], { reject: false, timeout: 30_000 });
  if (signal) {
    await new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('running') && resolve()));
    child.kill(signal);
  }
  const r = await child;
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), destroyed: readFileSync(marker, 'utf8').split('\n').filter(Boolean).length };
}

t.test('runDemo: the cluster is torn down exactly once, and the exit code says how it ended', async (t) => {
  let r = await demo('pass', 'return 0;');
  t.equal(r.exitCode, 0, 'a passing demo exits 0');
  t.equal(r.destroyed, 1, 'torn down once');
  t.match(r.stdout, /^\+\s*\d+\.\ds {2}running$/m, 'lines stamped with the seconds since the start');
  t.match(r.stdout, /tearing down: nodes, namespaces, loop device, files/);

  r = await demo('fail', 'return 1;');
  t.equal(r.exitCode, 1, 'a failing verdict exits 1');
  t.equal(r.destroyed, 1);

  r = await demo('throws', "throw new Error('the rig broke');");
  t.equal(r.exitCode, 1, 'an error exits 1');
  t.match(r.stderr, /^demo: Error: the rig broke/m, 'and is printed');
  t.equal(r.destroyed, 1, 'torn down once');

  r = await demo('signal', 'await new Promise((r) => setTimeout(r, 20_000)); return 0;', 'SIGTERM');
  t.equal(r.exitCode, 130, 'SIGTERM: exit 130');
  t.equal(r.destroyed, 1, 'after tearing down once (the final teardown does not run it again)');
});
