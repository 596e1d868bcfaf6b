import type { AgentDefinition } from '../lib/agent.ts';
import { UnimplementedError } from '../lib/errors.ts';

// Placeholder until the mysqld agent lands.
const agent: AgentDefinition = {
  name: 'mysqld',
  version: '0.1.0',
  shortdesc: 'mysqld (not yet implemented)',
  longdesc: 'mysqld (not yet implemented)',
  params: [],
  v1Synopsis: '',
  timeouts: { start: 20, stop: 20, monitor: 20 },
  lockKey: () => 'mysqld',
  start: async () => { throw new UnimplementedError('not implemented yet'); },
  stop: async () => { throw new UnimplementedError('not implemented yet'); },
  status: async () => { throw new UnimplementedError('not implemented yet'); },
};
export default agent;
