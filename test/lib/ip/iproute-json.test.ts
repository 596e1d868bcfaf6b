import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseIPv4, parseIPv6 } from '../../../lib/ip/address.ts';
import {
  findAddress, findInterfaceForAddress, freeAliasLabel, parseIpAddrJson, parseIpRouteJson, parseProcIfInet6,
} from '../../../lib/ip/iproute-json.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/ip/${name}`, import.meta.url), 'utf8');

t.test('ip -j addr show', async (t) => {
  const interfaces = parseIpAddrJson(fixture('ip-j-addr-show.json'));
  t.same(interfaces.map((i) => i.ifname), ['lo', 'eth1', 'eth3', 'eth2']);
  const eth1 = interfaces.find((i) => i.ifname === 'eth1')!;
  t.match(eth1.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  t.ok(eth1.up);
  const vip = findAddress(interfaces, 'inet', parseIPv4('198.18.0.21')!);
  t.equal(vip.length, 1);
  t.match(vip[0], { ifname: 'eth1', label: 'eth1:web', broadcast: '198.18.0.127', prefixlen: 24, secondary: true });
  t.match(findAddress(interfaces, 'inet', parseIPv4('198.18.0.20')!, 'eth1')[0], { label: 'eth1:0', broadcast: '198.18.0.255' });
  t.same(findAddress(interfaces, 'inet', parseIPv4('198.18.0.20')!, 'eth2'), [], 'on another nic: not there');
  t.equal(findAddress(interfaces, 'inet6', parseIPv6('fd00:0:0:0::1')!).length, 1, 'IPv6 compared by value');
  t.equal(freeAliasLabel(interfaces, 'eth1'), 'eth1:1', 'eth1:0 is taken');
  t.equal(freeAliasLabel(interfaces, 'eth2'), 'eth2:0');
});

t.test('ip -j -4 addr show to X leaves {} placeholders', async (t) => {
  const interfaces = parseIpAddrJson(fixture('ip-j-4-addr-show-to.json'));
  t.equal(interfaces[0]!.addresses.length, 1);
  t.equal(interfaces[0]!.addresses[0]!.local, '198.18.0.21');
  t.same(parseIpAddrJson(''), [], 'nothing matched: empty output');
});

t.test('ip -j -6 addr: tentative and dadfailed', async (t) => {
  const during = parseIpAddrJson(fixture('ip-j-6-addr-show-dad.json'));
  const after = parseIpAddrJson(fixture('ip-j-6-addr-show-dadfailed.json'));
  const at = (list: typeof during, ip: string) => findAddress(list, 'inet6', parseIPv6(ip)!)[0]!;
  t.match(at(during, 'fd00::3'), { tentative: true, dadfailed: false });
  t.match(at(during, 'fd00::30'), { tentative: true, dadfailed: false });
  t.match(at(after, 'fd00::3'), { dadfailed: true });
  t.match(at(after, 'fd00::30'), { tentative: false, dadfailed: false });
});

t.test('/proc/net/if_inet6', async (t) => {
  const during = parseProcIfInet6(fixture('proc-net-if_inet6.txt'));
  const after = parseProcIfInet6(fixture('proc-net-if_inet6-after-dad.txt'));
  t.equal(during.length, 5);
  const at = (list: typeof during, ip: string) => findAddress(list, 'inet6', parseIPv6(ip)!, 'eth1')[0]!;
  t.match(at(during, 'fd00::3'), { tentative: true, dadfailed: false, prefixlen: 64, ifname: 'eth1' });
  t.match(at(after, 'fd00::3'), { tentative: true, dadfailed: true });
  t.match(at(after, 'fd00::30'), { tentative: false, dadfailed: false });
  t.match(at(after, 'fd00::1'), { tentative: false, dadfailed: false }, 'nodad (82)');
  t.match(findAddress(after, 'inet6', parseIPv6('::1')!)[0], { ifname: 'lo', prefixlen: 128 });
});

t.test('findif-like route choice', async (t) => {
  const v4 = parseIpRouteJson(fixture('ip-j-4-route-show.json'));
  const v6 = parseIpRouteJson(fixture('ip-j-6-route-show.json'));
  const find4 = (ip: string, options?: { nic?: string; prefix?: number }) => findInterfaceForAddress(v4, 'inet', parseIPv4(ip)!, options);
  const find6 = (ip: string, options?: { nic?: string; prefix?: number }) => findInterfaceForAddress(v6, 'inet6', parseIPv6(ip)!, options);
  const cases: [string, ReturnType<typeof find4>, ReturnType<typeof find4>][] = [
    ['in the /24 on eth1', find4('198.18.0.100'), { nic: 'eth1', prefix: 24, prefsrc: '198.18.0.1' }],
    ['longest prefix wins: /24 on eth3 inside /16 on eth2', find4('198.19.4.9'), { nic: 'eth3', prefix: 24, prefsrc: '198.19.4.1' }],
    ['the /16 elsewhere', find4('198.19.9.9'), { nic: 'eth2', prefix: 16, prefsrc: '198.19.0.1' }],
    ['nic given: only its routes', find4('198.19.4.9', { nic: 'eth2' }), { nic: 'eth2', prefix: 16, prefsrc: '198.19.0.1' }],
    ['netmask given: the route must contain all of it', find4('198.19.4.9', { prefix: 20 }), { nic: 'eth2', prefix: 16, prefsrc: '198.19.0.1' }],
    ['netmask wider than any route', find4('198.18.0.100', { prefix: 16 }), undefined],
    ['netmask narrower than the route', find4('198.18.0.100', { prefix: 28 }), { nic: 'eth1', prefix: 24, prefsrc: '198.18.0.1' }],
    ['a /24 via a gateway is skipped; the on-link /16 holds it', find4('198.19.8.5'), { nic: 'eth2', prefix: 16, prefsrc: '198.19.0.1' }],
    ['no route', find4('198.18.7.1'), undefined],
    ['nic without a route', find4('198.18.0.100', { nic: 'eth2' }), undefined],
    ['IPv6 /64', find6('fd00::10'), { nic: 'eth1', prefix: 64, prefsrc: undefined }],
    ['IPv6 longest prefix', find6('fd01:0:4::9'), { nic: 'eth3', prefix: 64, prefsrc: undefined }],
    ['IPv6 /48', find6('fd01:0:0:5::9'), { nic: 'eth2', prefix: 48, prefsrc: undefined }],
    ['IPv6 via a gateway: no', find6('fd02::9'), undefined],
    ['IPv6 link-local on the given nic', find6('fe80::2', { nic: 'eth3' }), { nic: 'eth3', prefix: 64, prefsrc: undefined }],
    ['IPv6 netmask wider than the route', find6('fd00::10', { prefix: 48 }), undefined],
  ];
  for (const [name, actual, expected] of cases) t.same(actual, expected, name);
});
