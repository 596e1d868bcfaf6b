import { AgentError } from '../../contract/errors.ts';
import { paramsFromV1Args, resolveParams } from '../../contract/params.ts';
import { parseHaresources, type Haresources } from '../haresources.ts';
import type { Findings } from './codes.ts';
import { closestWord, type CheckOptions, type NodeFiles } from './context.ts';
import type { Resolved } from './resources.ts';

// haresources (HA30x, HA352) as heartbeat and ResourceManager read it: the
// lines themselves, nodes that ha.cf declares, a script ResourceManager
// finds, arguments our agents accept, no resource in two groups. What each
// of our resources needs on the node is check/resources.ts.

/**
 * Checks haresources; the groups, and every resource with its agent and (when
 * they parse) its parameters for check/resources.ts. Nothing when it cannot be read (HA301).
 */
export function checkHaresources(files: NodeFiles, file: string, nodes: readonly { name: string }[], haveHaCf: boolean, options: CheckOptions, findings: Findings): { parsed: Haresources; resolved: Resolved[] } {
  const text = files.read(file);
  if (typeof text !== 'string') {
    findings.add('HA301', file, 0, `cannot read ${file} (${text.error}); without it heartbeat manages no resources`, 'create it: one line per group, "NODE resource resource ..." (the node that normally holds it)');
    return { parsed: { groups: [], problems: [] }, resolved: [] };
  }
  const parsed = parseHaresources(text);
  for (const p of parsed.problems) {
    if (p.code === 'comment-in-continuation') findings.add('HA306', file, p.line, p.message, 'move the comment to a line of its own (or to the end of the first line of the group)');
    else if (p.code === 'continuation-at-end') findings.add('HA307', file, p.line, p.message, 'remove the backslash or add the continued line');
    else findings.add('HA308', file, p.line, p.message, 'add the resources or remove the line');
  }
  const known = new Set(nodes.map((n) => n.name));
  for (const group of parsed.groups) {
    if (haveHaCf && !known.has(group.node)) {
      const guess = closestWord(group.node, known);
      findings.add('HA302', file, group.line, `node ${group.nodeAsWritten} is not a node in ha.cf (${[...known].join(', ') || 'none'}); heartbeat refuses to start ("Bad nodename in haresources")`, guess ? `did you mean ${guess}?` : 'use a node name from ha.cf (uname -n of the preferred node)');
    }
  }

  const resourceDir = options.env.HA_RESOURCEDIR || `${options.haDir.replace(/\/+$/, '')}/resource.d`;
  const resolved: Resolved[] = [];
  for (const group of parsed.groups) {
    // Words after a "#" on a continued line are reported above (HA306), not as resources of their own.
    const comment = group.resources.findIndex((r) => r.text.startsWith('#'));
    for (const [index, resource] of group.resources.entries()) {
      if ((comment >= 0 && index >= comment) || resource.text === '\\') continue;
      const found = [`${resourceDir}/${resource.script}`, `/etc/init.d/${resource.script}`].find((p) => files.executable(p));
      const definition = options.agents[resource.script];
      const entry: Resolved = { group, resource, index, definition };
      resolved.push(entry);
      if (!found) {
        findings.add('HA303', file, resource.line, `${resource.text}: ResourceManager finds no executable ${resource.script} in ${resourceDir} or /etc/init.d`, definition ? `install the agents (${resourceDir}/${resource.script} → ha-agent)` : `install the init script /etc/init.d/${resource.script} or correct the name`);
      }
      if (!definition) continue;
      try {
        entry.params = resolveParams(definition, paramsFromV1Args(definition, resource.args));
      } catch (error) {
        if (!(error instanceof AgentError)) throw error;
        findings.add('HA304', file, resource.line, `${resource.text}: ${error.message}`, `usage: ${definition.name}::${definition.v1Synopsis.replace(/ /g, '::')}`);
      }
    }
  }
  // One resource in two groups, however it is spelled (198.18.4.1 and IPaddr::198.18.4.1/16/eth1): ours are
  // the same resource when the agent's own lock key says so (the VIP, the mount point, the DRBD resource).
  const seen = new Map<string, Resolved>();
  for (const entry of resolved) {
    const { definition, params, resource } = entry;
    const identity = definition && params ? `${definition.name} ${definition.lockKey(params)}` : `${resource.script} ${resource.args.join(' ')}`;
    const first = seen.get(identity);
    if (!first) seen.set(identity, entry);
    else if (first.group !== entry.group) {
      findings.add('HA352', file, resource.line, `${resource.text} is the same resource as ${first.resource.text} in the group on line ${first.group.line}: two groups would start and stop it${first.resource.text === resource.text ? ' (and takegroup of one finds both lines)' : ''}`, 'keep each resource in one group only');
    }
  }
  return { parsed, resolved };
}
