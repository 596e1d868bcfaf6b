import t from 'tap';
import { caseNames, runOcftSuite } from './ipaddr-ocft.ts';

// The shipped ocft case file IPaddr2v4 against our IPaddr (see ipaddr-ocft.ts
// for the two changes to the file). Every case passes.

t.test('ocft IPaddr2v4', async (t) => {
  const run = await runOcftSuite('ipft4', 'IPaddr2v4');
  t.teardown(run.destroy);
  const expected = caseNames(run.config);
  t.equal(expected.length, 22, 'the shipped file has 22 cases');
  t.equal(run.cases.length, expected.length, `ocft reported every case\n${run.output}`);
  for (const [index, name] of expected.entries()) {
    const result = run.cases[index];
    t.equal(result?.name, name, `case ${index} is "${name}"`);
    t.ok(result?.ok, `case ${index} "${name}" passes${result?.detail ? `: ${result.detail}` : ''}`);
  }
});
