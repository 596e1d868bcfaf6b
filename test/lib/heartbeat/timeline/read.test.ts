// eachLine: the reader's own line splitter must cut lines as node:readline (crlfDelay Infinity) did,
// whatever the chunk boundaries: the timeline's output may not change with how a file is read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import t from 'tap';
import { eachLine, fileChunks, interner } from '../../../../lib/heartbeat/timeline/read.ts';

async function split(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  await eachLine(Readable.from(chunks), (l) => out.push(l));
  return out;
}

async function viaReadline(bytes: Buffer): Promise<string[]> {
  const out: string[] = [];
  const rl = createInterface({ input: Readable.from([bytes]), crlfDelay: Infinity });
  for await (const l of rl) out.push(l);
  return out;
}

/** Every way to cut `bytes` in two, and in single bytes. */
function cuts(bytes: Buffer): Buffer[][] {
  const all: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i++) all.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return all;
}

const samples = [
  'heartbeat[88]: 2026/12/07_04:55:34 info: a\nIPaddr[9]:\t2026/12/07_04:55:35.072 INFO: b\n',
  'no newline at the end',
  'crlf\r\nlines\r\n\r\nand a lone\rcr\n',
  'ends in cr\r',
  'empty lines\n\n\nbetween\n',
  'utf-8: Zürich → 東京 ✓\nsecond ü\n',
  '',
  '\n',
];

t.test('eachLine cuts lines as readline does, at every chunk boundary', async (t) => {
  for (const text of samples) {
    const bytes = Buffer.from(text, 'utf8');
    const want = await viaReadline(bytes);
    for (const chunks of cuts(bytes)) t.same(await split(chunks), want, `${JSON.stringify(text)} in ${chunks.length} chunk(s)`);
  }
});

t.test('eachLine gives a multi-byte character split across chunks whole', async (t) => {
  const bytes = Buffer.from('a ü b\n', 'utf8');
  t.same(await split([bytes.subarray(0, 3), bytes.subarray(3)]), ['a ü b']);
});

t.test('eachLine over fileChunks (one buffer reused for every read) of a file, at every chunk size', async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/tl-read-${process.pid}-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const text = samples.join('x\n');
  const file = `${dir}/log`;
  writeFileSync(file, text);
  const want = await viaReadline(Buffer.from(text, 'utf8'));
  t.ok(want.length > 10);
  // Sizes that leave a line's start in the buffer the next read overwrites: the carried bytes must be a copy.
  for (const size of [1, 2, 3, 5, 7, 13, 64, 1 << 16]) {
    const out: string[] = [];
    await eachLine(fileChunks(file, size), (l) => out.push(l));
    t.same(out, want, `chunks of ${size} byte(s)`);
  }
});

t.test('interner: equal strings shared, as fresh copies, up to its limit', async (t) => {
  const intern = interner(2);
  const line = 'heartbeat[88]: info: Running x start';
  const a = intern(line.slice(15));
  t.equal(a, 'info: Running x start');
  t.equal(intern(`${'info: Running'} x start`), a, 'equal text: the same string back');
  t.equal(intern('b'), 'b');
  t.equal(intern('c'), 'c', 'beyond the limit: still its value');
  t.equal(intern('c'), 'c');
});
