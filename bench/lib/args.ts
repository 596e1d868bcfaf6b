import { resolve } from 'node:path';

/** The command line every bench phase takes from bench/run.sh. */
export function phaseArgs(defaultOut: string) {
  const ROOT = resolve(import.meta.dir, '../..');
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback?: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1]! : fallback;
  };
  const TMP = opt('--tmp')!;
  return {
    ROOT,
    argv,
    opt,
    quick: argv.includes('--quick'),
    TMP,
    AGENTS: resolve(opt('--agents', `${ROOT}/dist/resource.d`)!),
    OUT: opt('--out', `${TMP}/${defaultOut}`)!,
  };
}
