import type { AgentDefinition } from './agent.ts';

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface OcfAction {
  name: string;
  timeout: string;
  interval?: string;
  depth?: number;
}

/** The actions meta-data advertises (and the man page lists), with default timeouts. */
export function ocfActions(definition: AgentDefinition): OcfAction[] {
  const t = definition.timeouts;
  return [
    { name: 'start', timeout: `${t.start}s` },
    { name: 'stop', timeout: `${t.stop}s` },
    { name: 'status', timeout: `${t.monitor}s` },
    { name: 'monitor', depth: 0, timeout: `${t.monitor}s`, interval: '10s' },
    { name: 'monitor', depth: 10, timeout: `${t.monitor}s`, interval: '30s' },
    { name: 'meta-data', timeout: '5s' },
    { name: 'validate-all', timeout: '20s' },
  ];
}

/** OCF meta-data, valid against ra-api-1.dtd. */
export function metadataXml(definition: AgentDefinition): string {
  const params = definition.params
    .map((p) => {
      const attrs = [`name="${p.name}"`, `unique="${p.unique ? 1 : 0}"`, `required="${p.required ? 1 : 0}"`].join(' ');
      const dflt = p.default !== undefined ? ` default="${escapeXml(p.default)}"` : '';
      return [
        `<parameter ${attrs}>`,
        `<longdesc lang="en">${escapeXml(p.longdesc ?? p.shortdesc)}</longdesc>`,
        `<shortdesc lang="en">${escapeXml(p.shortdesc)}</shortdesc>`,
        `<content type="${p.type}"${dflt} />`,
        `</parameter>`,
      ].join('\n');
    })
    .join('\n');
  const actions = ocfActions(definition)
    .map((a) => `<action name="${a.name}"${a.depth !== undefined ? ` depth="${a.depth}"` : ''} timeout="${a.timeout}"${a.interval ? ` interval="${a.interval}"` : ''} />`)
    .join('\n');
  return `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="${definition.name}" version="${definition.version}">
<version>1.0</version>
<longdesc lang="en">${escapeXml(definition.longdesc)}</longdesc>
<shortdesc lang="en">${escapeXml(definition.shortdesc)}</shortdesc>
<parameters>
${params}
</parameters>
<actions>
${actions}
</actions>
</resource-agent>
`;
}

/** --help text, from the same table. */
export function helpText(definition: AgentDefinition): string {
  const positional = definition.params.filter((p) => p.v1 !== undefined);
  const lines = [
    `${definition.name} - ${definition.shortdesc}`,
    '',
    'Heartbeat v1 (haresources / resource.d):',
    `  ${definition.name} ${definition.v1Synopsis} {start|stop|status}`,
    '',
    'OCF (Pacemaker, ocf-tester): parameters in OCF_RESKEY_<name>',
    `  ${definition.name} {start|stop|monitor|status|meta-data|validate-all}`,
    '',
    'Parameters:',
    ...definition.params.map((p) => {
      const flags = [p.required ? 'required' : '', p.default !== undefined && p.default !== '' ? `default ${p.default}` : '', p.v1 !== undefined && positional.length && !definition.parseV1 ? `v1 argument ${p.v1 + 1}` : '']
        .filter(Boolean)
        .join(', ');
      return `  ${p.name.padEnd(22)} ${p.shortdesc}${flags ? ` (${flags})` : ''}`;
    }),
    '',
    definition.longdesc,
  ];
  return `${lines.join('\n')}\n`;
}
