import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseIpAddrOutput, parseIpAddrText, parseIpRouteOutput, parseIpRouteText, parseNeighText } from '../../../lib/ip/iproute-text.ts';
import { NO_JSON_ANSWER } from '../../../lib/ip/iproute.ts';
import { parseNeighLladdr } from '../../../lib/ip/probe.ts';

// Every fixture directory test/fixtures/ip/iproute2-VERSION was captured from
// one namespace set-up with that version's ip (see the README there): the
// text of each must read as 6.1's JSON of the same state reads.
const VERSIONS = ['3.10.0', '4.9.0', '4.11.0', '4.15.0', '4.20.0', '5.5.0', '6.1.0'];
const fixture = (version: string, name: string) => readFileSync(new URL(`../../fixtures/ip/iproute2-${version}/${name}`, import.meta.url), 'utf8');

const reference = parseIpAddrOutput(fixture('6.1.0', 'ip-j-addr-show.json'));
const referenceRoutes = parseIpRouteOutput(fixture('6.1.0', 'ip-j-4-route-show.txt'));
// What the agent and check read of an address; DAD state is compared separately (it moved on while capturing).
const shape = (interfaces: ReturnType<typeof parseIpAddrText>) =>
  interfaces.map((i) => ({ ifname: i.ifname, up: i.up, mac: i.mac, addresses: i.addresses.map(({ tentative: _t, dadfailed: _d, ...a }) => a) }));
const routeShape = (routes: ReturnType<typeof parseIpRouteText>) => routes.map((r) => ({ dst: r.dst, dev: r.dev, gateway: r.gateway, scope: r.scope, prefsrc: r.prefsrc, type: r.type, table: r.table }));

t.test('reference: 6.1 JSON as captured', async (t) => {
  t.same(reference.map((i) => i.ifname), ['lo', 'eth1', 'eth3', 'eth2']);
  t.same(reference.find((i) => i.ifname === 'eth1')!.addresses.filter((a) => a.family === 'inet').map((a) => a.label), ['eth1', 'eth1:0', 'eth1:web']);
});

for (const version of VERSIONS) {
  t.test(`iproute2 ${version}: text reads as JSON does`, async (t) => {
    t.match(fixture(version, 'ip-V.txt'), /ip utility, iproute2-/);
    const plain = parseIpAddrText(fixture(version, 'ip-addr-show.txt'));
    t.same(shape(plain), shape(reference), 'ip addr show (plain): interfaces, flags, MACs, addresses, labels, broadcasts');
    const eth1 = plain.find((i) => i.ifname === 'eth1')!;
    t.ok(eth1.addresses.find((a) => a.local === 'fd00::3')!.dadfailed, 'fd00::3 (held by the peer) is dadfailed');
    t.notOk(eth1.addresses.find((a) => a.local === 'fd00::1')!.tentative, 'nodad base address not tentative');
    t.same(eth1.addresses.filter((a) => a.secondary).map((a) => a.local), ['198.18.0.20', '198.18.0.21']);

    // -o addr lists only interfaces with addresses and no MACs: the addresses themselves agree.
    const oneLine = parseIpAddrText(fixture(version, 'ip-o-addr-show.txt'));
    t.same(oneLine.flatMap((i) => i.addresses).map((a) => [a.ifname, a.local, a.prefixlen, a.label, a.broadcast, a.secondary]), plain.flatMap((i) => i.addresses).map((a) => [a.ifname, a.local, a.prefixlen, a.label, a.broadcast, a.secondary]), 'ip -o addr show');

    for (const name of ['ip-4-addr-show-to.txt', 'ip-o-4-addr-show-to.txt']) {
      const to = parseIpAddrText(fixture(version, name)).flatMap((i) => i.addresses);
      t.same(to.map((a) => [a.ifname, a.local, a.prefixlen, a.label, a.broadcast]), [['eth1', '198.18.0.21', 24, 'eth1:web', '198.18.0.127']], name);
    }
    const dev6 = parseIpAddrText(fixture(version, 'ip-o-6-addr-show-dev.txt')).flatMap((i) => i.addresses);
    t.same(dev6.map((a) => a.local), ['fd00::3', 'fd00::30', 'fd00::1', dev6[3]!.local], 'ip -o -6 addr show dev eth1');
    t.match(dev6[3]!.local, /^fe80::/);

    t.same(routeShape(parseIpRouteText(fixture(version, 'ip-o-4-route-show.txt'))), routeShape(referenceRoutes), 'ip -o -4 route show');
    const v6 = parseIpRouteText(fixture(version, 'ip-o-6-route-show.txt'));
    t.same(v6.map((r) => [r.dst, r.dev, r.gateway]), [
      ['fd00::/64', 'eth1', undefined], ['fd01::/48', 'eth2', undefined], ['fd01:0:4::/64', 'eth2', undefined], ['fd02::/64', 'eth1', 'fd00::3'],
      ['fe80::/64', 'eth1', undefined], ['fe80::/64', 'eth3', undefined], ['fe80::/64', 'eth2', undefined],
    ], 'ip -o -6 route show');

    t.equal(parseNeighText(fixture(version, 'ip-o-4-neigh.txt')), '4e:19:53:d8:db:6e', 'ip -o -4 neigh show X dev Y');
    t.equal(parseNeighLladdr(fixture(version, 'ip-o-6-neigh.txt')), undefined, 'FAILED / INCOMPLETE entries are no answer');

    // What -j gives: refused (before 4.14), JSON, or text for route/neigh (4.14-4.16): read the same either way.
    if (version.startsWith('3.') || version === '4.9.0' || version === '4.11.0') {
      t.match(fixture(version, 'ip-j-addr-show.stderr'), NO_JSON_ANSWER, '-j refused');
    } else {
      t.same(shape(parseIpAddrOutput(fixture(version, 'ip-j-addr-show.json'))), shape(reference), 'ip -j addr show');
      t.same(routeShape(parseIpRouteOutput(fixture(version, 'ip-j-4-route-show.txt'))), routeShape(referenceRoutes), 'ip -j -4 route show (text before 4.17)');
      t.equal(parseNeighLladdr(fixture(version, 'ip-j-4-neigh.txt')), '4e:19:53:d8:db:6e', 'ip -j -4 neigh (text before 4.17)');
    }
  });
}

t.test('text forms the fixtures do not show', async (t) => {
  const routes = parseIpRouteText([
    'unreachable 198.18.5.0/24 ',
    '198.18.6.0/24 proto static ',
    '\tnexthop via 198.18.0.3 dev eth1 weight 1 ',
    '\tnexthop via 198.18.0.4 dev eth1 weight 1 ',
    '198.18.7.0/24 dev eth1 table 100 scope link ',
    'fd03::/64 via inet6 fd00::3 dev eth1 metric 1024 pref medium',
    '',
  ].join('\n'));
  t.same(routes.map((r) => [r.type, r.dst, r.gateway, r.table]), [
    ['unreachable', '198.18.5.0/24', undefined, undefined],
    [undefined, '198.18.6.0/24', '198.18.0.3', undefined],
    [undefined, '198.18.7.0/24', undefined, '100'],
    [undefined, 'fd03::/64', 'fd00::3', undefined],
  ]);
  const ptp = parseIpAddrText('5: tun0: <POINTOPOINT,UP> mtu 1400 qdisc noop state UNKNOWN\n    inet 198.18.9.1 peer 198.18.9.2/32 scope global tun0\n');
  t.same(ptp[0]!.addresses.map((a) => [a.local, a.prefixlen, a.label]), [['198.18.9.1', 32, 'tun0']]);
  t.same(parseIpAddrText(''), []);
  t.same(parseIpRouteText(''), []);
  t.equal(parseNeighText('fd00::3 dev eth1 lladdr 5E:98:34:03:A8:9E router STALE'), '5e:98:34:03:a8:9e');
});
