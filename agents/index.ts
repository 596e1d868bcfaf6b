import type { AgentDefinition } from '../lib/contract/agent.ts';

// Loaded on demand: a `drbddisk status` never evaluates the mysqld agent
// (or mysql2). Names are the ones heartbeat's haresources uses.
export const AGENTS: Record<string, () => Promise<AgentDefinition>> = {
  IPaddr: async () => (await import('./ipaddr.ts')).default,
  drbddisk: async () => (await import('./drbddisk.ts')).default,
  Filesystem: async () => (await import('./filesystem.ts')).default,
  mysqld: async () => (await import('./mysqld.ts')).default,
};
