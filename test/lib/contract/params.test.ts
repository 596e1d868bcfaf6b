import t from 'tap';
import type { AgentDefinition } from '../../../lib/contract/agent.ts';
import { InvalidParameterError, UsageError } from '../../../lib/contract/errors.ts';
import { paramsFromOcfEnv, paramsFromV1Args, resolveParams } from '../../../lib/contract/params.ts';

const definition: AgentDefinition = {
  name: 'Demo',
  version: '1',
  shortdesc: 'demo',
  longdesc: 'demo',
  params: [
    { name: 'device', type: 'string', required: true, v1: 0, shortdesc: 'device' },
    { name: 'directory', type: 'string', required: true, v1: 1, shortdesc: 'mount point' },
    { name: 'fstype', type: 'string', v1: 2, shortdesc: 'type', default: 'ext4' },
    { name: 'count', type: 'integer', default: '5', shortdesc: 'count', check: (v) => (Number(v) < 1 ? 'must be at least 1' : undefined) },
    { name: 'fast', type: 'boolean', default: 'no', shortdesc: 'fast' },
  ],
  v1Synopsis: 'device directory [fstype]',
  timeouts: { start: 1, stop: 1, monitor: 1 },
  lockKey: (p) => p.get('directory'),
  start: async () => {},
  stop: async () => {},
  status: async () => ({ held: false }),
};

t.test('v1 positions and OCF env name the same parameters', async (t) => {
  t.same(paramsFromV1Args(definition, ['/dev/sdb1', '/data']), { device: '/dev/sdb1', directory: '/data' });
  t.same(paramsFromOcfEnv(definition, { OCF_RESKEY_device: '/dev/sdb1', OCF_RESKEY_directory: '/data', OCF_RESKEY_other: 'x' }), {
    device: '/dev/sdb1',
    directory: '/data',
  });
  t.throws(() => paramsFromV1Args(definition, ['a', 'b', 'c', 'd']), UsageError);
});

t.test('defaults, types and checks', async (t) => {
  const p = resolveParams(definition, { device: '/dev/sdb1', directory: '/my data', fast: 'yes' });
  t.equal(p.get('fstype'), 'ext4');
  t.equal(p.int('count'), 5);
  t.equal(p.bool('fast'), true);
  t.equal(p.get('directory'), '/my data', 'spaces are fine: values travel as argv');
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ directory: '/data' }, /^device is required/],
    [{ device: '/dev/sdb1', directory: '' }, /^directory is required/],
    [{ device: '/dev/sdb1;reboot', directory: '/data' }, /shell metacharacter ";"/],
    [{ device: '$(reboot)', directory: '/data' }, /shell metacharacter "\$"/],
    [{ device: '/dev/sdb1', directory: '/data`id`' }, /shell metacharacter "`"/],
    [{ device: '/dev/sdb1', directory: '/da\nta' }, /shell metacharacter "\\n"/],
    // Found by test/fuzz: other control characters reached messages raw.
    [{ device: '/dev/sdb1\x1bc', directory: '/data' }, /control character "\\u001b"/],
    [{ device: '/dev/sdb1', directory: '/da\x7fta' }, /control character "\\u007f"/],
    [{ device: '/dev/sdb1', directory: '/da\ufffdta' }, /is not valid UTF-8/],
    [{ device: '/dev/sdb1', directory: '/data', count: 'many' }, /count "many" must be a whole number/],
    [{ device: '/dev/sdb1', directory: '/data', count: '0' }, /count "0" must be at least 1/],
    [{ device: '/dev/sdb1', directory: '/data', fast: 'perhaps' }, /fast "perhaps" must be true or false/],
  ];
  for (const [given, message] of bad) {
    t.throws(() => resolveParams(definition, given), InvalidParameterError, JSON.stringify(given));
    t.throws(() => resolveParams(definition, given), { message }, JSON.stringify(given));
  }
});

t.test('a v1 argument that is present but empty is refused, not defaulted (issue 15)', async (t) => {
  for (const args of [[''], ['/dev/sdb1', ''], ['/dev/sdb1', '/data', '']]) {
    t.throws(() => paramsFromV1Args(definition, args), InvalidParameterError, JSON.stringify(args));
  }
  t.throws(() => paramsFromV1Args({ ...definition, parseV1: () => ({}) }, ['']), { message: /argument 1 \(device\) is empty/ }, 'also for agents that parse v1 themselves');
});
