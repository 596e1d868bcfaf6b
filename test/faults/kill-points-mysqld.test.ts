import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockPath } from '../../lib/system/lock.ts';
import { agentPath } from '../rig/agents.ts';
import { killPointMatrix, pidsWithArgs } from '../rig/faults.ts';
import { destroySandboxes, makeSandbox, serverPidsOn, sql } from '../rig/mariadb.ts';

// Issue 15, item 4, for mysqld with a real MariaDB: SIGKILL of the agent at
// >= 10 points of start (before, during and after spawning the server, while
// waiting for it to answer) and of stop (during the clean shutdown), then
// heartbeat's stop and start. The server is never left running after stop
// (nor a second one started), the lock is free after every kill, and after
// start exactly one server answers.

t.teardown(() => destroySandboxes());

t.test('mysqld (real MariaDB)', async (t) => {
  const box = await makeSandbox('fkill');
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HA_RSCTMP: join(box.root, 'rsctmp') };
  mkdirSync(env.HA_RSCTMP);
  await killPointMatrix(t, {
    argv: (action) => [agentPath('mysqld'), box.config, action],
    env,
    lockFile: lockPath(env, 'mysqld', `${box.config}:`),
    held: async () => {
      const servers = serverPidsOn(box.datadir);
      if (servers.length !== 1) return [`${servers.length} servers on the datadir`];
      const answer = await sql(box, 'SELECT 1').catch((error: Error) => error.message);
      return answer === '1' ? [] : [`the server does not answer: ${answer}`];
    },
    released: async () => {
      const left: string[] = [];
      if (serverPidsOn(box.datadir).length) left.push(`server pid ${serverPidsOn(box.datadir).join(', ')} still running`);
      if (pidsWithArgs(`--defaults-file=${box.config}`).length) left.push(`processes started with ${box.config} still running`);
      return left;
    },
  }, join(box.root, 'debug.log'));
});
