import { resolve } from 'node:path';

/** `--name value` options of a bench script, and the project root. */
export function cliOptions() {
  const ROOT = resolve(import.meta.dir, '../..');
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback?: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1]! : fallback;
  };
  return { ROOT, argv, opt };
}

/** The command line every bench phase takes from bench/run.sh. */
export function phaseArgs(defaultOut: string) {
  const { ROOT, argv, opt } = cliOptions();
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
