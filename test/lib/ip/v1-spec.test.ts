import t from 'tap';
import { UsageError } from '../../../lib/contract/errors.ts';
import { parseV1Args, rejoinIPv6Pieces, splitV1Spec } from '../../../lib/ip/v1-spec.ts';

t.test('the v1 grammar ip[/bits-or-dotted-netmask[/nic[:label]][/broadcast]]', async (t) => {
  const cases: [string, Record<string, string>][] = [
    ['198.18.4.1', { ip: '198.18.4.1' }],
    ['198.18.4.1/16', { ip: '198.18.4.1', cidr_netmask: '16' }],
    ['198.18.4.1/16/eth1', { ip: '198.18.4.1', cidr_netmask: '16', nic: 'eth1' }],
    ['198.18.4.1/255.255.0.0/eth1', { ip: '198.18.4.1', cidr_netmask: '255.255.0.0', nic: 'eth1' }],
    ['198.18.4.1/16/eth1:web', { ip: '198.18.4.1', cidr_netmask: '16', nic: 'eth1', iflabel: 'web' }],
    ['198.18.4.1/16/eth1:0/198.18.255.255', { ip: '198.18.4.1', cidr_netmask: '16', nic: 'eth1', iflabel: '0', broadcast: '198.18.255.255' }],
    ['198.18.4.1/16/eth1/198.18.255.255', { ip: '198.18.4.1', cidr_netmask: '16', nic: 'eth1', broadcast: '198.18.255.255' }],
    // A digit-led third field is the broadcast (the stock wrapper's rule).
    ['198.18.4.1/16/198.18.255.255', { ip: '198.18.4.1', cidr_netmask: '16', broadcast: '198.18.255.255' }],
    ['198.18.4.1//eth1', { ip: '198.18.4.1', nic: 'eth1' }],
    ['fd00::10/64/eth1', { ip: 'fd00::10', cidr_netmask: '64', nic: 'eth1' }],
    ['fd00:0:0:0:0:0:0:10/64/eth1', { ip: 'fd00:0:0:0:0:0:0:10', cidr_netmask: '64', nic: 'eth1' }],
  ];
  for (const [input, expected] of cases) t.same(parseV1Args([input]), expected, input);
});

t.test('ResourceManager splits IPaddr::fd00::10/64/eth1 at "::"; the pieces are rejoined', async (t) => {
  const cases: [string[], string | undefined][] = [
    [['fd00', '10/64/eth1'], 'fd00::10/64/eth1'],
    [['fd00:1:2', '10'], 'fd00:1:2::10'],
    [['fe80', '2/64/eth1'], 'fe80::2/64/eth1'],
    [['fd00', 'zz/64'], undefined],
    [['198.18.0.1', '24'], undefined],
    [['eth1', '10'], undefined],
    [['fd00', '10', 'x'], undefined],
  ];
  for (const [input, expected] of cases) t.equal(rejoinIPv6Pieces(input), expected, input.join(' '));
  t.same(parseV1Args(['fd00', '10/64/eth1']), { ip: 'fd00::10', cidr_netmask: '64', nic: 'eth1' });
});

t.test('usage errors', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /no IP address given/],
    [['198.18.0.1', '198.18.0.2'], /expected one argument/],
    [['198.18.0.1/24/eth1/198.18.0.255/x'], /too many "\/" fields/],
    [['198.18.0.1/24/198.18.0.255/eth1'], /must be the last field/],
  ];
  for (const [input, message] of cases) t.throws(() => parseV1Args(input), { constructor: UsageError, message }, JSON.stringify(input));
  t.same(splitV1Spec(''), { ip: '' }, 'an empty argument leaves ip empty (the table then says it is required)');
});
