import t from 'tap';
import { readFileSync } from 'node:fs';
import { ARP_PROBE_DEFAULT, ARPING_DIALECTS, IPUTILS_REFUSAL, arpingFinished, iputilsFinished, parseArpingReplies, parseIputilsReplies, parseNeighLladdr } from '../../../lib/ip/probe.ts';

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

t.test('iputils arping -D: replies, its end, its refusal of Habets flags', async (t) => {
  t.same(parseIputilsReplies(fixture('iputils-arping-D-reply.txt')), ['9e:fd:2c:4c:6b:34']);
  t.same(parseIputilsReplies(fixture('iputils-arping-D-noreply.txt')), []);
  t.ok(iputilsFinished(fixture('iputils-arping-D-reply.txt')));
  t.ok(iputilsFinished(fixture('iputils-arping-D-noreply.txt')));
  t.notOk(iputilsFinished('ARPING 198.18.9.9 from 0.0.0.0 eth1\n'), 'probes still out');
  t.notOk(iputilsFinished(fixture('arping-0-noreply.txt')), 'Habets statistics are not iputils\' end');
  t.notOk(arpingFinished(fixture('iputils-arping-D-noreply.txt')), 'nor the other way round');
  t.match(fixture('iputils-arping-habets-flags.stderr'), IPUTILS_REFUSAL, 'iputils 20221126 refusing -0');
  // CentOS 7's iputils-20160308 prints getopt's line and an older usage.
  t.match("arping: invalid option -- '0'\nUsage: arping [-fqbDUAV] [-c count] [-w timeout] [-I device] [-s source] destination\n", IPUTILS_REFUSAL);
  t.notMatch(fixture('iputils-arping-D-nodev.stderr'), IPUTILS_REFUSAL, 'a missing device is an error, not a dialect');
  t.same(ARPING_DIALECTS.iputils.argv('eth1', '198.18.9.9', ARP_PROBE_DEFAULT), ['-D', '-I', 'eth1', '-c', '2', '-w', '1', '198.18.9.9']);
  t.same(ARPING_DIALECTS.habets.argv('eth1', '198.18.9.9', ARP_PROBE_DEFAULT), ['-0', '-i', 'eth1', '-c', '3', '-W', '0.010', '-w', '2', '198.18.9.9']);
});
