import t from 'tap';
import { readFileSync } from 'node:fs';
import { interfacesFromProc, parseFibTrieLocal, parseProcNetRoute } from '../../../lib/ip/proc-addresses.ts';
import { findAddress, parseIpAddrJson } from '../../../lib/ip/iproute-json.ts';
import { parseAddress } from '../../../lib/ip/address.ts';
import { interfaceFor } from '../../../lib/heartbeat/watch/sample.ts';

// Fixtures captured in one namespace: eth1 198.18.21.1/24, .10/24 label
// eth1:0, .11/32; eth2 198.18.22.1/25 and .200/24; lo.
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/ip/${name}`, import.meta.url), 'utf8');

t.test('fib_trie: the local addresses, once each (Main and Local tables)', async (t) => {
  t.same(parseFibTrieLocal(fixture('proc-net-fib_trie.txt')).sort(), ['127.0.0.1', '198.18.21.1', '198.18.21.10', '198.18.21.11', '198.18.22.1', '198.18.22.200']);
  t.same(parseFibTrieLocal(''), []);
});

t.test('/proc/net/route: connected routes with their prefix', async (t) => {
  t.same(parseProcNetRoute(fixture('proc-net-route.txt')).map((r) => `${r.ifname} ${r.network.toString(16)}/${r.prefixlen}`), ['eth1 c6121500/24', 'eth2 c6121600/25', 'eth2 c6121600/24']);
  t.same(parseProcNetRoute('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\nlo\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n'), [], 'a gateway route is not connected');
});

t.test('the watcher\'s questions answered as iproute2 answers them', async (t) => {
  const macs = new Map([['eth1', '02:00:00:00:00:01'], ['eth2', '02:00:00:00:00:02']]);
  const proc = interfacesFromProc(fixture('proc-net-fib_trie.txt'), fixture('proc-net-route.txt'), fixture('proc-net-if_inet6.txt'), macs);
  const ip = parseIpAddrJson(readFileSync(new URL('../../fixtures/ip/ip-j-addr-show-proc-twin.json', import.meta.url), 'utf8'));
  for (const vip of ['198.18.21.10', '198.18.21.11', '198.18.21.1', '198.18.22.200', '198.18.22.1', '198.18.21.99']) {
    const p = parseAddress(vip)!;
    t.same(findAddress(proc, p.family, p.value).map((a) => a.ifname), findAddress(ip, p.family, p.value).map((a) => a.ifname), `${vip}: held here, on the same interface`);
  }
  for (const peer of ['198.18.21.2', '198.18.22.5', '198.18.22.130', '198.18.99.1']) t.equal(interfaceFor(proc, peer), interfaceFor(ip, peer), `the interface that reaches ${peer}`);
  t.same(proc.find((i) => i.ifname === 'eth1')?.mac, '02:00:00:00:00:01');
  t.ok(proc.some((i) => i.addresses.some((a) => a.family === 'inet6')), 'IPv6 from if_inet6');
  t.same(proc.find((i) => i.addresses.some((a) => a.local === '127.0.0.1'))?.ifname, '', 'an address no connected route holds: no interface named');
});
