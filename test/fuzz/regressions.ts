import type { FuzzCase } from './generators.ts';

// Shrunk counterexamples the fuzzer found, kept as named cases: each agent's
// fuzz test runs its rows first, on its rig, with the same checks as the
// generated cases (harness.ts judge + the node snapshot). Templates as in
// generators.ts: {{dev}} is the rig's loop device, {{xff}} a raw byte.

export interface Regression {
  name: string;
  case: FuzzCase;
}

export const REGRESSIONS: Record<string, readonly Regression[]> = {
  IPaddr: [
    // Fuzzer, seed 15301: a DEL inside the v1 argument reached the usage message raw (JSON.stringify leaves it);
    // lib/contract/dispatch.ts now escapes every control character of a message.
    { name: 'DEL in a misplaced broadcast field is escaped in the message', case: { mode: 'v1', args: ['198.18.0.5/24/198.18.0.5a\x7fb:fz/198.18.0.255'], action: 'start' } },
    { name: 'ESC in the address', case: { mode: 'v1', args: ['198.18.0.5\x1b[2J/24/eth1'], action: 'status' } },
    // Fuzzer, seed 15301 (after the duplicate check began overlapping the interface lookup): a start of a VIP
    // already held returned while its early ARP probe was still running, so arping outlived the agent in the
    // node's namespace. An early probe nobody needs is now ended and waited for (agents/ipaddr.ts).
    { name: 'start of a VIP already held leaves no arping behind', case: { mode: 'v1', args: ['198.18.0.9/24/eth1:fz/198.18.0.255'], action: 'start' } },
  ],
  drbddisk: [
    // Fuzzer (seed 442791380, on Filesystem): a byte that is not UTF-8 became U+FFFD and the agent went on with another name.
    { name: 'resource name with a byte that is not UTF-8', case: { mode: 'ocf', env: { OCF_RESKEY_drbd_resource: 'r0{{xff}}' }, action: 'stop' } },
    // Fuzzer, seed 15302: an empty resource name fell back to the default "all" and tried to promote every resource.
    { name: 'empty resource name (a stray drbddisk:: in haresources) is refused, not "all"', case: { mode: 'v1', args: [''], action: 'start' } },
    { name: 'empty resource name, stop', case: { mode: 'v1', args: [''], action: 'stop' } },
  ],
  Filesystem: [
    // Fuzzer, seed 442791380: a device path with a byte that is not UTF-8 was decoded to U+FFFD and looked up under that name.
    { name: 'device path that is not UTF-8 is refused as a parameter', case: { mode: 'ocf', env: { OCF_RESKEY_device: '{{scratch}}/mnt{{xc3}}', OCF_RESKEY_directory: '{{scratch}}/mnt' }, action: 'start' } },
    { name: 'mount point that is not UTF-8 (would be created under another name)', case: { mode: 'v1', args: ['{{scratch}}/src', '{{scratch}}/mnt{{xff}}', 'none', 'bind'], action: 'start' } },
    // Fuzzer, seed 15303: a directory bind-mounted onto itself was mounted, then not recognised (a trailing "/" in the
    // bind root), so start failed *and* left the mount; the stop that followed did not take it off either.
    { name: 'directory bound onto itself: start, status and stop agree', case: { mode: 'ocf', env: { OCF_RESKEY_device: '{{scratch}}/mnt', OCF_RESKEY_directory: '{{scratch}}/mnt', OCF_RESKEY_options: 'bind' }, action: 'start' } },
    // Fuzzer, seed 15303: a path component longer than NAME_MAX made mkdir throw ENAMETOOLONG, reported as "internal error".
    { name: 'mount point that cannot be created (name too long) is a parameter error', case: { mode: 'v1', args: ['{{scratch}}/src', `{{scratch}}/${'x'.repeat(300)}`, 'none', 'bind'], action: 'start' } },
    // Fuzzer, seed 15303: the loop device mounted over the directory that holds its own image (and the rig's state), then stopped.
    { name: 'mounted over the directory that holds the image', case: { mode: 'v1', args: ['{{dev}}', '{{scratch}}/.', 'ext4'], action: 'start' } },
    // Fuzzer, seed 1444291349: OCF_RESKEY_CRM_meta_timeout beyond 2^31 ms made every timer fire at once (Node/Bun clamp
    // it to 1 ms): blkid and mount "did not finish", plus TimeoutOverflowWarning lines on stderr. Now capped at a day.
    { name: 'a CRM timeout too large for a timer', case: { mode: 'ocf', env: { OCF_RESKEY_device: '{{dev}}', OCF_RESKEY_directory: '{{scratch}}/mnt', OCF_RESKEY_CRM_meta_timeout: '99999999999999999999' }, action: 'start' } },
    // Monitor depth 20 built the status file name from OCF_RESOURCE_INSTANCE as given: "/../../x" wrote x_<host> beside
    // the mount point (found by hand while widening the fuzzer's OCF variables; the start → monitor → stop sequence checks it).
    { name: 'monitor depth 20 writes inside the mount whatever OCF_RESOURCE_INSTANCE says', case: { mode: 'ocf', env: { OCF_RESKEY_device: '{{scratch}}/src', OCF_RESKEY_directory: '{{scratch}}/mnt', OCF_RESKEY_options: 'bind', OCF_RESKEY_fstype: 'none', OCF_CHECK_LEVEL: '20', OCF_RESOURCE_INSTANCE: '/../../x' }, action: 'start' } },
  ],
  mysqld: [
    // Same mechanism as drbddisk's: an empty option file name meant "the default files", and a start there starts the host's MariaDB.
    { name: 'empty option file argument is refused, not the default my.cnf', case: { mode: 'v1', args: [''], action: 'start' } },
    // Fuzzer, seed 15304: a control character in a value reached the message raw (lib/contract/params.ts now refuses C0 controls and DEL).
    { name: 'control character in the option file name is refused, and quoted', case: { mode: 'v1', args: ['{{cnf}}/a\x18b'], action: 'start' } },
    { name: 'ESC in an OCF value', case: { mode: 'ocf', env: { OCF_RESKEY_config: '{{cnf}}', OCF_RESKEY_test_credentials_file: '\x1b[2J' }, action: 'monitor' } },
  ],
};
