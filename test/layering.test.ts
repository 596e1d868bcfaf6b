import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

// The layering (bin → agents → lib/<domain> → lib/system, lib/contract) as
// dependency-cruiser checks it with the rules in .dependency-cruiser.cjs,
// run the way a person runs it (README, Layout). Then the same rules over a
// small scratch tree where each file breaks one rule: every forbidden arrow
// is reported, under its rule's name, and the allowed ones are not.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: { name: string }[];
}

async function cruise(cwd: string, paths: string[]): Promise<{ modules: number; violations: Violation[] }> {
  const r = await execa(DEPCRUISE, ['--config', CONFIG, '--output-type', 'json', ...paths], { cwd, reject: false });
  if (r.exitCode !== 0) throw new Error(`depcruise exited ${r.exitCode}: ${r.stderr}`);
  const result = JSON.parse(r.stdout) as { modules: unknown[]; summary: { violations: Violation[] } };
  return { modules: result.modules.length, violations: result.summary.violations };
}

// A package resolves to its file wherever node_modules is (here a link to the main checkout's): name the package.
const short = (path: string) => path.replace(/^.*node_modules\/([^/]+)\/.*$/, 'node_modules/$1');
const said = (v: Violation) => `${v.rule.name}: ${v.from} → ${short(v.to)}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`;

t.test('agents, bin and lib keep the layering', async (t) => {
  const { modules, violations } = await cruise(ROOT, ['agents', 'bin', 'lib']);
  t.ok(modules > 60, `cruised the tree (${modules} modules)`);
  t.same(violations.map(said), [], 'no import breaks a rule of .dependency-cruiser.cjs');
});

t.test('a forbidden import is reported under its rule; an allowed one is not', async (t) => {
  const tree = mkdtempSync(join(tmpdir(), `layering-${process.pid}-`));
  t.teardown(() => rmSync(tree, { recursive: true, force: true }));
  // The scratch tree resolves commander where the project does.
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  writeFileSync(join(tree, 'package.json'), JSON.stringify({ type: 'module', dependencies: { commander: '*' }, devDependencies: { tap: '*' } }));
  writeFileSync(join(tree, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }));
  const files: Record<string, string[]> = {
    // Allowed arrows: the floor, the domain arrows DOMAIN_ARROWS lists, the agents over lib.
    'lib/contract/errors.ts': [],
    'lib/contract/dispatch.ts': ['../system/log.ts'],
    'lib/system/log.ts': ['../contract/errors.ts'],
    'lib/fs/mountinfo.ts': ['../system/log.ts'],
    'lib/heartbeat/haresources.ts': [],
    'lib/ip/address.ts': [],
    'lib/heartbeat/check/index.ts': ['../../ip/address.ts', '../haresources.ts'],
    'lib/mysql/datadir.ts': ['../fs/mountinfo.ts', '../heartbeat/haresources.ts'],
    'agents/mysqld.ts': ['../lib/mysql/datadir.ts', '../lib/contract/dispatch.ts'],
    'bin/cli.ts': ['../agents/mysqld.ts', '../lib/heartbeat/check/index.ts', 'commander'],
    // Forbidden, one rule each.
    'lib/system/exec.ts': ['../ip/address.ts', '../contract/dispatch.ts'],
    'lib/ip/announce.ts': ['../../agents/drbddisk.ts'],
    'agents/drbddisk.ts': [],
    'lib/drbd/drbdadm.ts': ['../ip/address.ts', '../../test/rig/x.ts'],
    'agents/ipaddr.ts': ['../lib/fs/holders.ts', './mysqld.ts'],
    'lib/fs/holders.ts': ['../heartbeat/check/index.ts'],
    'agents/filesystem.ts': ['commander'],
    'lib/system/stdio.ts': ['tap'],
    'lib/mysql/a.ts': ['./b.ts'],
    'lib/mysql/b.ts': ['./a.ts'],
    'test/rig/x.ts': [],
  };
  for (const [path, imports] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), `${imports.map((i, n) => `import * as m${n} from '${i}';\nexport const u${n} = m${n};\n`).join('')}export const here = 1;\n`);
  }
  const { violations } = await cruise(tree, ['agents', 'bin', 'lib']);
  t.same(violations.map(said).sort(), [
    'agents-apart: agents/ipaddr.ts → agents/mysqld.ts',
    'agents-never-reach-the-cli: agents/filesystem.ts → node_modules/commander',
    'agents-never-reach-the-cli: agents/ipaddr.ts → lib/heartbeat/check/index.ts',
    'base-not-to-domain: lib/system/exec.ts → lib/ip/address.ts',
    'domains-apart-drbd: lib/drbd/drbdadm.ts → lib/ip/address.ts',
    'domains-apart-fs: lib/fs/holders.ts → lib/heartbeat/check/index.ts',
    'lib-not-to-agents-or-bin: lib/ip/announce.ts → agents/drbddisk.ts',
    'no-circular: lib/mysql/a.ts → lib/mysql/b.ts (cycle lib/mysql/b.ts → lib/mysql/a.ts)',
    'shipped-not-to-dev-dependencies: lib/system/stdio.ts → node_modules/tap',
    'shipped-not-to-test: lib/drbd/drbdadm.ts → test/rig/x.ts',
    'system-only-errors-from-contract: lib/system/exec.ts → lib/contract/dispatch.ts',
  ].sort());
});
