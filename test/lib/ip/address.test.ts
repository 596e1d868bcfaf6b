import t from 'tap';
import {
  canonicalAddress, dottedNetmaskToPrefix, formatIPv6, ipv4Broadcast, isIPv6LinkLocal, parseAddress, parseIPv4, parseIPv6, parseNetmask, prefixContains,
} from '../../../lib/ip/address.ts';

t.test('parseIPv4', async (t) => {
  const cases: [string, bigint | undefined][] = [
    ['198.18.0.1', 0xc6120001n],
    ['0.0.0.0', 0n],
    ['255.255.255.255', 0xffffffffn],
    ['198.18.0.300', undefined],
    ['198.18.0', undefined],
    ['198.18.0.1.5', undefined],
    ['198.018.0.1', undefined],
    ['198.18.0.1 ', undefined],
    ['', undefined],
    ['a.b.c.d', undefined],
  ];
  for (const [input, expected] of cases) t.equal(parseIPv4(input), expected, input);
});

t.test('parseIPv6 and formatIPv6', async (t) => {
  const cases: [string, string | undefined][] = [
    ['fd00::10', 'fd00::10'],
    ['fd00:0:0:0:0:0:0:10', 'fd00::10'],
    ['FD00:0000:0000:0000:0000:0000:0000:0010', 'fd00::10'],
    ['::1', '::1'],
    ['::', '::'],
    ['fe80::2010:fdff:fefb:6ff3', 'fe80::2010:fdff:fefb:6ff3'],
    ['::ffff:198.18.0.1', '::ffff:c612:1'],
    ['fd00:1:0:0:1:0:0:1', 'fd00:1::1:0:0:1'],
    ['fd00:0:1:0:0:0:1:0', 'fd00:0:1::1:0'],
    ['fd00::1::2', undefined],
    ['fd00:1:2:3:4:5:6:7:8', undefined],
    ['fd00:1:2:3:4:5:6', undefined],
    ['fd00::12345', undefined],
    ['fd00::g', undefined],
    ['198.18.0.1', undefined],
  ];
  for (const [input, expected] of cases) {
    const value = parseIPv6(input);
    t.equal(value === undefined ? undefined : formatIPv6(value), expected, input);
  }
});

t.test('parseAddress picks the family; canonical spelling', async (t) => {
  t.equal(parseAddress('198.18.0.1')?.family, 'inet');
  t.equal(parseAddress('fd00::1')?.family, 'inet6');
  t.equal(parseAddress('fd00'), undefined, 'a lone IPv6 piece is no address');
  t.equal(parseAddress('198.18.0.1/24'), undefined);
  t.equal(canonicalAddress(parseAddress('fd00:0:0:0:0:0:0:10')!), 'fd00::10');
  t.equal(canonicalAddress(parseAddress('198.18.4.1')!), '198.18.4.1');
});

t.test('netmasks', async (t) => {
  const dotted: [string, number | undefined][] = [
    ['255.255.255.0', 24], ['255.255.0.0', 16], ['255.255.255.255', 32], ['255.255.255.252', 30], ['128.0.0.0', 1],
    ['255.0.255.0', undefined], ['255.255.255.1', undefined], ['0.255.255.255', undefined],
  ];
  for (const [input, expected] of dotted) t.equal(dottedNetmaskToPrefix(input), expected, input);
  const parsed: [Parameters<typeof parseNetmask>[0], string, number | RegExp][] = [
    ['inet', '24', 24], ['inet', '32', 32], ['inet', '255.255.0.0', 16], ['inet6', '64', 64], ['inet6', '128', 128],
    ['inet', '33', /between 1 and 32/], ['inet', '0', /between 1 and 32/], ['inet6', '129', /between 1 and 128/],
    ['inet', '255.0.255.0', /contiguous/], ['inet', '0.0.0.0', /contiguous/], ['inet', '255.255.256.0', /neither/],
    ['inet6', '255.255.255.0', /prefix length/], ['inet', 'abc', /neither/], ['inet', '-1', /neither/],
  ];
  for (const [family, input, expected] of parsed) {
    const result = parseNetmask(family, input);
    if (typeof expected === 'number') t.equal(result, expected, `${family} ${input}`);
    else t.match(result, expected, `${family} ${input}`);
  }
});

t.test('prefixContains, broadcast, link-local', async (t) => {
  const net = parseIPv4('198.18.0.0')!;
  t.ok(prefixContains('inet', net, 24, parseIPv4('198.18.0.200')!));
  t.notOk(prefixContains('inet', net, 24, parseIPv4('198.18.1.1')!));
  t.ok(prefixContains('inet', net, 15, parseIPv4('198.19.255.1')!));
  t.ok(prefixContains('inet6', parseIPv6('fd00::')!, 64, parseIPv6('fd00::10')!));
  t.notOk(prefixContains('inet6', parseIPv6('fd00::')!, 64, parseIPv6('fd00:0:0:1::10')!));
  t.equal(ipv4Broadcast(parseIPv4('198.18.4.1')!, 16), '198.18.255.255');
  t.equal(ipv4Broadcast(parseIPv4('198.18.0.1')!, 24), '198.18.0.255');
  t.ok(isIPv6LinkLocal(parseIPv6('fe80::2')!));
  t.ok(isIPv6LinkLocal(parseIPv6('febf::2')!));
  t.notOk(isIPv6LinkLocal(parseIPv6('fd00::2')!));
});
