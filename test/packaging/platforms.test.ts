import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENTS_DIR, ROOT } from '../rig/agents.ts';

// The platform minimums the README and the package metadata state, checked
// on the executables themselves:
// - glibc: the newest GLIBC_ symbol version the x64 and arm64 executables need;
// - CPU: the x64 executable under qemu's Nehalem model (x86-64-v2: SSE4.2,
//   POPCNT) runs, under plain x86-64 (qemu64) it dies of SIGILL; the arm64
//   one runs on a Cortex-A53 (ARMv8.0-A);
// - an older distribution: the x64 executable inside a chroot of Debian 11
//   (glibc 2.31) made with debootstrap, the arm64 one under qemu-aarch64
//   with Debian 11's arm64 libraries. (Older releases are on archive.debian.org,
//   which this machine and CI cannot reach; bullseye is the oldest release
//   deb.debian.org serves.) The kernel cannot be tested here: a chroot runs
//   on the host's kernel.
// debootstrap trees are cached in CACHE (made once, ~30 s each).

const RELEASE = 'bullseye';
const GLIBC = '2.31';
const MIRROR = 'http://deb.debian.org/debian';
const CACHE = process.env.HARA_DEBOOTSTRAP_CACHE ?? '/var/cache/ha-resource-agents-tests';
const x64 = join(AGENTS_DIR, 'ha-agent');
const work = mkdtempSync(join(tmpdir(), `platforms-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** The newest GLIBC_x.y an ELF file asks for (readelf reads any architecture). */
async function newestGlibc(file: string): Promise<string> {
  const { stdout } = await execa('readelf', ['-V', '--wide', file]);
  const versions = [...new Set(stdout.match(/GLIBC_\d+(\.\d+)+/g) ?? [])].map((v) => v.slice('GLIBC_'.length));
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return versions.at(-1) ?? 'none';
}

/** A minbase debootstrap of RELEASE for arch, cached; foreign = first stage only (unpacked, nothing run). */
async function debootstrapTree(arch: 'amd64' | 'arm64'): Promise<string> {
  const dir = join(CACHE, `${RELEASE}-${arch}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const building = `${dir}.${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const started = Date.now();
  await execa('debootstrap', ['--variant=minbase', `--arch=${arch}`, ...(arch === 'arm64' ? ['--foreign'] : []), RELEASE, building, MIRROR], { timeout: 600_000 });
  mkdirSync(join(building, 'opt/hara'), { recursive: true });
  writeFileSync(join(building, '.complete'), `debootstrap ${RELEASE} ${arch} in ${Date.now() - started} ms\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  t.comment(`debootstrap ${RELEASE} ${arch}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

const arm64Build = join(work, 'arm64');
const [amd64Tree, arm64Tree] = await Promise.all([
  debootstrapTree('amd64'),
  debootstrapTree('arm64'),
  execa('bash', [join(ROOT, 'packaging/build.sh')], { env: { OUT: arm64Build, TARGET: 'bun-linux-arm64' } }),
]);
const arm64 = join(arm64Build, 'ha-agent');

t.test('glibc: both executables need GLIBC_2.17 at most (RHEL/CentOS 7)', async (t) => {
  t.equal(await newestGlibc(x64), '2.17', 'x64');
  t.equal(await newestGlibc(arm64), '2.17', 'arm64');
  t.match((await execa('file', ['-b', arm64])).stdout, /ARM aarch64/, 'the cross-build is an arm64 executable');
});

t.test('x64 CPU: runs on x86-64-v2 (Nehalem), not on plain x86-64', async (t) => {
  for (const cpu of ['Nehalem', 'Haswell']) {
    const run = await execa('qemu-x86_64', ['-cpu', cpu, x64, '--agent', 'IPaddr', 'meta-data'], { reject: false, timeout: 120_000 });
    t.equal(run.exitCode, 0, `${cpu}: exit 0 (${run.stderr})`);
    t.match(run.stdout, /<resource-agent name="IPaddr"/, `${cpu}: meta-data`);
  }
  const v1 = await execa('qemu-x86_64', ['-cpu', 'qemu64', x64, '--agent', 'IPaddr', 'meta-data'], { reject: false, timeout: 120_000 });
  t.not(v1.exitCode, 0, 'qemu64 (no SSE4.2/POPCNT): does not run');
  t.match(v1.stderr, /Illegal instruction/, 'qemu64: illegal instruction, as the README says');
});

t.test(`x64 in a Debian ${RELEASE} chroot (glibc ${GLIBC})`, async (t) => {
  // A private mount namespace: proc and the build are mounted into the cached tree only there.
  const script = [
    'set -e',
    `mount -t proc proc ${amd64Tree}/proc`,
    `mount --bind ${AGENTS_DIR} ${amd64Tree}/opt/hara`,
    `chroot ${amd64Tree} /lib/x86_64-linux-gnu/libc.so.6 | head -1`,
    `chroot ${amd64Tree} /usr/bin/env -i /opt/hara/Filesystem --help | head -1`,
    `chroot ${amd64Tree} /usr/bin/env -i /opt/hara/IPaddr meta-data | grep -c '<parameter '`,
    `chroot ${amd64Tree} /usr/bin/env -i /opt/hara/Filesystem /dev/hara-none /mnt/hara-none ext4 status || echo "exit $?"`,
  ].join('\n');
  const run = await execa('unshare', ['--mount', '--propagation', 'slave', '--', 'sh', '-c', script], { reject: false, timeout: 120_000 });
  t.equal(run.exitCode, 0, run.stderr);
  const [libc, help, params, status, exit] = run.stdout.split('\n');
  t.match(libc, new RegExp(`GNU C Library \\(Debian GLIBC ${GLIBC.replace('.', '\\.')}`), `the chroot's glibc is ${GLIBC}`);
  t.match(help, /^Filesystem - /, '--help');
  t.ok(Number(params) >= 5, 'meta-data lists the parameters');
  t.match(status, /^stopped\b/, 'a real status call (mountinfo, lock through libc) answers "stopped"');
  t.equal(exit, 'exit 3', 'with LSB exit 3');
});

t.test(`arm64 under qemu-aarch64 (Cortex-A53, ARMv8.0-A) with Debian ${RELEASE}'s arm64 glibc`, async (t) => {
  const run = await execa('qemu-aarch64', ['-cpu', 'cortex-a53', '-L', arm64Tree, arm64, '--agent', 'IPaddr', 'meta-data'], { reject: false, timeout: 120_000 });
  t.equal(run.exitCode, 0, run.stderr);
  t.match(run.stdout, /<resource-agent name="IPaddr"/);
});

t.test('the arm64 .deb: architecture, the arm64 executable, the minimums in its description', async (t) => {
  const out = join(work, 'deb');
  await execa('bash', [join(ROOT, 'packaging/package.sh')], {
    env: { OUT: out, ARCHES: 'arm64', FORMATS: 'deb', LINTIAN: '0', DEB_COMPRESSION: '-Zgzip -z1', HA_AGENT_BINARY: arm64 },
  });
  const deb = join(out, 'ha-resource-agents_0.1.0_arm64.deb');
  const info = (await execa('dpkg-deb', ['-f', deb, 'Architecture', 'Depends', 'Description'])).stdout;
  t.match(info, /^Architecture: arm64$/m);
  t.match(info, /^Depends: libc6 \(>= 2\.17\)/m);
  t.match(info.replace(/\n /g, ' '), /Linux 3\.10 or later with glibc 2\.17 or later, on an ARMv8-A CPU/);
  const unpacked = join(work, 'unpacked');
  await execa('dpkg-deb', ['-x', deb, unpacked]);
  t.match((await execa('file', ['-b', join(unpacked, 'usr/lib/ha-resource-agents/ha-agent')])).stdout, /ARM aarch64/);
});
