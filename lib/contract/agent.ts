// What an agent is: one parameter table plus what start, stop and status
// mean. Everything else (v1 and OCF parsing, validation, --help, meta-data,
// exit codes, locking, logging) is derived from this in lib/.

export type ParamType = 'string' | 'integer' | 'boolean';

export interface ParamSpec {
  /** OCF name: read from OCF_RESKEY_<name>. */
  name: string;
  type: ParamType;
  default?: string;
  /** Must be given (OCF) or present (v1). */
  required?: boolean;
  /** Two resources may not share this value (OCF meta-data `unique`). */
  unique?: boolean;
  shortdesc: string;
  longdesc?: string;
  /** 0-based position in the heartbeat v1 argument list (before the action). */
  v1?: number;
  /** Extra check of a given value; returns the problem in words, or undefined. */
  check?: (value: string) => string | undefined;
  /** Allow characters a shell would interpret (e.g. a regexp parameter). Default: refused. */
  allowShellMetacharacters?: boolean;
}

export type Mode = 'v1' | 'ocf';

export interface Params {
  /** The value after defaults; '' when neither given nor defaulted. */
  get(name: string): string;
  has(name: string): boolean;
  /** Set by the caller (OCF_RESKEY_*, the v1 argument), not by the parameter's default. */
  given(name: string): boolean;
  int(name: string): number;
  bool(name: string): boolean;
  all(): Record<string, string>;
}

export interface AgentContext {
  params: Params;
  mode: Mode;
  action: string;
  /** How long this action may take: OCF_RESKEY_CRM_meta_timeout, else the agent's default. */
  timeoutMs: number;
  /** Date.now() value by which the action must be done. */
  deadline: number;
  /** OCF_CHECK_LEVEL (0 when unset). */
  checkLevel: number;
  /** A monitor with interval 0: Pacemaker asking "is it running here?" before anything ran. */
  isProbe: boolean;
  env: NodeJS.ProcessEnv;
}

export interface StatusResult {
  held: boolean;
  /** A few words for people ("Primary", "on eth1:0"); sanitised before printing. */
  detail?: string;
}

export interface ActionTimeouts {
  start: number;
  stop: number;
  monitor: number;
}

export interface AgentDefinition {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  params: readonly ParamSpec[];
  /** The v1 argument synopsis, e.g. "ip[/netmask[/nic]]". */
  v1Synopsis: string;
  /** Positional v1 arguments → parameter values, when `v1` positions are not enough. */
  parseV1?: (args: readonly string[]) => Record<string, string>;
  /** Default seconds per action, also advertised in meta-data. */
  timeouts: ActionTimeouts;
  /** Names the resource for the per-resource lock, e.g. the IP or the mount point. */
  lockKey: (params: Params) => string;
  /** A mount point this agent unmounts (Filesystem's directory): the lock file never lives below it, where it would keep the mount busy. */
  lockAwayFrom?: (params: Params) => string;
  /** Checks that need the system (nic exists, binary present). Runs before start/stop/status and as validate-all. */
  validate?: (ctx: AgentContext) => Promise<void> | void;
  start: (ctx: AgentContext) => Promise<void>;
  stop: (ctx: AgentContext) => Promise<void>;
  status: (ctx: AgentContext) => Promise<StatusResult>;
  /** Deeper OCF monitor checks for OCF_CHECK_LEVEL >= 10, run only when status says held. */
  deepCheck?: (ctx: AgentContext) => Promise<void>;
}
