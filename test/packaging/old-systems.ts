// What the oldest supported userlands accept, as pure checks over what
// `rpm -qp` and `dpkg-deb` print about a built package. The old tools
// themselves cannot be downloaded here (CI reaches only Debian 12's archive
// and npm), so the rules are read from their sources:
//
// - CentOS 7's rpm 4.11.3: lib/rpmds.c rpmlibProvides[] (the rpmlib()
//   features it has), rpmio/rpmio.c (payload compressors: gzip, bzip2, xz,
//   lzma; no zstd), rpmio/digest (file digests MD5, SHA1, SHA256, SHA384,
//   SHA512). No weak (4.12) or rich (4.13) dependencies.
// - Debian 9's dpkg 1.18.25: .deb format 2.0, control.tar and data.tar
//   compressed with gzip or xz (also bzip2, lzma for data.tar; zstd never
//   in Debian's dpkg), tar entries of ustar/GNU types.
// Each function returns the problems it finds, one line each; [] is clean.

/** rpm 4.11.3's rpmlibProvides[] (git show rpm-4.11.3-release:lib/rpmds.c). */
export const RPM_4_11_RPMLIB: Readonly<Record<string, string>> = {
  VersionedDependencies: '3.0.3-1',
  CompressedFileNames: '3.0.4-1',
  PayloadIsBzip2: '3.0.5-1',
  PayloadIsXz: '5.2-1',
  PayloadIsLzma: '4.4.2-1',
  PayloadFilesHavePrefix: '4.0-1',
  ExplicitPackageProvide: '4.0-1',
  HeaderLoadSortsTags: '4.0.1-1',
  ScriptletInterpreterArgs: '4.0.3-1',
  PartialHardlinkSets: '4.0.4-1',
  ConcurrentAccess: '4.1-1',
  BuiltinLuaScripts: '4.2.2-1',
  FileDigests: '4.6.0-1',
  FileCaps: '4.6.1-1',
  ScriptletExpansion: '4.9.0-1',
  TildeInVersions: '4.10.0-1',
};

/** Payload compressors rpm 4.11's rpmio opens (gzdio, bzdio, xzdio, lzdio). */
export const RPM_4_11_PAYLOADS = ['gzip', 'bzip2', 'xz', 'lzma'] as const;
/** File digest algorithms (PGPHASHALGO_*) CentOS 7's rpm computes: MD5, SHA1, SHA256, SHA384, SHA512. */
export const RPM_4_11_FILE_DIGESTS = [1, 2, 8, 9, 10] as const;

/** Numeric-and-alphabetic segment comparison as rpmvercmp does it, enough for rpmlib versions (digits, dots, one dash). */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => v.split(/[^0-9A-Za-z]+/).filter(Boolean);
  const [x, y] = [split(a), split(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const [p, q] = [x[i], y[i]];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const numeric = /^\d+$/.test(p) && /^\d+$/.test(q);
    const d = numeric ? Number(p) - Number(q) : p.localeCompare(q);
    if (d) return Math.sign(d);
  }
  return 0;
}

/** `rpm -qp --requires` lines: every rpmlib() feature must be one rpm 4.11 provides, at a version it provides; no rich dependency. */
export function rpmRequiresProblems(requires: readonly string[], provided: Readonly<Record<string, string>> = RPM_4_11_RPMLIB): string[] {
  const problems: string[] = [];
  for (const line of requires.map((l) => l.trim()).filter(Boolean)) {
    if (line.startsWith('(')) {
      problems.push(`rich (boolean) dependency ${line}: rpm 4.13 or later`);
      continue;
    }
    const m = /^rpmlib\(([^)]+)\)(?:\s*(<=|<|=|>=|>)\s*(\S+))?$/.exec(line);
    if (!m) continue;
    const [, feature, , version] = m;
    const has = provided[feature!];
    if (has === undefined) problems.push(`${line}: rpm 4.11 has no rpmlib(${feature})`);
    else if (version && compareVersions(version, has) > 0) problems.push(`${line}: rpm 4.11 provides rpmlib(${feature}) = ${has} only`);
  }
  return problems;
}

export interface RpmPayload {
  /** %{PAYLOADCOMPRESSOR} */
  compressor: string;
  /** %{PAYLOADFORMAT} */
  format: string;
  /** %{FILEDIGESTALGO} ("(none)" when rpm wrote MD5 implicitly) */
  fileDigestAlgo: string;
  /** First 96 bytes of the file: the lead. */
  lead: Uint8Array;
}

export function rpmPayloadProblems(p: RpmPayload): string[] {
  const problems: string[] = [];
  if (!(RPM_4_11_PAYLOADS as readonly string[]).includes(p.compressor)) problems.push(`payload compressed with ${p.compressor}: rpm 4.11 reads ${RPM_4_11_PAYLOADS.join(', ')}`);
  if (p.format !== 'cpio') problems.push(`payload format ${p.format}: rpm 4.11 reads cpio`);
  if (p.fileDigestAlgo !== '(none)' && !(RPM_4_11_FILE_DIGESTS as readonly number[]).includes(Number(p.fileDigestAlgo))) {
    problems.push(`file digest algorithm ${p.fileDigestAlgo}: rpm 4.11 computes ${RPM_4_11_FILE_DIGESTS.join(', ')} (MD5, SHA1, SHA256, SHA384, SHA512)`);
  }
  const magic = [...p.lead.slice(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
  if (magic !== 'edabeedb') problems.push(`not an rpm lead (magic ${magic})`);
  else if (p.lead[4] !== 3) problems.push(`rpm lead version ${p.lead[4]}.${p.lead[5]}: rpm 4.11 reads 3.0`);
  return problems;
}

/** Bash and newer-shell constructs dash (Debian's /bin/sh) or a strict POSIX sh rejects or reads differently. */
const BASHISMS: [RegExp, string][] = [
  [/\[\[/, '[[ ]]'],
  [/^\s*function\s+\w+/m, 'the function keyword'],
  [/(^|[;&|]\s*)(source)\s/m, 'source (use .)'],
  [/\[\s[^\]]*\s==\s/, '== in test'],
  [/\$'/, "$'...' quoting"],
  [/&>/, '&> redirection'],
  [/<<</, 'here-string'],
  [/\$\{[^}]*\/[^}]*\}/, '${var/pattern/replacement}'],
  [/\$\{[A-Za-z_][A-Za-z0-9_]*:-?[0-9]/, '${var:offset}'],
  [/\b(declare|typeset|shopt)\b/, 'declare/typeset/shopt'],
  [/\$(RANDOM|BASH_[A-Z]+|PIPESTATUS)\b/, 'bash variables'],
  [/^\s*\w+=\(/m, 'arrays'],
];

/**
 * One maintainer script or scriptlet: /bin/sh (any POSIX shell: CentOS 7's
 * is bash, Debian's dash), no bashism, no unexpanded rpm macro, and
 * systemctl only behind a check that systemd runs (a node may boot with
 * SysV init or run in a container without it).
 */
export function scriptProblems(name: string, interpreter: string, body: string): string[] {
  const problems: string[] = [];
  if (interpreter !== '/bin/sh') problems.push(`${name}: runs under ${interpreter}, not /bin/sh`);
  const code = body.replace(/^\s*#.*$/gm, '');
  for (const [pattern, what] of BASHISMS) if (pattern.test(code)) problems.push(`${name}: ${what} is not POSIX sh`);
  if (/%\{|%\(/.test(code)) problems.push(`${name}: an rpm macro left unexpanded`);
  if (/\bsystemctl\b/.test(code) && !/\/run\/systemd\/system|command -v systemctl/.test(code)) {
    problems.push(`${name}: systemctl without checking that systemd runs ([ -d /run/systemd/system ])`);
  }
  if (/dpkg-divert\b[^\n]*--no-rename/.test(code)) problems.push(`${name}: dpkg-divert --no-rename needs dpkg 1.19.1`);
  return problems;
}

/** `ar t` of a .deb, and its debian-binary: the layout and compressions dpkg 1.18 reads. */
export function debArchiveProblems(members: readonly string[], debianBinary: string): string[] {
  const problems: string[] = [];
  if (debianBinary !== '2.0\n') problems.push(`debian-binary ${JSON.stringify(debianBinary)}: dpkg reads 2.0`);
  const [first, control, data, ...rest] = members;
  if (first !== 'debian-binary') problems.push(`first member ${first}: dpkg wants debian-binary`);
  if (!control || !/^control\.tar(\.gz|\.xz)?$/.test(control)) problems.push(`control member ${control}: dpkg 1.18 reads control.tar, .gz, .xz`);
  if (!data || !/^data\.tar(\.gz|\.xz|\.bz2|\.lzma)?$/.test(data)) problems.push(`data member ${data}: dpkg 1.18 reads data.tar, .gz, .xz, .bz2, .lzma`);
  for (const extra of rest) if (!extra.startsWith('_')) problems.push(`member ${extra}: dpkg 1.18 refuses unknown members not starting with _`);
  return problems;
}

/** ustar and GNU entry types dpkg 1.18's tar extractor handles (regular, link, symlink, devices, directory, fifo, GNU long names). */
const DPKG_1_18_TAR_TYPES = new Set(['0', '\0', '1', '2', '3', '4', '5', '6', 'L', 'K']);

/** Entry types (header byte 156) of an uncompressed tar stream. */
export function tarEntryTypes(tar: Uint8Array): string[] {
  const types: string[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const size = Number.parseInt(new TextDecoder().decode(header.subarray(124, 136)).replace(/\0.*$/s, '').trim() || '0', 8);
    types.push(String.fromCharCode(header[156]!));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return types;
}

export function tarTypeProblems(member: string, types: readonly string[]): string[] {
  return [...new Set(types.filter((type) => !DPKG_1_18_TAR_TYPES.has(type)))].map((type) => `${member}: tar entry type ${JSON.stringify(type)} (pax extended header or newer) is not one dpkg 1.18 is known to read`);
}

/** Control fields: nothing that needs a newer dpkg (Pre-Depends is how a package asks for one; Protected is dpkg 1.20). */
export function debControlProblems(fields: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  if (fields['Pre-Depends'] !== undefined) problems.push(`Pre-Depends: ${fields['Pre-Depends']}: not needed, and how a package asks for a newer dpkg`);
  if (fields.Protected !== undefined) problems.push('Protected: dpkg 1.20.1 or later');
  for (const field of ['Depends', 'Recommends', 'Suggests', 'Conflicts', 'Breaks', 'Replaces', 'Provides']) {
    const value = fields[field];
    if (value === undefined) continue;
    for (const op of value.match(/\(\s*([<>=!]+)/g) ?? []) {
      if (!/^\(\s*(<<|<=|=|>=|>>)$/.test(op)) problems.push(`${field}: relation ${op.replace(/^\(\s*/, '')} is not one dpkg accepts (<<, <=, =, >=, >>)`);
    }
  }
  return problems;
}

/** Parses `dpkg-deb -f` output (or a control file) into fields; continuation lines are kept. */
export function parseControl(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\s/.test(line) && last) fields[last] += `\n${line}`;
    else {
      const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
      if (m) fields[(last = m[1]!)] = m[2]!;
    }
  }
  return fields;
}

/** A relation field as alternatives per comma: "a | b, c" → [["a","b"],["c"]], versions dropped. */
export function relations(value: string | undefined): string[][] {
  return (value ?? '')
    .split(',')
    .map((group) => group.split('|').map((alt) => alt.replace(/\(.*?\)/g, '').trim()).filter(Boolean))
    .filter((alts) => alts.length);
}
