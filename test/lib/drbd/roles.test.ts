import t from 'tap';
import { parseCstateOutput, parseDstateOutput, parseRoleOutput } from '../../../lib/drbd/roles.ts';

// Formats: drbd-utils user/v83 and user/v84 drbdsetup.c role_scmd/cstate_scmd/dstate_scmd
// ("%s/%s", "Unconfigured"), user/v9 drbdsetup.c role_cmd/cstate_cmd/dstate_cmd.

t.test('drbdadm role: 8.3/8.4 local/peer, 9 local only, 8.3 Unconfigured, several resources', async (t) => {
  const cases: [string, unknown][] = [
    ['Primary/Secondary\n', [{ local: 'Primary', peer: 'Secondary' }]],
    ['Secondary/Primary\n', [{ local: 'Secondary', peer: 'Primary' }]],
    ['Secondary/Unknown\n', [{ local: 'Secondary', peer: 'Unknown' }]],
    ['Primary\n', [{ local: 'Primary' }]],
    ['Secondary\n', [{ local: 'Secondary' }]],
    ['Unconfigured\n', [{ local: 'Unconfigured' }]],
    ['Primary/Secondary\nSecondary/Secondary\n', [{ local: 'Primary', peer: 'Secondary' }, { local: 'Secondary', peer: 'Secondary' }]],
    ['', undefined],
    ['Primary/Secondary/Secondary\n', undefined],
    ['primary\n', undefined],
    ["Could not connect to 'drbd' generic netlink family\n", undefined],
  ];
  for (const [text, expected] of cases) t.same(parseRoleOutput(text), expected, JSON.stringify(text));
});

t.test('drbdadm dstate and cstate', async (t) => {
  const dstate: [string, unknown][] = [
    ['UpToDate/UpToDate\n', [{ local: 'UpToDate', peers: ['UpToDate'] }]],
    ['Inconsistent/UpToDate\n', [{ local: 'Inconsistent', peers: ['UpToDate'] }]],
    ['Diskless/DUnknown\n', [{ local: 'Diskless', peers: ['DUnknown'] }]],
    ['UpToDate/UpToDate/Outdated\n', [{ local: 'UpToDate', peers: ['UpToDate', 'Outdated'] }]],
    ['UpToDate\n', [{ local: 'UpToDate', peers: [] }]],
    ['Unconfigured\n', [{ local: 'Unconfigured', peers: [] }]],
    ['Fresh/UpToDate\n', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of dstate) t.same(parseDstateOutput(text), expected, JSON.stringify(text));
  const cstate: [string, unknown][] = [
    ['Connected\n', ['Connected']],
    ['WFConnection\n', ['WFConnection']],
    ['StandAlone\nConnected\n', ['StandAlone', 'Connected']],
    ['Connecting\n', ['Connecting']],
    ['Unconfigured\n', ['Unconfigured']],
    ['Bogus\n', undefined],
  ];
  for (const [text, expected] of cstate) t.same(parseCstateOutput(text), expected, JSON.stringify(text));
});
