import t from 'tap';
import { checkEveryCase, runOcftSuite } from './ipaddr-ocft.ts';

// The shipped ocft case file IPaddr2v4 against our IPaddr (see ipaddr-ocft.ts
// for the two changes to the file). Every case passes.

t.test('ocft IPaddr2v4', async (t) => {
  const run = await runOcftSuite('ipft4', 'IPaddr2v4');
  t.teardown(run.destroy);
  checkEveryCase(t, run, 22);
});
