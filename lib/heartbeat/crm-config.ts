import type { AgentDefinition } from '../contract/agent.ts';
import { AgentError } from '../contract/errors.ts';
import { paramsFromV1Args, resolveParams } from '../contract/params.ts';
import type { Haresources, HaresourcesResource } from './haresources.ts';

// haresources → crm shell configuration (crmsh 4.x syntax), as heartbeat 2's
// haresources2cib.py did: one primitive per resource (ours as ocf:hara:NAME
// with the OCF parameters our own v1 parsing gives, anything else as
// lsb:NAME), one group per haresources line in its order, a location
// preference for the line's node, and resource stickiness. Pure.

export const OCF_PROVIDER = 'hara';

/** Monitor interval of our meta-data's depth-0 monitor (lib/contract/metadata.ts advertises 10s). */
export const MONITOR_INTERVAL = '10s';
const LSB_TIMEOUTS = { start: 20, stop: 20, monitor: 20 };
const LSB_MONITOR_INTERVAL = '15s';

export interface CrmConfigOptions {
  /** rsc_defaults resource-stickiness; above locationScore keeps a group where it runs (heartbeat's auto_failback off). */
  stickiness?: number;
  /** Score of each group's preference for its haresources node. */
  locationScore?: number;
}

export const DEFAULT_STICKINESS = 200;
export const DEFAULT_LOCATION_SCORE = 100;

export interface CrmConfigProblem {
  /** error: the resource is left out (the output is incomplete); warning: converted with a loss. */
  severity: 'error' | 'warning';
  line: number;
  resource: string;
  message: string;
}

export interface CrmPrimitive {
  id: string;
  agent: string;
  params: [string, string][];
  timeouts: { start: number; stop: number; monitor: number };
  monitorInterval: string;
  line: number;
  resource: string;
  note?: string;
}

export interface CrmGroup {
  id: string;
  node: string;
  line: number;
  primitives: CrmPrimitive[];
}

export interface CrmConfig {
  groups: CrmGroup[];
  problems: CrmConfigProblem[];
  stickiness: number;
  locationScore: number;
}

/** A resource id both Pacemaker (an XML ID) and crmsh take: letters, digits, _ and -, not starting with a digit. */
export function crmId(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `r_${cleaned}`;
}

/** A readable id for a resource: what it manages, not only its type. */
function baseId(script: string, params: Record<string, string>): string {
  switch (script) {
    case 'IPaddr':
      return `IPaddr_${params.ip ?? ''}`;
    case 'drbddisk':
      return `drbddisk_${params.drbd_resource ?? 'all'}`;
    case 'Filesystem':
      return `Filesystem_${(params.directory ?? '').split('/').filter(Boolean).join('_') || 'root'}`;
    case 'mysqld':
      return params.config ? `mysqld_${params.config.split('/').filter(Boolean).join('_')}` : 'mysqld';
    default:
      return script;
  }
}

/** crmsh value: bare when it is safe to, else double-quoted (crmsh's own quoting). */
export function crmValue(value: string): string {
  return /^[A-Za-z0-9_.\/:@%+,=-]+$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Builds the configuration. `agents` are our definitions by haresources
 * name; a resource with another name becomes lsb:NAME. Our resources whose
 * arguments do not parse are reported (and left out), never guessed.
 */
export function buildCrmConfig(parsed: Haresources, agents: Readonly<Record<string, AgentDefinition>>, options: CrmConfigOptions = {}): CrmConfig {
  const used = new Set<string>();
  const unique = (base: string) => {
    let id = crmId(base);
    for (let n = 2; used.has(id); n++) id = `${crmId(base)}_${n}`;
    used.add(id);
    return id;
  };
  const problems: CrmConfigProblem[] = [];
  const groups: CrmGroup[] = [];
  parsed.groups.forEach((group, index) => {
    const primitives: CrmPrimitive[] = [];
    for (const resource of group.resources) {
      const primitive = primitiveFor(resource, agents, unique, problems);
      if (primitive) primitives.push(primitive);
    }
    groups.push({ id: unique(`group_${index + 1}`), node: group.node, line: group.line, primitives });
  });
  return { groups, problems, stickiness: options.stickiness ?? DEFAULT_STICKINESS, locationScore: options.locationScore ?? DEFAULT_LOCATION_SCORE };
}

function primitiveFor(resource: HaresourcesResource, agents: Readonly<Record<string, AgentDefinition>>, unique: (base: string) => string, problems: CrmConfigProblem[]): CrmPrimitive | undefined {
  const definition = agents[resource.script];
  if (!definition) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(resource.script)) {
      problems.push({ severity: 'error', line: resource.line, resource: resource.text, message: `${JSON.stringify(resource.script)} cannot be an init script name (lsb:${resource.script})` });
      return undefined;
    }
    const note = resource.args.length ? `${resource.text}: lsb resources take no arguments; ${resource.args.join(' ')} dropped` : undefined;
    if (note) problems.push({ severity: 'warning', line: resource.line, resource: resource.text, message: `${resource.script} is not one of our agents and has arguments (${resource.args.join(' ')}); lsb:${resource.script} takes none` });
    return { id: unique(resource.script), agent: `lsb:${resource.script}`, params: [], timeouts: LSB_TIMEOUTS, monitorInterval: LSB_MONITOR_INTERVAL, line: resource.line, resource: resource.text, note };
  }
  let given: Record<string, string>;
  try {
    given = paramsFromV1Args(definition, resource.args);
    resolveParams(definition, given); // the same checks the agent makes on every call
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    problems.push({ severity: 'error', line: resource.line, resource: resource.text, message: error.message });
    return undefined;
  }
  // In the table's order, so the output reads like the agent's meta-data.
  const params = definition.params.filter((p) => given[p.name] !== undefined && given[p.name] !== '').map((p) => [p.name, given[p.name]!] as [string, string]);
  return {
    id: unique(baseId(definition.name, given)),
    agent: `ocf:${OCF_PROVIDER}:${definition.name}`,
    params,
    timeouts: { ...definition.timeouts },
    monitorInterval: MONITOR_INTERVAL,
    line: resource.line,
    resource: resource.text,
  };
}

/** The crm shell text (`crm configure load update FILE` reads it). */
export function renderCrmConfig(config: CrmConfig, source = 'haresources'): string {
  const out: string[] = [`# crm configure load update <this file>  (from ${source})`];
  for (const group of config.groups) {
    out.push(`# ${source}:${group.line}: node ${group.node}`);
    for (const p of group.primitives) {
      if (p.note) out.push(`# ${p.note}`);
      const lines = [`primitive ${p.id} ${p.agent}`];
      if (p.params.length) lines.push(`\tparams ${p.params.map(([k, v]) => `${k}=${crmValue(v)}`).join(' ')}`);
      lines.push(`\top monitor interval=${p.monitorInterval} timeout=${p.timeouts.monitor}s`);
      lines.push(`\top start timeout=${p.timeouts.start}s interval=0s`);
      lines.push(`\top stop timeout=${p.timeouts.stop}s interval=0s`);
      out.push(lines.join(' \\\n'));
    }
    if (group.primitives.length) {
      out.push(`group ${group.id} ${group.primitives.map((p) => p.id).join(' ')}`);
      out.push(`location ${group.id}-on-${crmId(group.node)} ${group.id} ${config.locationScore}: ${group.node}`);
    }
  }
  out.push(`rsc_defaults rsc-options: resource-stickiness=${config.stickiness}`);
  return `${out.join('\n')}\n`;
}
