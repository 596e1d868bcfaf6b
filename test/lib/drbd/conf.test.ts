import t from 'tap';
import { readFileSync } from 'node:fs';
import { globLastPart, readDrbdResources, tokenize } from '../../../lib/drbd/conf.ts';

// drbd-utils 9.22's shipped global_common.conf (every handler commented out) and resource files as DRBD's guide writes them.
const shipped = readFileSync(new URL('../../fixtures/drbd-global_common.conf', import.meta.url), 'utf8');

function tree(files: Record<string, string>) {
  return {
    read: (p: string) => files[p],
    glob: (p: string) => globLastPart(p, (d) => Object.keys(files).filter((f) => f.startsWith(`${d}/`)).map((f) => f.slice(d.length + 1))),
  };
}

const RES = 'resource r0 {\n  device /dev/drbd1;\n  on a { address 10.0.0.1:7789; }\n}\n';

t.test('tokens: comments dropped, quoted strings unquoted, braces and semicolons apart', async (t) => {
  t.same(tokenize('handlers { split-brain "/usr/lib/drbd/notify-split-brain.sh root"; # x\n}'), ['handlers', '{', 'split-brain', '/usr/lib/drbd/notify-split-brain.sh root', ';', '}']);
});

t.test('the shipped global_common.conf: no fencing, no handler', async (t) => {
  const r = readDrbdResources('/etc/drbd.conf', tree({ '/etc/drbd.conf': 'include "drbd.d/global_common.conf";\ninclude "drbd.d/*.res";\n', '/etc/drbd.d/global_common.conf': shipped, '/etc/drbd.d/r0.res': RES }));
  t.same(r.map((x) => [x.name, x.file, x.fencing, [...x.handlers]]), [['r0', '/etc/drbd.d/r0.res', undefined, []]]);
});

t.test('common handlers and fencing apply; the resource\'s own win (8.4 disk, 9 net)', async (t) => {
  const common = 'common { handlers { fence-peer "/usr/libexec/heartbeat/drbd-peer-outdater -t 5"; split-brain "/usr/lib/drbd/notify-split-brain.sh root"; } disk { fencing resource-only; } }\n';
  const r = readDrbdResources('/etc/drbd.conf', tree({
    '/etc/drbd.conf': `${common}include "/etc/drbd.d/*.res";\n`,
    '/etc/drbd.d/a.res': RES.replace('r0', 'a'),
    '/etc/drbd.d/b.res': RES.replace('r0', 'b').replace('  device', '  net { fencing resource-and-stonith; }\n  handlers { split-brain "/bin/true"; }\n  device'),
    '/etc/drbd.d/c.conf': RES.replace('r0', 'c'),
  }));
  t.same(r.map((x) => [x.name, x.fencing, x.handlers.get('split-brain'), x.handlers.get('fence-peer')]), [
    ['a', 'resource-only', '/usr/lib/drbd/notify-split-brain.sh root', '/usr/libexec/heartbeat/drbd-peer-outdater -t 5'],
    ['b', 'resource-and-stonith', '/bin/true', '/usr/libexec/heartbeat/drbd-peer-outdater -t 5'],
  ], 'c.conf is not included by *.res');
});

t.test('a missing include and an include loop end quietly', async (t) => {
  t.same(readDrbdResources('/etc/drbd.conf', tree({ '/etc/drbd.conf': 'include "/etc/none.conf";\ninclude "/etc/drbd.conf";\n' })), []);
});
