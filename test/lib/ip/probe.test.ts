import t from 'tap';
import { readFileSync } from 'node:fs';
import { arpingFinished, parseArpingReplies, parseNeighLladdr } from '../../../lib/ip/probe.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/ip/${name}`, import.meta.url), 'utf8');

t.test('arping replies and its end', async (t) => {
  t.same(parseArpingReplies(fixture('arping-0-reply.txt')), ['1e:ff:8d:07:bd:85'], 'two replies, one MAC');
  t.same(parseArpingReplies(fixture('arping-0-noreply.txt')), []);
  t.same(parseArpingReplies('42 bytes from 22:10:FD:FB:6F:F3 (198.18.0.1): index=0\n42 bytes from 02:00:00:00:00:01 (198.18.0.1): index=1\ngarbage\n'), ['22:10:fd:fb:6f:f3', '02:00:00:00:00:01']);
  t.ok(arpingFinished(fixture('arping-0-reply.txt')));
  t.ok(arpingFinished(fixture('arping-0-noreply.txt')));
  t.notOk(arpingFinished('ARPING 198.18.9.9\nTimeout\n'), 'probes still out: not finished');
  t.notOk(arpingFinished(''), 'arping that failed (no such interface) prints nothing on stdout');
});

t.test('ip -j neigh', async (t) => {
  t.equal(parseNeighLladdr(fixture('ip-j-6-neigh-show.json')), '5e:98:34:03:a8:9e');
  t.equal(parseNeighLladdr(fixture('ip-j-4-neigh-show.json')), '22:10:fd:fb:6f:f3');
  t.equal(parseNeighLladdr('[{"dst":"fd00::3","dev":"eth1","state":["FAILED"]}]'), undefined);
  t.equal(parseNeighLladdr(''), undefined);
});
