// Exit codes by name. OCF numbers come from the OCF resource agent API
// (ocf-returncodes); heartbeat v1 scripts follow LSB init-script codes,
// which are OCF's 0-7 (SUCCESS … NOT_RUNNING) for every action but status
// (so v1 calls use OCF below) and differ for status (LSB_STATUS).

export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_MASTER: 8,
  FAILED_MASTER: 9,
} as const;
export type OcfCodeName = keyof typeof OCF;

/** LSB codes for the status action. */
export const LSB_STATUS = {
  RUNNING: 0,
  DEAD_PIDFILE: 1,
  DEAD_LOCKFILE: 2,
  STOPPED: 3,
  UNKNOWN: 4,
} as const;
