// `ha-agent timeline --html FILE`: one self-contained page (no network, no
// CDN): a swimlane per node and resource, incidents marked, each bar's log
// lines on click (and in its tooltip), readable when printed. The bars are
// drawn in the HTML itself; the script only opens the detail panel.
import type { Analysis, LineRef, Segment } from './analyze.ts';
import { clockOf, dateOf, durationText, gapText, incidentTitle, outcomeText } from './text.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STATES = ['held', 'starting', 'stopping', 'refused', 'unknown'] as const;

const CSS = `
*{box-sizing:border-box}
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px;color:#1b1f24;background:#fff}
h1{font-size:18px;margin:0 0 4px}
.meta{color:#444;margin:0 0 8px}
.meta div{margin:1px 0}
.legend{display:flex;gap:14px;margin:8px 0 10px;flex-wrap:wrap}
.legend span{display:inline-flex;align-items:center;gap:5px}
.legend i{display:inline-block;width:22px;height:10px;border-radius:2px}
.chart{position:relative;border:1px solid #d0d7de;border-radius:4px;padding:22px 8px 22px 0}
.axis{position:absolute;left:var(--label);right:8px;bottom:0;height:20px;font-size:11px;color:#57606a}
.tick{position:absolute;top:3px;transform:translateX(-50%);white-space:nowrap}
.lanes{position:relative}
.lane{display:flex;align-items:center;height:24px;border-top:1px solid #eef1f4}
.lane.first-of-node{border-top:1px solid #8c959f}
.label{width:var(--label);flex:none;padding:0 8px;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.label b{font-weight:600}
.track{position:relative;flex:1;height:16px}
.bar{position:absolute;top:0;height:16px;min-width:2px;border-radius:2px;cursor:pointer}
.bar:hover,.bar.sel{outline:2px solid #0969da;outline-offset:1px;z-index:2}
.state-held{background:#2da44e}
.state-starting{background:#54aeff;z-index:1}
.state-stopping{background:#fb8f44;z-index:1}
.state-refused{background:#cf222e;z-index:1}
.state-unknown{background:repeating-linear-gradient(45deg,#afb8c1 0 4px,#eaeef2 4px 8px)}
.incident{position:absolute;top:-22px;bottom:0;border-left:2px dashed #8250df;background:rgba(130,80,223,.07);pointer-events:none}
.incident span{position:absolute;top:2px;left:3px;font-size:11px;color:#8250df;font-weight:600;white-space:nowrap;background:#fff;padding:0 2px}
#detail{position:sticky;bottom:0;margin-top:10px;border:1px solid #d0d7de;border-radius:4px;background:#f6f8fa;padding:8px 10px;max-height:40vh;overflow:auto}
#detail h2{font-size:13px;margin:0 0 4px}
#detail pre,.incidents pre{margin:0;font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap}
.incidents h2{font-size:15px;margin:18px 0 4px}
.incidents h3{font-size:13px;margin:10px 0 2px}
.incidents .sum{margin:2px 0}
.note{color:#9a6700}
@media print{
  @page{size:landscape;margin:10mm}
  body{margin:0;font-size:10px}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  #detail{display:none}
  .chart{break-inside:avoid}
  .incidents h3{break-after:avoid}
  .incidents pre{font-size:9px}
}
`;

const SCRIPT = `
(function(){
  var data = JSON.parse(document.getElementById('bar-lines').textContent);
  var detail = document.getElementById('detail');
  var sel;
  function show(bar){
    if (sel) sel.classList.remove('sel');
    sel = bar; bar.classList.add('sel');
    var d = data[bar.getAttribute('data-i')];
    detail.querySelector('h2').textContent = d.title;
    detail.querySelector('pre').textContent = d.lines.length ? d.lines.join('\\n') : '(no log line behind this bar)';
  }
  document.querySelectorAll('.bar').forEach(function(bar){
    bar.addEventListener('click', function(){ show(bar); });
  });
})();
`;

function lineOf(l: LineRef): string {
  return `${dateOf(l.t)} ${clockOf(l.t, l.coarse)}  ${l.node}  ${l.tag}: ${l.text}   [${l.source}]`;
}

/** The page, as one string. */
export function renderHtml(a: Analysis, title = 'ha-agent timeline'): string {
  const from = a.range?.from ?? 0;
  const to = Math.max((a.range?.to ?? 1) + 1000, from + 1000);
  const span = to - from;
  const pct = (t: number) => `${(((Math.min(Math.max(t, from), to) - from) / span) * 100).toFixed(3)}%`;
  const bars: { title: string; lines: string[] }[] = [];
  const labelWidth = Math.min(360, Math.max(160, ...a.lanes.map((l) => (l.node.length + l.resource.length) * 7 + 30)));

  const laneHtml = a.lanes.map((lane, n) => {
    const first = n === 0 || a.lanes[n - 1]!.node !== lane.node;
    const segs = lane.segments.filter((s: Segment) => s.to > s.from || s.state !== 'held').map((s) => {
      const i = bars.length;
      const what = `${lane.node} ${lane.resource}: ${s.state} ${clockOf(s.from, s.coarse).trim()} → ${clockOf(s.to, s.coarse).trim()} (${durationText(s.to - s.from, s.coarse)})${s.note ? ` — ${s.note}` : ''}`;
      bars.push({ title: what, lines: s.lines.map(lineOf) });
      const width = `max(2px, ${(((Math.min(s.to, to) - Math.max(s.from, from)) / span) * 100).toFixed(3)}%)`;
      return `<div class="bar state-${s.state}" data-i="${i}" data-state="${s.state}" style="left:${pct(s.from)};width:${width}" title="${esc(what)}${s.lines.length ? `&#10;${esc(s.lines.slice(0, 6).map(lineOf).join('\n'))}${s.lines.length > 6 ? '&#10;…' : ''}` : ''}"></div>`;
    });
    return `<div class="lane${first ? ' first-of-node' : ''}" data-node="${esc(lane.node)}" data-resource="${esc(lane.resource)}"><div class="label" title="${esc(`${lane.node} ${lane.resource}`)}"><b>${esc(lane.node)}</b> ${esc(lane.resource)}</div><div class="track">${segs.join('')}</div></div>`;
  });

  const incidentMarks = a.incidents.map((i) => `<div class="incident" data-incident="${i.id}" style="left:${pct(i.start)};width:${(((i.end - i.start) / span) * 100).toFixed(3)}%"><span>${i.id}</span></div>`);

  const ticks: string[] = [];
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000).find((s) => span / s <= 10) ?? 86_400_000;
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(`<div class="tick" style="left:${pct(t)}">${clockOf(t, true).trim()}</div>`);

  const meta: string[] = [];
  if (a.range) meta.push(`${esc(a.nodes.join(', '))} · ${dateOf(a.range.from)} ${clockOf(a.range.from, true).trim()} → ${dateOf(a.range.to)} ${clockOf(a.range.to, true).trim()} · ${a.incidents.length} incident(s)`);
  for (const o of a.offsets) if (o.source !== 'reference') meta.push(`clock of ${esc(o.node)}: ${o.ms >= 0 ? '+' : ''}${o.ms} ms${o.uncertaintyMs !== undefined ? ` ±${o.uncertaintyMs} ms` : ''} (${esc(o.note)})`);
  meta.push(`resolution: heartbeat's own lines to the second; ResourceManager and agents: ${a.resolution.fineLines} line(s) to the ms, ${a.resolution.coarseLines} to the second`);
  if (a.resolution.hint) meta.push(`<span class="note">hint: ${esc(a.resolution.hint)}</span>`);

  const incidentsHtml = a.incidents.map((i) => {
    const rows = [
      ...i.decisions.map((d) => ({ t: d.t, s: `${clockOf(d.t, d.coarse)}  ${d.node}  ${d.tag.replace(/\[\d+\]$/, '')}: ${d.text}` })),
      ...i.calls.map((c) => ({ t: c.start, s: `${clockOf(c.start, c.startCoarse)}  ${c.node}  ${c.action} ${c.resource}: ${c.endInferred ? '≤ ' : ''}${durationText(c.durationMs, c.coarse)}${c.rc !== undefined ? `, rc ${c.rc}` : ''}${c.refusals.map((r) => `\n      refused: ${r.text}`).join('')}` })),
      ...i.refusals.map((r) => ({ t: r.t, s: `${clockOf(r.t, r.coarse)}  ${r.node}  refused: ${r.text}` })),
    ].sort((x, y) => x.t - y.t);
    const gap = gapText(i);
    return `<section class="incident-detail" data-incident="${i.id}"><h3>${i.id}. ${esc(incidentTitle(i))} — ${dateOf(i.start)} ${clockOf(i.start, true).trim()}</h3>
<div class="sum"><b>outcome:</b> ${esc(outcomeText(i))}</div>${gap ? `<div class="sum"><b>service gap:</b> ${esc(gap)}</div>` : ''}${i.notes.map((n) => `<div class="sum note">${esc(n)}</div>`).join('')}
<pre>${esc(rows.map((r) => r.s).join('\n'))}</pre></section>`;
  });

  const legend = STATES.map((s) => `<span><i class="state-${s}"></i>${s}</span>`).join('') + '<span><i style="border-left:2px dashed #8250df;background:rgba(130,80,223,.15)"></i>incident</span>';
  const barJson = JSON.stringify(bars).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body style="--label:${labelWidth}px">
<h1>${esc(title)}</h1>
<div class="meta">${meta.map((m) => `<div>${m}</div>`).join('')}</div>
<div class="legend">${legend}</div>
<div class="chart"><div class="axis">${ticks.join('')}</div><div class="lanes">${laneHtml.join('')}<div style="position:absolute;left:var(--label);right:0;top:0;bottom:0;pointer-events:none">${incidentMarks.join('')}</div></div></div>
<div id="detail"><h2>Click a bar to see the log lines behind it</h2><pre></pre></div>
<div class="incidents"><h2>Incidents</h2>${incidentsHtml.join('\n')}</div>
<script type="application/json" id="bar-lines">${barJson}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
