import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { recallDialect, rememberDialect, toolIdentity } from '../../../lib/system/tool-memory.ts';

const dir = mkdtempSync(`${tmpdir()}/hara-tool-memory-`);
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('identity: the first executable on PATH, and it changes with the binary', async (t) => {
  const [a, b] = [`${dir}/a`, `${dir}/b`];
  const { mkdirSync } = await import('node:fs');
  mkdirSync(a, { recursive: true });
  mkdirSync(b, { recursive: true });
  writeFileSync(`${a}/tool`, 'not executable');
  writeFileSync(`${b}/tool`, '#!/bin/sh\n', { mode: 0o755 });
  const env = { PATH: `${a}:${b}` };
  const first = toolIdentity('tool', env);
  t.match(first, new RegExp(`^${b}/tool \\d+ \\d+ \\d+ 10$`), 'skips the non-executable one');
  t.equal(toolIdentity('missing', env), undefined);
  utimesSync(`${b}/tool`, new Date(1_000_000), new Date(1_000_000));
  t.not(toolIdentity('tool', env), first, 'a new mtime is another binary');
  chmodSync(`${a}/tool`, 0o755);
  t.match(toolIdentity('tool', env), new RegExp(`^${a}/tool `), 'PATH order');
});

t.test('remembered only for the binary it was learnt from; best effort', async (t) => {
  const env = { HA_RSCTMP: `${dir}/rsc` };
  t.equal(recallDialect(env, 'x', 'id-1'), undefined, 'nothing yet');
  rememberDialect(env, 'x', 'id-1', 'text');
  t.equal(recallDialect(env, 'x', 'id-1'), 'text');
  t.equal(recallDialect(env, 'x', 'id-2'), undefined, 'another binary: ask it again');
  t.equal(recallDialect(env, 'x', undefined), undefined);
  writeFileSync(`${dir}/a-file`, '');
  t.doesNotThrow(() => rememberDialect({ HA_RSCTMP: `${dir}/a-file` }, 'x', 'id-1', 'text'), 'an unusable directory is not an error');
});
