import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENTS_DIR } from '../rig/agents.ts';
import { DrbdDouble } from '../rig/drbd-double.ts';
import { KERNEL_TABLES, type KernelRelease, oldKernelBinary, underKernel } from '../rig/old-kernel.ts';

// The simulated kernels themselves (test/rig/old-kernel.c): under a table,
// a system call answers ENOSYS exactly when its number is at or above the
// cut-off, the host answers every probe without the filter, the filter
// holds in grandchildren started through fork and exec, and it reaches the
// agent executable (whose runtime falls back by itself).

const ENOSYS = 38;
const X32_GETPID = 0x40000000 | 39;

// Each probe calls one syscall with arguments that make the host answer
// something harmless (0 or an error other than ENOSYS), so only the filter
// can make it ENOSYS. Printed as {"nr": errno or 0}.
const PROBE = `
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(4096)
probes = {
  309: (None, None, None),            # getcpu (2.6.19)
  314: (0, None, 0),                  # sched_setattr (3.14): EINVAL
  318: (buf, 1, 0),                   # getrandom (3.17)
  331: (-1,),                         # pkey_free (4.9): EINVAL
  332: (-100, b"/", 0, 0x7ff, buf),   # statx (4.11)
  333: (0, 0, 0, None, None, None),   # io_pgetevents (4.18): EINVAL
  334: (None, 0, 0, 0),               # rseq (4.18): EINVAL
  424: (-1, 0, None, 0),              # pidfd_send_signal (5.1): EBADF
  425: (0, None),                     # io_uring_setup (5.1): EFAULT, or EPERM where disabled
  435: (None, 0),                     # clone3 (5.3): EINVAL
  436: (5, 4, 0),                     # close_range (5.9): EINVAL
  ${X32_GETPID}: (),                  # getpid through the x32 ABI
}
out = {}
for nr, args in probes.items():
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *args)
    out[nr] = 0 if r >= 0 else ctypes.get_errno()
print(json.dumps(out))
`;

async function probe(prefix: readonly string[] = []): Promise<Record<string, number>> {
  const argv = [...prefix, 'python3', '-c', PROBE];
  const r = await execa(argv[0]!, argv.slice(1), { reject: false });
  if (r.exitCode !== 0) throw new Error(`probe failed (${r.exitCode}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

t.test('without the filter the host answers every probe (x32 aside)', async (t) => {
  const answers = await probe();
  for (const [nr, errno] of Object.entries(answers)) {
    if (Number(nr) === X32_GETPID) continue; // Debian's kernel disables x32 by default
    t.not(errno, ENOSYS, `syscall ${nr} exists on the host (errno ${errno})`);
  }
});

for (const release of Object.keys(KERNEL_TABLES) as KernelRelease[]) {
  const cut = KERNEL_TABLES[release];
  t.test(`${release}'s table: ENOSYS from ${cut} on, nothing below`, async (t) => {
    const answers = await probe(await underKernel(release, []));
    for (const [nr, errno] of Object.entries(answers)) {
      const missing = Number(nr) >= cut;
      if (missing) t.equal(errno, ENOSYS, `syscall ${nr} answers ENOSYS`);
      else t.not(errno, ENOSYS, `syscall ${nr} still answers (errno ${errno})`);
    }
    t.equal(answers[X32_GETPID], ENOSYS, 'an x32 call answers ENOSYS');
  });
}

t.test('inherited across fork and exec, with no_new_privs', async (t) => {
  // sh forks, and python3 is exec'd twice removed from old-kernel.
  const argv = await underKernel('3.10', ['sh', '-c', `grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; python3 -c "$1"; true`, 'sh', PROBE]);
  const r = await execa(argv[0]!, argv.slice(1));
  const [noNewPrivs, seccomp, json] = r.stdout.split('\n');
  t.match(noNewPrivs, /^NoNewPrivs:\s+1$/);
  t.match(seccomp, /^Seccomp:\s+2$/, 'filter mode');
  const answers = JSON.parse(json!) as Record<string, number>;
  t.equal(answers['318'], ENOSYS, 'getrandom answers ENOSYS in the grandchild');
  t.not(answers['309'], ENOSYS, 'getcpu still answers');
});

t.test('bad use: one line, exit 2 (usage) or 127 (no such command), nothing run', async (t) => {
  const bin = await oldKernelBinary();
  for (const args of [['abc', '--', 'true'], ['0', '--', 'true'], ['314', 'true'], ['314', '--'], ['314x', '--', 'true']]) {
    const r = await execa(bin, args, { reject: false });
    t.equal(r.exitCode, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, /^usage: old-kernel N -- command/);
  }
  const missing = await execa(bin, ['314', '--', '/nonexistent/cmd'], { reject: false });
  t.equal(missing.exitCode, 127);
  t.equal(missing.stderr, 'old-kernel: /nonexistent/cmd: No such file or directory');
});

t.test("the agent executable meets ENOSYS under 3.10's table and answers anyway (strace -f)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `kernel-strace-${process.pid}-`));
  const drbd = DrbdDouble.create('8.4', `kernel-strace-drbd-${process.pid}-`).defineResource('data');
  t.teardown(() => {
    drbd.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  drbd.setRole('data', 'master1', 'Primary');
  const trace = join(dir, 'trace');
  // status runs drbdadm: the runtime's process spawning is on the path too.
  const argv = await underKernel('3.10', [join(AGENTS_DIR, 'drbddisk'), 'data', 'status']);
  const r = await execa('strace', ['-f', '-qq', '-o', trace, ...argv], { env: { ...drbd.env('master1'), HA_RSCTMP: dir }, reject: false });
  t.equal(r.exitCode, 0, r.stderr);
  t.equal(r.stdout, 'running (Primary)');
  // The agent's own PID is the one that exec'd it (old-kernel execs in place).
  const lines = readFileSync(trace, 'utf8').split('\n');
  const agentPid = lines.find((l) => l.includes(`execve("${join(AGENTS_DIR, 'drbddisk')}"`))?.split(/\s+/)[0];
  t.ok(agentPid, 'the agent was traced');
  const missing = new Set(lines.filter((l) => l.startsWith(`${agentPid} `) && l.includes('ENOSYS')).map((l) => /^\d+\s+(?:<\.\.\. )?(\w+)/.exec(l)?.[1]));
  t.ok(missing.size > 0, `syscalls the agent process tried and the table refused: ${[...missing].join(', ')}`);
});
