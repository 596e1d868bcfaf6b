import type { AgentDefinition } from '../lib/agent.ts';
import { UnimplementedError } from '../lib/errors.ts';

// Placeholder until the drbddisk agent lands.
const agent: AgentDefinition = {
  name: 'drbddisk',
  version: '0.1.0',
  shortdesc: 'drbddisk (not yet implemented)',
  longdesc: 'drbddisk (not yet implemented)',
  params: [],
  v1Synopsis: '',
  timeouts: { start: 20, stop: 20, monitor: 20 },
  lockKey: () => 'drbddisk',
  start: async () => { throw new UnimplementedError('not implemented yet'); },
  stop: async () => { throw new UnimplementedError('not implemented yet'); },
  status: async () => { throw new UnimplementedError('not implemented yet'); },
};
export default agent;
