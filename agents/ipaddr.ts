import type { AgentDefinition } from '../lib/agent.ts';
import { UnimplementedError } from '../lib/errors.ts';

// Placeholder until the IPaddr agent lands.
const agent: AgentDefinition = {
  name: 'IPaddr',
  version: '0.1.0',
  shortdesc: 'IPaddr (not yet implemented)',
  longdesc: 'IPaddr (not yet implemented)',
  params: [],
  v1Synopsis: '',
  timeouts: { start: 20, stop: 20, monitor: 20 },
  lockKey: () => 'IPaddr',
  start: async () => { throw new UnimplementedError('not implemented yet'); },
  stop: async () => { throw new UnimplementedError('not implemented yet'); },
  status: async () => { throw new UnimplementedError('not implemented yet'); },
};
export default agent;
