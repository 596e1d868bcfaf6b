import t from 'tap';
import { execa } from 'execa';
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTS_DIR } from '../rig/agents.ts';
import { createLoopImage, destroyLoopImage, makeScratchDir, mountsUnder, removeScratchDir, type LoopImage } from '../rig/loop-image.ts';

// Issue 8 for Filesystem: Debian's ocf-tester with real parameters (loop
// images), and the shipped ocft case file run against our agent with only
// its Agent/AgentRoot lines changed.

const scratch = makeScratchDir('fs-ocf');
chmodSync(scratch, 0o755);
// ocf-tester runs `su nobody -c "$agent meta-data"`: nobody must reach the agent (the checkout may be under /root).
const agents = join(scratch, 'agents');
cpSync(AGENTS_DIR, agents, { recursive: true, verbatimSymlinks: true });
const images: LoopImage[] = [];
t.teardown(async () => {
  for (const image of images) await destroyLoopImage(image);
  await removeScratchDir(scratch);
});

t.test('ocf-tester passes with real parameters', async (t) => {
  const ext4 = await createLoopImage(scratch, 'ext4', 'tester4');
  const xfs = await createLoopImage(scratch, 'xfs', 'testerx');
  const ext3 = await createLoopImage(scratch, 'ext3', 'tester3');
  images.push(ext4, xfs, ext3);
  const bindSource = join(scratch, 'bind-source');
  mkdirSync(bindSource);
  const configs: [string, Record<string, string>][] = [
    ['ext4, device path, directory with a space', { device: ext4.device, directory: join(scratch, 'mnt ext4'), fstype: 'ext4' }],
    ['xfs by LABEL=', { device: `LABEL=${xfs.label}`, directory: join(scratch, 'mnt-xfs'), fstype: 'xfs' }],
    ['ext3 by -U, run_fsck=force', { device: `-U ${ext3.uuid}`, directory: join(scratch, 'mnt-ext3'), fstype: 'ext3', run_fsck: 'force' }],
    ['bind mount', { device: bindSource, directory: join(scratch, 'mnt-bind'), fstype: 'none', options: 'bind' }],
  ];
  for (const [name, params] of configs) {
    const args = ['-n', `fs_${name.split(' ')[0]!.replace(/\W/g, '')}`];
    for (const [key, value] of Object.entries(params)) args.push('-o', `${key}=${value}`);
    const result = await execa('ocf-tester', [...args, join(agents, 'Filesystem')], { reject: false, all: true, timeout: 300_000 });
    t.equal(result.exitCode, 0, `${name}: ocf-tester exit 0\n${result.all}`);
    t.match(result.all, /passed all tests/, name);
    t.same(mountsUnder(params.directory!), [], `${name}: left nothing mounted`);
  }
});

/** "Filesystem: <case> - OK." lines of a non-verbose `ocft test` run (colour codes removed). */
function parseOcftResults(output: string): Map<string, string> {
  const results = new Map<string, string>();
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  for (const match of plain.matchAll(/^Filesystem: (.*?) - (OK|FAILED)\.(.*)$/gm)) results.set(match[1]!, match[2]! + match[3]!);
  return results;
}

t.test('the shipped ocft Filesystem cases pass against our agent', async (t) => {
  const shipped = readFileSync('/usr/share/resource-agents/ocft/configs/Filesystem', 'utf8');
  // Private everything: the test runs in its own mount namespace, where
  //  - ocft's fixed cases dir (/var/lib/resource-agents/ocft/cases) is a dir of ours,
  //  - /run/resource-agents (the case file's image and mount point: get_rundir) is a dir of ours,
  //  - /tmp is a private tmpfs and HA_RSCTMP=/tmp, because ocft's generated scripts print a failed
  //    case's agent output from the hard-coded /tmp/.ocft_runlog while agent_run writes it to $HA_RSCTMP.
  // Mounts made inside (the case file's own) vanish with the namespace whatever happens.
  const root = join(scratch, 'ocft');
  const run = join(root, 'run');
  mkdirSync(join(root, 'cases'), { recursive: true });
  mkdirSync(join(run, 'configs'), { recursive: true });
  cpSync(agents, join(run, 'agents'), { recursive: true, verbatimSymlinks: true });
  const config = shipped
    .replace(/^\tAgent .*$/m, '\tAgent Filesystem')
    .replace(/^\tAgentRoot .*$/m, '\tAgentRoot /run/resource-agents/agents');
  const changed = config.split('\n').filter((line, i) => line !== shipped.split('\n')[i]);
  t.same(changed, ['\tAgentRoot /run/resource-agents/agents'], 'only the AgentRoot line differs from the shipped case file (Agent is already Filesystem)');
  writeFileSync(join(run, 'configs', 'Filesystem'), config);
  // Host side: the directories ocft and the agents create themselves on first use.
  mkdirSync('/var/lib/resource-agents/ocft/cases', { recursive: true });
  mkdirSync('/run/resource-agents', { recursive: true });
  const script = [
    'set -e',
    `mount --bind "${join(root, 'cases')}" /var/lib/resource-agents/ocft/cases`,
    `mount --bind "${run}" /run/resource-agents`,
    'mount -t tmpfs -o size=16m,mode=1777 tmpfs /tmp',
    'export HA_RSCTMP=/tmp',
    'ocft make -d /run/resource-agents/configs Filesystem',
    'set +e',
    'ocft test Filesystem',
  ].join('\n');
  const result = await execa('unshare', ['-m', '--propagation', 'slave', '--', 'bash', '-c', script], { reject: false, all: true, timeout: 500_000, cwd: '/' });
  // In case a case died half-way: the loop device the case file attached to its image.
  const image = join(run, 'ocft-Filesystem-fs');
  const attached = await execa('losetup', ['-n', '-O', 'NAME', '-j', image], { reject: false });
  for (const device of attached.stdout.split('\n').filter(Boolean)) await execa('losetup', ['-d', device], { reject: false });

  const results = parseOcftResults(result.all ?? '');
  const expected = [...shipped.matchAll(/^CASE "(.*)"$/gm)].map((m) => m[1]!);
  t.equal(expected.length, 14, 'the shipped file has 14 cases');
  for (const name of expected) t.equal(results.get(name), 'OK', `ocft case "${name}"`);
  t.notMatch(result.all, /FAILED|ERROR/, `no case failed:\n${result.all}`);
});
