import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseArpingRawReplies, parseNeighLladdr } from '../../../lib/ip/probe.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/ip/${name}`, import.meta.url), 'utf8');

t.test('arping -r replies', async (t) => {
  t.same(parseArpingRawReplies(fixture('arping-0-r-reply.txt')), ['22:10:fd:fb:6f:f3'], 'two replies, one MAC');
  t.same(parseArpingRawReplies(fixture('arping-0-r-noreply.txt')), []);
  t.same(parseArpingRawReplies('22:10:FD:FB:6F:F3\n02:00:00:00:00:01\ngarbage\n'), ['22:10:fd:fb:6f:f3', '02:00:00:00:00:01']);
});

t.test('ip -j neigh', async (t) => {
  t.equal(parseNeighLladdr(fixture('ip-j-6-neigh-show.json')), '5e:98:34:03:a8:9e');
  t.equal(parseNeighLladdr(fixture('ip-j-4-neigh-show.json')), '22:10:fd:fb:6f:f3');
  t.equal(parseNeighLladdr('[{"dst":"fd00::3","dev":"eth1","state":["FAILED"]}]'), undefined);
  t.equal(parseNeighLladdr(''), undefined);
});
