// What a failed drbdadm call means, from its stderr. Texts from drbd-utils:
// drbdsetup print_config_error ("%s: State change failed: (%d) %s",
// "%s: Failure: (%d) %s"), drbd_strings.c, drbdadm ("'%s' not defined in
// your config (for this host).").

export type DrbdadmFailure =
  /** A refused state change: -1 two primaries, -2 no UpToDate data, -12 device held open ... */
  | { kind: 'state-change'; code: number; text: string }
  /** The resource is not in the configuration (for this host). */
  | { kind: 'not-defined'; text: string }
  /** The resource is defined but not up on this node (down, minor not allocated). */
  | { kind: 'not-up'; text: string }
  | { kind: 'other'; text: string };

export const SS_TWO_PRIMARIES = -1;
export const SS_NO_UP_TO_DATE_DISK = -2;
export const SS_DEVICE_IN_USE = -12;

export function classifyDrbdadmFailure(stderr: string): DrbdadmFailure {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = (re: RegExp) => lines.find((l) => re.test(l));
  const change = first(/State change failed: \(-?\d+\)/);
  if (change) {
    const m = /State change failed: \((-?\d+)\)\s*(.*)$/.exec(change)!;
    return { kind: 'state-change', code: Number(m[1]), text: change };
  }
  const notDefined = first(/not defined in your config/);
  if (notDefined) return { kind: 'not-defined', text: notDefined };
  const notUp = first(/Device minor not allocated|Unknown resource|No such resource|No such device|No such connection/);
  if (notUp) return { kind: 'not-up', text: notUp };
  // Skip drbdadm's own trailer, and what its kernel-version probe (modinfo) prints when it cannot tell.
  const noise = /^Command '.*' terminated with exit code|exited with code \d+$|^additional info from kernel:$|^sh: \d+: .*not found$|^modinfo: /;
  return { kind: 'other', text: lines.find((l) => !noise.test(l)) ?? lines[0] ?? '' };
}
