import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { timelineCommand } from '../../../../lib/heartbeat/timeline/command.ts';

// The --html page in a real headless browser (Debian's chromium, driven by
// playwright-core): drawn from the split-brain run of the rig, checked from
// the DOM (lanes, bars, incident markers, the detail on click), printed, and
// screenshot (not blank).

const FIX = 'test/fixtures/heartbeat/timeline';
const tmp = mkdtempSync(`${tmpdir()}/tl-html-${process.pid}-`);
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

/** Distinct colours in a PNG (8-bit RGB/RGBA, no interlace, as chromium writes it): a blank page has one. */
function pngColours(png: Buffer): number {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const channels = png[25] === 6 ? 4 : 3;
  const idat: Buffer[] = [];
  for (let off = 8; off < png.length;) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const row = Buffer.alloc(stride);
  const colours = new Set<number>();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? row[x - channels]! : 0;
      const b = prev[x]!;
      const c = x >= channels ? prev[x - channels]! : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter]!;
      row[x] = (v + pred) & 255;
    }
    for (let x = 0; x < stride; x += channels * 7) colours.add((row[x]! << 16) | (row[x + 1]! << 8) | row[x + 2]!);
    row.copy(prev);
  }
  return colours.size;
}

t.test('the page in chromium: lanes, bars, incidents, the lines behind a bar, printable', async (t) => {
  const page = `${tmp}/split-brain.html`;
  let err = '';
  const code = await timelineCommand([`${FIX}/split-brain-master1.ha-debug`, `${FIX}/split-brain-master2.ha-debug`], { html: page }, { out: () => {}, err: (s) => (err += s) });
  t.equal(code, 0, err);
  const html = readFileSync(page, 'utf8');
  t.notMatch(html, /(?:src|href)=["']?(?:https?:)?\/\//, 'no network: nothing loaded from elsewhere');

  const context = await chromium.launchPersistentContext(mkdtempSync(`${tmp}/profile-`), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const requests: string[] = [];
    const tab = await context.newPage();
    tab.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    await tab.setViewportSize({ width: 1200, height: 800 });
    await tab.goto(`file://${page}`);
    const lanes = await tab.$$eval('.lane', (ls) => ls.map((l) => `${l.getAttribute('data-node')} ${l.getAttribute('data-resource')}`));
    t.same(lanes, [
      'master1 IPaddr::198.18.4.1/16/eth1', 'master1 drbddisk::data', 'master1 Filesystem::/dev/drbd1::/data::ext3', 'master1 mysqld',
      'master2 IPaddr::198.18.4.1/16/eth1', 'master2 drbddisk::data', 'master2 Filesystem::/dev/drbd1::/data::ext3', 'master2 mysqld',
    ], 'a lane per node and resource, in the group\'s order');
    const states = await tab.$$eval('.bar', (bs) => [...new Set(bs.map((b) => b.getAttribute('data-state')))].sort());
    t.same(states, ['held', 'refused', 'starting', 'stopping']);
    const held = await tab.$eval('.lane[data-node=master1] .bar[data-state=held]', (b) => b.getBoundingClientRect().width);
    t.ok(held > 100, `master1 holds the VIP over a wide bar (${held}px)`);
    const incidents = await tab.$$eval('.chart .incident', (is) => is.map((i) => i.textContent));
    t.ok(incidents.length >= 3, `incidents marked: ${incidents.join(' ')}`);
    t.match(await tab.textContent('.incidents'), /partition: master1 lost by master2/);

    // The refused bar: click shows the log lines behind it (its tooltip too).
    const refused = tab.locator('.lane[data-node=master2] .bar[data-state=refused]');
    t.match(await refused.getAttribute('title'), /refused/);
    await refused.click();
    t.match(await tab.textContent('#detail h2'), /master2 IPaddr::198\.18\.4\.1\/16\/eth1: refused/);
    t.match(await tab.textContent('#detail pre'), /ERROR: refusing to start: 198\.18\.4\.1 already answers/);
    t.equal(await refused.evaluate((b) => b.classList.contains('sel')), true, 'the clicked bar is marked');

    const shot = await tab.screenshot({ path: `${tmp}/page.png` });
    t.ok(statSync(`${tmp}/page.png`).size > 10_000);
    t.ok(pngColours(shot) > 8, 'the screenshot is not blank');

    // Printed: the detail panel goes, the bars keep their colours.
    await tab.emulateMedia({ media: 'print' });
    t.equal(await tab.$eval('#detail', (d) => getComputedStyle(d).display), 'none');
    t.equal(await tab.$eval('.bar[data-state=held]', (b) => getComputedStyle(b).backgroundColor), 'rgb(45, 164, 78)');
    const pdf = await tab.pdf({ landscape: true });
    t.ok(pdf.length > 10_000, `prints (${pdf.length} bytes of PDF)`);
    t.same(requests, [], 'no request left the page');
  } finally {
    await context.close();
  }
});
