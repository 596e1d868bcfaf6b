import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENTS_DIR, ROOT } from '../rig/agents.ts';

// Builds throwaway packages for the package tests with the real
// packaging/package.sh, from the executable `npm run build` made (so the
// tests do not compile it again), fast compression, no lintian (the lintian
// test runs it once on its own).

export const VERSION = '0.1.0';
/** Sorts after VERSION: the upgrade. */
export const NEXT_VERSION = '0.1.0+test1';

/**
 * `shipped`: package.sh's own compression, as a release has it (slow on the
 * real executable: pair it with a small `binary` when only the packaging is
 * under test). `extraEnv`: a packager identity (DEBFULLNAME/DEBEMAIL) or other
 * package.sh settings a test names.
 */
export async function buildPackages(
  out: string,
  version: string,
  formats: 'deb' | 'rpm' | 'deb rpm' = 'deb',
  { shipped = false, binary = join(AGENTS_DIR, 'ha-agent'), extraEnv = {} }: { shipped?: boolean; binary?: string; extraEnv?: Record<string, string> } = {},
): Promise<void> {
  mkdirSync(out, { recursive: true });
  await execa('bash', [join(ROOT, 'packaging/package.sh')], {
    env: {
      // The project's own identity unless a test names a packager: never the caller's.
      DEBFULLNAME: '',
      DEBEMAIL: '',
      ...extraEnv,
      OUT: out,
      VERSION: version,
      ARCHES: 'amd64',
      FORMATS: formats,
      LINTIAN: '0',
      ...(shipped ? {} : { DEB_COMPRESSION: '-Zgzip -z1', RPM_PAYLOAD: 'w1.gzdio' }),
      HA_AGENT_BINARY: binary,
    },
  });
}

/** A Debian package's .deb: from apt's cache, else `apt-get download` into dir. */
export async function debianPackageFile(name: string, dir: string): Promise<string> {
  const cached = '/var/cache/apt/archives';
  const pick = (where: string) => readdirSync(where).filter((f) => f.startsWith(`${name}_`) && f.endsWith('.deb')).sort().at(-1);
  const inCache = existsSync(cached) ? pick(cached) : undefined;
  if (inCache) return join(cached, inCache);
  mkdirSync(dir, { recursive: true });
  const download = await execa('apt-get', ['download', name], { cwd: dir, reject: false });
  // No package lists yet (a fresh image): read them once, then again.
  if (download.exitCode !== 0) {
    await execa('apt-get', ['update', '-qq']);
    await execa('apt-get', ['download', name], { cwd: dir });
  }
  const downloaded = pick(dir);
  if (!downloaded) throw new Error(`apt-get download ${name} left no .deb in ${dir}`);
  return join(dir, downloaded);
}
