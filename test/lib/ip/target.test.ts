import t from 'tap';
import { readFileSync } from 'node:fs';
import { GenericError, InvalidParameterError } from '../../../lib/contract/errors.ts';
import { makeParams } from '../../../lib/contract/params.ts';
import { freeAliasLabel, parseIpAddrJson, parseIpRouteJson } from '../../../lib/ip/iproute-json.ts';
import { parseVipSpec, resolveVip } from '../../../lib/ip/target.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/ip/${name}`, import.meta.url), 'utf8');
const params = (values: Record<string, string>) => makeParams(new Map(Object.entries(values)));
const interfaces = parseIpAddrJson(fixture('ip-j-addr-show.json'));
const routes4 = parseIpRouteJson(fixture('ip-j-4-route-show.json'));
const routes6 = parseIpRouteJson(fixture('ip-j-6-route-show.json'));
const resolve = (values: Record<string, string>) => {
  const spec = parseVipSpec(params(values));
  return resolveVip(spec, interfaces, spec.address.family === 'inet' ? routes4 : routes6, (nic) => freeAliasLabel(interfaces, nic));
};

t.test('what ip addr add gets', async (t) => {
  const cases: [Record<string, string>, object][] = [
    [{ ip: '198.18.0.100' }, { nic: 'eth1', prefix: 24, label: 'eth1:1', broadcast: '+' }],
    [{ ip: '198.18.0.100', cidr_netmask: '24', nic: 'eth1' }, { nic: 'eth1', prefix: 24, label: 'eth1:1', broadcast: '+' }],
    [{ ip: '198.18.0.100', cidr_netmask: '255.255.255.0', nic: 'eth1', iflabel: 'web2', broadcast: '198.18.0.127' }, { prefix: 24, label: 'eth1:web2', broadcast: '198.18.0.127' }],
    [{ ip: '198.18.0.100', nic: 'eth1:db' }, { nic: 'eth1', label: 'eth1:db' }],
    [{ ip: '198.18.0.100', cidr_netmask: '28' }, { nic: 'eth1', prefix: 28, broadcast: '+' }],
    [{ ip: '198.19.4.9' }, { nic: 'eth3', prefix: 24, label: 'eth3:0' }],
    [{ ip: '198.19.4.9', cidr_netmask: '32', nic: 'eth2' }, { nic: 'eth2', prefix: 32, broadcast: undefined }],
    [{ ip: '198.18.9.9', cidr_netmask: '16', nic: 'eth2' }, { nic: 'eth2', prefix: 16, broadcast: '+' }],
    [{ ip: 'fd00::10' }, { family: 'inet6', nic: 'eth1', prefix: 64, label: undefined, broadcast: undefined }],
    [{ ip: 'fd00:0:0:0:0:0:0:10', cidr_netmask: '80' }, { ip: 'fd00::10', nic: 'eth1', prefix: 80 }],
    [{ ip: 'fe80::2', nic: 'eth3' }, { nic: 'eth3', prefix: 64 }],
  ];
  for (const [input, expected] of cases) t.match(resolve(input), expected, JSON.stringify(input));
});

t.test('the base address lends its broadcast when its route gave the prefix', async (t) => {
  // 198.18.0.1/24 carries no brd in the fixture; give eth1's base one and look again.
  const withBrd = parseIpAddrJson(fixture('ip-j-addr-show.json'));
  withBrd.find((i) => i.ifname === 'eth1')!.addresses.find((a) => a.local === '198.18.0.1')!.broadcast = '198.18.0.255';
  const spec = parseVipSpec(params({ ip: '198.18.0.100' }));
  t.equal(resolveVip(spec, withBrd, routes4, () => 'eth1:9').broadcast, '198.18.0.255');
});

t.test('bad input: one typed error naming the problem', async (t) => {
  const cases: [Record<string, string>, Function, RegExp][] = [
    [{ ip: '198.18.0.300' }, InvalidParameterError, /not a valid IPv4 or IPv6 address/],
    [{ ip: 'fd00::1::2' }, InvalidParameterError, /not a valid/],
    [{ ip: '198.18.0.1', cidr_netmask: '33' }, InvalidParameterError, /between 1 and 32/],
    [{ ip: 'fd00::1', cidr_netmask: '129' }, InvalidParameterError, /between 1 and 128/],
    [{ ip: '198.18.0.1', cidr_netmask: '255.0.255.0' }, InvalidParameterError, /contiguous/],
    [{ ip: '198.18.0.1', nic: 'eth1', iflabel: 'averylonglabel' }, InvalidParameterError, /"eth1:averylonglabel" is longer than 15/],
    [{ ip: '198.18.0.1', nic: 'averyveryverylongnic' }, InvalidParameterError, /not a valid interface name/],
    [{ ip: '198.18.0.1', nic: 'eth 1' }, InvalidParameterError, /not a valid interface name/],
    [{ ip: '198.18.0.1', iflabel: 'a/b' }, InvalidParameterError, /label/],
    [{ ip: '198.18.0.1', broadcast: '198.18.0' }, InvalidParameterError, /broadcast/],
    [{ ip: 'fd00::1', broadcast: '198.18.0.255' }, InvalidParameterError, /IPv6 has no broadcast/],
    [{ ip: 'fd00::1', iflabel: 'x' }, InvalidParameterError, /IPv6 addresses carry no labels/],
    [{ ip: 'fe80::2' }, InvalidParameterError, /nic is required for the link-local/],
  ];
  for (const [input, type, message] of cases) t.throws(() => parseVipSpec(params(input)), { constructor: type, message }, JSON.stringify(input));
  const system: [Record<string, string>, Function, RegExp][] = [
    [{ ip: '198.18.0.100', nic: 'eth9' }, InvalidParameterError, /no interface named eth9/],
    [{ ip: '198.18.7.1' }, GenericError, /no interface has a route to 198\.18\.7\.1/],
    [{ ip: '198.18.0.100', cidr_netmask: '16' }, GenericError, /route to 198\.18\.0\.100\/16/],
    [{ ip: '198.18.0.100', nic: 'eth2' }, GenericError, /no interface on eth2 has a route/],
    [{ ip: '198.18.0.100', nic: 'eth1', cidr_netmask: '24', iflabel: 'twelvechars' }, InvalidParameterError, /longer than 15/],
  ];
  for (const [input, type, message] of system) t.throws(() => resolve(input), { constructor: type, message }, JSON.stringify(input));
});
