import fc from 'fast-check';
import t from 'tap';
import agent from '../../agents/filesystem.ts';
import { HOSTILE, checkFits, fuzzCase } from './generators.ts';
import { fuzz, fuzzSeed, regressions } from './harness.ts';
import { REGRESSIONS } from './regressions.ts';
import { filesystemRigs, type Rigs } from './rigs.ts';

// Filesystem, v1 and OCF, generated from its parameter table, with an ext4
// loop image per worker. A start that mounts is undone by its stop
// (harness.ts). Two parameters get a narrower generator, by construction,
// because a *valid* value would change the host outside the rig:
//   directory: always inside the worker's scratch directory (hostile names
//     and ".." that stay inside it), or relative / root forms that must be
//     refused. "{{scratch}}/.." is /tmp: a valid start would mount over it
//     and hide every other test's files.
//   device: the rig's own devices and names, or hostile strings that are
//     not absolute paths: a bind mount of "/" or "/.." is a valid start too.

const ATOMS = [
  '{{dev}}', 'UUID={{uuid}}', 'LABEL={{label}}', '-U {{uuid}}', '-L{{label}}', '--uuid={{uuid}}', '/dev/null', '/dev/fuzz-nonexistent', 'UUID=00000000-0000-0000-0000-000000000000',
  '{{scratch}}/mnt', '{{scratch}}/src', '{{scratch}}/file', 'tmpfs',
  'ext4', 'ext3', 'xfs', 'none', 'tmpfs', 'auto', 'nfs',
  'ro', 'noatime', 'bind', 'rbind', 'defaults', 'ro,noatime', 'errors=remount-ro', 'remount', 'loop',
  'auto', 'force', 'no', 'safe', '.Filesystem_status/', 'sub/dir/',
];
const SEGMENTS = [
  'mnt', 'mnt/', 'mnt//', './mnt', 'src/../mnt', 'mnt/.', 'mnt/new', 'new/deeper', 'file', 'a b', '-x', '--', '.', 'src',
  'x'.repeat(300), `${'d/'.repeat(600)}d`, 'mnt\nx', 'mnt;x', '$(reboot)', 'mnt\x01', '\u00e9', '{{xff}}', 'mnt{{xc3}}', 'mnt/../src/..',
];
const directory = fc.oneof(
  { weight: 6, arbitrary: fc.constant('{{scratch}}/mnt') },
  { weight: 6, arbitrary: fc.constantFrom(...SEGMENTS).map((s) => `{{scratch}}/${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('/', '//', '/.', '/./', '/..', '/../', '/tmp/..') },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE.filter((h) => !h.startsWith('/'))) },
);
const device = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('{{dev}}', 'LABEL={{label}}', '{{scratch}}/src') },
  { weight: 6, arbitrary: fc.constantFrom(...ATOMS.slice(0, 13)) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE.filter((h) => !h.startsWith('/'))) },
  { weight: 1, arbitrary: fc.constantFrom(...SEGMENTS).map((s) => `{{scratch}}/${s}`) },
);
const FITS = {
  fstype: ['ext4', 'ext3', 'xfs', 'none', 'tmpfs', ''],
  options: ['ro', 'noatime', 'bind', 'defaults', 'ro,noatime', ''],
  run_fsck: ['auto', 'force', 'no'],
  force_unmount: ['true', 'safe', 'false'],
};
const WORKERS = Number(process.env.FUZZ_WORKERS) || 3;

const RIG = { atoms: ATOMS, fits: FITS };

let rigs: Rigs | undefined;
t.before(async () => {
  rigs = await filesystemRigs(WORKERS);
});
t.teardown(async () => rigs?.destroy());

const cases = fuzzCase(agent, RIG, { override: { directory, device } });
t.test('the rig values fit parameters of the table', async (t) => t.doesNotThrow(() => checkFits(agent, RIG)));
t.test('regressions', async (t) => regressions(t, agent, REGRESSIONS.Filesystem!, rigs!.workers[0]!));
t.test('fuzz', async (t) => fuzz(t, agent, cases, rigs!.workers, { cases: 1000, seed: fuzzSeed(15_303), timeLimitMs: 200_000 }));
