import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { ROOT } from './agents.ts';
import { Sandbox } from './sandbox.ts';

// An older kernel's x86-64 system-call table for a command and everything it
// starts (test/rig/old-kernel.c: a seccomp filter answering ENOSYS from
// number N on). Only the table: flags, /proc, /sys and netlink stay the host's.

/** First syscall number each release lacks (arch/x86/entry/syscalls/syscall_64.tbl at its tag). */
export const KERNEL_TABLES = {
  '3.10': 314, // sched_setattr (3.14) onwards; 313 finit_module is 3.8
  '4.9': 332, // statx (4.11) onwards; 331 pkey_free is 4.9
  '4.15': 333, // io_pgetevents (4.18) onwards
  '4.19': 424, // pidfd_send_signal (5.1) onwards; 334 rseq is 4.18, 335..423 unused
} as const;
export type KernelRelease = keyof typeof KERNEL_TABLES;

const SOURCE = resolve(ROOT, 'test/rig/old-kernel.c');

let built: Promise<string> | undefined;

/**
 * The old-kernel program, compiled with gcc on first use into a cache
 * directory named by the source's hash (tap runs test files in parallel:
 * each compiles to its own name and renames it into place).
 */
export function oldKernelBinary(): Promise<string> {
  built ??= (async () => {
    const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), `hara-old-kernel-${hash}`);
    const binary = join(dir, 'old-kernel');
    if (existsSync(binary)) return binary;
    mkdirSync(dir, { recursive: true });
    const partial = `${binary}.${process.pid}`;
    await execa('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', partial, SOURCE]);
    renameSync(partial, binary);
    return binary;
  })();
  return built;
}

/** argv that runs `argv` with `release`'s syscall table. */
export async function underKernel(release: KernelRelease, argv: readonly string[]): Promise<string[]> {
  return [await oldKernelBinary(), String(KERNEL_TABLES[release]), '--', ...argv];
}

/**
 * A heartbeat node (test/rig/sandbox.ts) named master1 in `netns`, with
 * `haresources` and a two-node ha.cf, and old-kernel bound at
 * /opt/old-kernel: `prefix` runs a command inside it under 3.10's table.
 */
export async function oldKernelNode(name: string, netns: string, haresources: string): Promise<{ node: Sandbox; prefix: string[] }> {
  const node = await Sandbox.start({
    name,
    hostname: 'master1',
    netns,
    binds: [{ host: await oldKernelBinary(), inner: '/opt/old-kernel', ro: true }],
    etc: {
      'ha.d/haresources': haresources,
      'ha.d/ha.cf': 'logfile /var/log/ha-log\nkeepalive 500ms\ndeadtime 3\nwarntime 2\ninitdead 6\nbcast eth1\nauto_failback on\nnode master1\nnode master2\ncrm no\n',
      'ha.d/authkeys': { content: 'auth 1\n1 sha1 47e9336850f1db6fa58bc470bc9b7810eb397f04\n', mode: 0o600 },
    },
  });
  return { node, prefix: ['/opt/old-kernel', String(KERNEL_TABLES['3.10']), '--'] };
}
