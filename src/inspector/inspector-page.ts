// The inspector page: one HTML document with its style and script inline (no
// CDN, nothing fetched from elsewhere). It reads the charts once (/charts),
// then follows the live picture (/events, Server-Sent Events) and draws each
// statechart as nested boxes, the active states lit.
export const INSPECTOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>corral inspector</title>
<link rel="icon" href="favicon.ico">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d2433; background: #f6f7f9; }
  body { margin: 0; padding: 16px 20px; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 18px 0 8px; }
  .meta { color: #5b6475; margin-bottom: 8px; }
  .layout { display: grid; grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); gap: 16px; }
  .panel { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 12px; }
  .chart-wrap { overflow-x: auto; }
  svg.chart { max-width: 100%; height: auto; font: 10px ui-monospace, 'DejaVu Sans Mono', monospace; }
  svg.chart .state rect { fill: #fff; stroke: #c5cbd6; }
  svg.chart .state.compound > rect { fill: #fafbfc; }
  svg.chart .state .name { font-size: 11px; fill: #5b6475; }
  svg.chart .state.active > rect { stroke: #1f7a4d; stroke-width: 1.5; fill: #e6f6ed; }
  svg.chart .state.compound.active > rect { fill: #f3fbf6; }
  svg.chart .state.active > .name { fill: #1f7a4d; font-weight: 600; }
  svg.chart .state.final.active > rect { stroke: #b42318; fill: #fde8e6; }
  svg.chart .state.final.active > .name { fill: #b42318; }
  svg.chart .initial { fill: #3b4456; }
  svg.chart .edge path { fill: none; stroke: #9aa3b3; stroke-width: 1; }
  svg.chart .arrowhead { fill: #9aa3b3; }
  svg.chart .arrowhead-taken { fill: #c2410c; }
  svg.chart .edge.taken path { stroke: #c2410c; stroke-width: 2.2; }
  svg.chart .edge-label { fill: #3b4456; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
  svg.chart .edge-label.taken { fill: #9a3412; font-weight: 700; }
  .column { display: flex; flex-direction: column; gap: 16px; min-width: 0; }
  @media (max-width: 900px) { .layout { grid-template-columns: minmax(0, 1fr); } body { padding: 10px; } svg.chart { max-width: none; } }
  .summary { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 12px; font-size: 13px; }
  .summary b { font-variant-numeric: tabular-nums; }
  .replay { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin: 0 0 10px; padding: 6px 10px; background: #fff7e0; border: 1px solid #e8c766; border-radius: 8px; }
  .replay button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #c9b26b; border-radius: 4px; background: #fff; cursor: pointer; }
  .replay button:disabled { opacity: 0.4; cursor: default; }
  body[data-replay] .layout { filter: sepia(0.25); }
  #log li[data-seq] { cursor: pointer; }
  #log li[data-seq]:hover { background: #f3f5f8; }
  #log li[data-shown] { background: #fff1c2; }
  .actions { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin: 0 0 12px; }
  .actions input { width: 4em; font: inherit; }
  button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #c5cbd6; border-radius: 4px; background: #fff; cursor: pointer; }
  .hint { font-size: 12px; font-weight: 400; color: #8a93a5; }
  /* Many workers scroll inside the table, so the chart of the one picked stays in view under it. */
  .table-wrap { overflow: auto; max-height: 330px; }
  #workers thead th { position: sticky; top: 0; background: #fff; z-index: 1; }
  #workers { border-collapse: collapse; width: 100%; font-size: 12px; font-variant-numeric: tabular-nums; white-space: nowrap; }
  #workers th { text-align: right; font-weight: 600; color: #5b6475; padding: 2px 6px; border-bottom: 1px solid #dde1e8; }
  #workers td { text-align: right; padding: 2px 6px; border-bottom: 1px solid #f0f2f5; }
  #workers th:nth-child(-n+2), #workers td:nth-child(-n+2) { text-align: left; }
  #workers tbody tr { cursor: pointer; }
  #workers tbody tr:hover { background: #f3f5f8; }
  #workers tr[data-selected] { background: #e8f0fe; }
  #workers tr[data-gone] { color: #8a93a5; }
  #workers td.bad { color: #b42318; font-weight: 600; }
  #dirty-processes { border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; white-space: nowrap; margin-bottom: 8px; }
  #dirty-processes th { text-align: left; font-weight: 600; color: #5b6475; padding: 2px 6px; border-bottom: 1px solid #dde1e8; }
  #dirty-processes td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #f0f2f5; }
  #dirty-processes tr[data-gone] { color: #8a93a5; }
  .st { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 5px; background: #c5cbd6; }
  .st.serving { background: #1f7a4d; } .st.booting { background: #d9a300; } .st.draining { background: #b54708; } .st.dead { background: #b42318; }
  .counters { color: #5b6475; font-size: 12px; margin: 2px 0 4px; }
  #log { font: 12px/1.5 ui-monospace, monospace; max-height: 420px; overflow-y: auto; margin: 0; padding: 0; list-style: none; }
  #log time { color: #8a93a5; margin-right: 6px; }
  #errorlog { font: 11px/1.45 ui-monospace, monospace; max-height: 320px; overflow: auto; margin: 0; padding: 0; list-style: none; white-space: pre-wrap; word-break: break-all; }
  #errorlog li.error, #errorlog li.critical { color: #b42318; }
  #errorlog li.warning { color: #9a3412; }
  #errorlog-filter { font: inherit; font-size: 12px; font-weight: 400; margin-left: 6px; }
  #status { font-size: 12px; color: #8a93a5; }
  [hidden] { display: none !important; }
  svg { display: block; }
  .headline { font-size: 22px; font-weight: 600; }
  .headline .counters { font-size: 12px; font-weight: 400; }
  #rps text { font-size: 9px; fill: #5b6475; }
  #rps .grid { stroke: #e6e9ef; }
  #rps .axis { stroke: #8a93a5; }
</style>
</head>
<body>
<h1>corral inspector</h1>
<div class="meta" id="meta">connecting…</div>
<div class="replay" id="replay" hidden>
  <span>As it was at <b id="replay-at"></b>: <span id="replay-text"></span></span>
  <button id="replay-prev" type="button" title="the change before">◀ before</button>
  <button id="replay-next" type="button" title="the change after">after ▶</button>
  <button id="replay-live" type="button">back to live</button>
</div>
<div class="summary" id="summary"></div>
<div class="actions" id="actions" hidden>
  <label>workers <input id="scale-to" type="number" min="1" step="1" size="4"></label>
  <button type="button" id="act-scale">Scale</button>
  <button type="button" id="act-reload" title="new workers boot with the configuration re-read; the old ones drain once they serve">Rolling reload</button>
  <span class="counters" id="action-result" role="status"></span>
</div>
<div class="layout">
  <div class="column">
    <div class="panel">
      <h2 style="margin-top:0">Workers <span class="hint">(a row shows its chart)</span></h2>
      <div class="table-wrap"><table id="workers">
        <thead><tr><th>worker</th><th>state</th><th>pid</th><th>age</th><th title="generation: bumped by each reload">gen</th><th>served</th><th title="requests in flight">in fl.</th><th>req/s</th><th>4xx</th><th>5xx</th><th title="connections closed unserved: at --worker-connections or out of file descriptors">dropped</th><th title="latency over the last 5 s">p50</th><th title="latency over the last 5 s">p99</th><th title="% of one core over the last 5 s">CPU</th><th>RSS</th><th title="event-loop lag">lag</th></tr></thead>
        <tbody></tbody>
      </table></div>
    </div>
    <div class="panel"><h2 style="margin-top:0"><span id="selected-title">Worker</span> <button type="button" id="act-stop-worker" hidden title="a replacement boots first, then this one drains">Stop this worker</button></h2><div id="selected" class="chart-wrap"></div></div>
    <div class="panel"><h2 style="margin-top:0">Arbiter</h2><div id="arbiter" class="chart-wrap"></div></div>
    <div class="panel" id="dirty-panel" hidden>
      <h2 style="margin-top:0">Dirty pool <span class="hint" id="dirty-meta"></span></h2>
      <div class="table-wrap"><table id="dirty-processes" class="plain">
        <thead><tr><th>process</th><th>state</th><th>pid</th><th>running</th></tr></thead>
        <tbody></tbody>
      </table></div>
      <div id="dirty-chart" class="chart-wrap"></div>
    </div>
  </div>
  <div class="column">
    <div class="panel">
      <h2 style="margin-top:0">Requests per second</h2>
      <div class="headline"><span id="rate" data-rate="0">0</span> req/s <span class="counters" id="rate-note"></span></div>
      <svg id="rps" width="100%" viewBox="0 0 320 124" role="img" aria-label="requests per second over the last minutes"></svg>
    </div>
    <div class="panel">
      <h2 style="margin-top:0">Events</h2>
      <ul id="log"></ul>
    </div>
    <div class="panel">
      <h2 style="margin-top:0">Error log <select id="errorlog-filter" aria-label="whose lines"><option value="">every process</option></select></h2>
      <div class="counters" id="errorlog-note"></div>
      <ol id="errorlog"></ol>
    </div>
    <div id="status"></div>
  </div>
</div>
<script>
'use strict';
const token = new URLSearchParams(location.search).get('token');
const query = token ? '?token=' + encodeURIComponent(token) : '';
const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function activePaths(value, prefix) {
  if (typeof value === 'string') return [prefix ? prefix + '.' + value : value];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const path = prefix ? prefix + '.' + key : key;
    return [path, ...activePaths(inner, path)];
  });
}
const stateText = (value) => activePaths(value, '').filter((path, _, all) => !all.some((other) => other.startsWith(path + '.'))).join(', ');

const pathOfId = (id) => id.split('.').slice(1).join('.');

/**
 * A chart as a picture, drawn once from the layout the server worked out: states
 * as boxes (compound ones as containers), each transition an arrow through its
 * label. lightChart() then marks the active states and the arrow last taken.
 */
function chartSvg(chart, name) {
  const layout = chart.layout;
  const at = (value) => Math.round(value * 10) / 10;
  const parts = ['<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="' + layout.width + '" height="' + layout.height + '" viewBox="0 0 ' + layout.width + ' ' + layout.height + '" role="img" aria-label="' + escape(name) + ' statechart">'];
  parts.push('<defs>' + ['', '-taken'].map((suffix) => '<marker id="arrow-' + name + suffix + '" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" class="arrowhead' + suffix + '"/></marker>').join('') + '</defs>');
  for (const box of layout.states) {
    const rect = (inset) => '<rect x="' + at(box.x + inset) + '" y="' + at(box.y + inset) + '" width="' + at(box.width - 2 * inset) + '" height="' + at(box.height - 2 * inset) + '" rx="' + (box.compound ? 7 : 5) + '"/>';
    parts.push('<g class="state' + (box.compound ? ' compound' : '') + (box.final ? ' final' : '') + '" data-path="' + escape(box.path) + '" data-id="' + escape(box.id) + '">' +
      rect(0) + (box.final ? rect(3) : '') + (box.initial ? '<circle class="initial" cx="' + at(box.x) + '" cy="' + at(box.y + (box.compound ? 10 : box.height / 2)) + '" r="3"><title>initial state</title></circle>' : '') +
      '<text class="name" x="' + at(box.compound ? box.x + 8 : box.x + box.width / 2) + '" y="' + at(box.compound ? box.y + 13 : box.y + box.height / 2 + 4) + '"' + (box.compound ? '' : ' text-anchor="middle"') + '>' + escape(box.key) + '</text></g>');
  }
  layout.edges.forEach((edge, index) => parts.push('<g class="edge" data-i="' + index + '" data-from="' + escape(edge.from) + '" data-to="' + escape(edge.to) + '" data-label="' + escape(edge.label) + '" data-event="' + escape(edge.event) + '">' +
    '<path d="' + edge.d + '" marker-end="url(#arrow-' + name + ')"/></g>'));
  // Labels over every arrow, so none is hidden under another's line.
  layout.edges.forEach((edge, index) => {
    const top = edge.labelY - (edge.lines.length - 1) * 6 + 3.5;
    parts.push('<text class="edge-label" data-i="' + index + '" x="' + at(edge.labelX) + '" y="' + at(top) + '"' + (edge.loop ? '' : ' text-anchor="middle"') + '>' +
      edge.lines.map((line, n) => '<tspan x="' + at(edge.labelX) + '"' + (n ? ' dy="12"' : '') + '>' + escape(line) + '</tspan>').join('') + '</text>');
  });
  return parts.join('') + '</svg>';
}

/**
 * The arrows of the last change of state: the ones the feed saw taken (exact), or, for a picture
 * without them, those leaving a state active before for one active after on that event (an
 * eventless arrow is taken on whatever event started the step).
 */
function takenEdges(chart, transition) {
  const taken = new Set();
  if (!transition) return taken;
  const before = new Set(activePaths(transition.from, ''));
  const after = new Set(activePaths(transition.to, ''));
  chart.edges.forEach((edge, index) => {
    const matches = transition.edges
      ? transition.edges.some((step) => step.label === edge.label && step.to.includes(edge.to) && (step.from === edge.from || (step.from === chart.root.id && before.has(pathOfId(edge.from)))))
      : before.has(pathOfId(edge.from)) && after.has(pathOfId(edge.to)) && (edge.event === transition.event || edge.event === '');
    if (matches) taken.add(index);
  });
  return taken;
}

/** Draws the chart into its host (once), then lights its active states and the arrows last taken. */
function lightChart(host, chart, name, value, transition) {
  let svg = host.querySelector('svg.chart');
  if (!svg) {
    host.innerHTML = chartSvg(chart, name);
    svg = host.querySelector('svg.chart');
    // A screen too narrow for the chart scrolls it: it starts at the active state.
    const leaf = [...svg.querySelectorAll('g.state')].reverse().find((node) => activePaths(value, '').includes(node.dataset.path));
    if (leaf && host.scrollWidth > host.clientWidth) {
      const box = leaf.querySelector('rect');
      host.scrollLeft = Number(box.getAttribute('x')) + Number(box.getAttribute('width')) / 2 - host.clientWidth / 2;
    }
  }
  const active = new Set(activePaths(value, ''));
  for (const node of svg.querySelectorAll('g.state')) node.classList.toggle('active', active.has(node.dataset.path));
  const taken = takenEdges(chart, transition);
  for (const node of svg.querySelectorAll('.edge, .edge-label')) {
    const on = taken.has(Number(node.dataset.i));
    node.classList.toggle('taken', on);
    if (on) node.dataset.at = new Date(transition.at).toLocaleTimeString();
    else delete node.dataset.at;
    const path = node.firstElementChild;
    if (path && path.tagName === 'path') path.setAttribute('marker-end', 'url(#arrow-' + name + (on ? '-taken' : '') + ')');
  }
}

let charts;
let last;
/** The worker whose chart is shown: the one clicked, else the first. */
let selectedId;

const fixed = (value, digits) => (value === undefined || value === null ? '–' : value.toFixed(value < 10 && digits ? digits : 0));
function age(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return seconds + ' s';
  if (seconds < 7200) return Math.round(seconds / 60) + ' min';
  return (seconds / 3600).toFixed(1) + ' h';
}
const cell = (column, text, extra) => '<td data-col="' + column + '"' + (extra || '') + '>' + text + '</td>';

/** The connections the arbiter closed itself (it hands them out for the sync kind), by why. */
function refusedItem(item, refused) {
  const total = refused.silent + refused.shed + refused.stopping;
  const parts = [[refused.silent, 'silent'], [refused.shed, 'at backlog'], [refused.stopping, '503 at stop']].filter(([count]) => count > 0);
  return item('sum-refused', 'refused by arbiter', total + (parts.length ? ' (' + parts.map(([count, why]) => count + ' ' + why).join(', ') + ')' : ''),
    'connections the arbiter closed before a worker got them: silent past --header-timeout, over --backlog, or answered 503 at a stop');
}

function drawSummary(picture) {
  const live = picture.workers.filter((w) => !w.gone);
  const client = picture.workers.reduce((sum, w) => sum + w.client, 0);
  const server = picture.workers.reduce((sum, w) => sum + w.server, 0);
  const restarts = Object.entries(picture.arbiter.restarts);
  const total = restarts.reduce((sum, [, count]) => sum + count, 0);
  const item = (id, label, value, title) => '<span' + (title ? ' title="' + escape(title) + '"' : '') + '>' + label + ' <b id="' + id + '">' + value + '</b></span>';
  document.getElementById('summary').innerHTML = [
    item('sum-workers', 'workers', live.length + ' / ' + picture.arbiter.workers),
    item('sum-served', 'served', picture.served),
    item('sum-4xx', '4xx', client, 'responses with a 4xx status, from the workers shown'),
    item('sum-5xx', '5xx', server, 'responses with a 5xx status, from the workers shown'),
    item('sum-dropped', 'dropped', picture.workers.reduce((sum, w) => sum + w.dropped, 0), 'connections the workers shown closed unserved'),
    ...(picture.arbiter.refused ? [refusedItem(item, picture.arbiter.refused)] : []),
    item('sum-arbiter-cpu', 'arbiter CPU', fixed(picture.arbiter.cpuPercent, 1) + ' %', 'the arbiter process, % of one core'),
    item('sum-restarts', 'restarts', total + (total ? ' (' + restarts.map(([how, count]) => count + ' ' + escape(how)).join(', ') + ')' : ''), 'workers that ended without being asked, by how'),
  ].join('');
}

function drawWorkers(picture) {
  if (!picture.workers.some((w) => w.id === selectedId)) selectedId = (picture.workers.find((w) => !w.gone) || picture.workers[0] || {}).id;
  document.querySelector('#workers tbody').innerHTML = picture.workers.map((w) => {
    const state = stateText(w.value);
    return '<tr class="worker" data-id="' + escape(w.id) + '" data-pid="' + (w.pid ?? '') + '" data-state="' + escape(state) + '"' + (w.gone ? ' data-gone' : '') + (w.id === selectedId ? ' data-selected' : '') + '>' +
      cell('id', escape(w.id)) + cell('state', '<span class="st ' + escape(state.split('.')[0]) + '"></span>' + escape(state)) + cell('pid', w.pid ?? '–') +
      cell('age', age(picture.at - w.startedAt)) + cell('generation', w.generation ?? '–') + cell('served', w.served) + cell('inFlight', w.inFlight) +
      cell('rate', fixed(w.rate, 1)) + cell('4xx', w.client) + cell('5xx', w.server, w.server ? ' class="bad"' : '') + cell('dropped', w.dropped, w.dropped ? ' class="bad"' : '') +
      cell('p50', fixed(w.p50Ms, 1) + (w.p50Ms === undefined ? '' : ' ms')) + cell('p99', fixed(w.p99Ms, 1) + (w.p99Ms === undefined ? '' : ' ms')) +
      cell('cpu', fixed(w.cpuPercent, 1) + (w.cpuPercent === undefined ? '' : ' %')) + cell('rss', w.rss ? (w.rss / 1048576).toFixed(0) + ' MB' : '–') + cell('lag', w.lagMs.toFixed(1) + ' ms') + '</tr>';
  }).join('');
  const selected = picture.workers.find((w) => w.id === selectedId);
  document.getElementById('selected-title').textContent = selected ? selected.id + ' · pid ' + (selected.pid ?? '–') + ' · ' + stateText(selected.value) : 'Worker';
  const panel = document.getElementById('selected');
  panel.dataset.id = selected ? selected.id : '';
  document.getElementById('act-stop-worker').hidden = !(session && session.actions && selected && !selected.gone && !replay);
  panel.hidden = !selected;
  if (selected) lightChart(panel, charts.workerHandle, 'worker', selected.value, selected.lastTransition);
}

function drawDirty(picture) {
  const panel = document.getElementById('dirty-panel');
  panel.hidden = !picture.dirty;
  if (!picture.dirty) return;
  const dirty = picture.dirty;
  panel.dataset.state = stateText(dirty.value);
  document.getElementById('dirty-meta').textContent = stateText(dirty.value) + ' · generation ' + dirty.generation + ' · ' + dirty.workers + ' process(es) wanted';
  document.querySelector('#dirty-processes tbody').innerHTML = dirty.processes.map((p) =>
    '<tr data-id="' + escape(p.id) + '" data-state="' + escape(stateText(p.value)) + '"' + (p.gone ? ' data-gone' : '') + '><td>' + escape(p.id) + '</td><td><span class="st ' + escape(stateText(p.value).split('.')[0]) + '"></span>' +
    escape(stateText(p.value)) + '</td><td>' + (p.pid ?? '–') + '</td><td>' + escape(p.running ?? '–') + '</td></tr>').join('');
  lightChart(document.getElementById('dirty-chart'), charts.dirtyPool, 'dirtyPool', dirty.value, dirty.lastTransition);
}

function update(picture) {
  last = picture;
  render();
}

/** The live picture, or the moment of history being looked at (the log and the rate chart stay live). */
function render() {
  const picture = replay ? replay.frame.picture : last;
  const arbiterState = stateText(picture.arbiter.value);
  document.getElementById('meta').textContent = 'arbiter ' + arbiterState + ' · generation ' + picture.arbiter.generation +
    ' · ' + picture.arbiter.workers + ' worker(s) wanted · ' + (picture.arbiter.listeners.join(', ') || 'not listening yet');
  const arbiter = document.getElementById('arbiter');
  arbiter.dataset.state = arbiterState;
  lightChart(arbiter, charts.arbiter, 'arbiter', picture.arbiter.value, picture.arbiter.lastTransition);

  drawSummary(picture);
  drawWorkers(picture);
  drawDirty(picture);
  const shownSeq = replay ? replay.frame.seq : undefined;
  document.getElementById('log').innerHTML = last.log.slice().reverse().map((line) =>
    '<li' + (line.seq ? ' data-seq="' + line.seq + '"' : '') + (line.seq === shownSeq ? ' data-shown' : '') + '><time>' + new Date(line.at).toLocaleTimeString() + '</time>' + escape(line.text) + '</li>').join('');

  drawRates({ ...last.rates, now: picture.rates.now }, last.at, replay ? picture.at : undefined);
  drawReplayBar();
}

let replay;
async function showMoment(seq) {
  const response = await fetch('history?seq=' + seq + (token ? '&token=' + encodeURIComponent(token) : ''));
  if (!response.ok) return;
  replay = await response.json();
  render();
}
function drawReplayBar() {
  const bar = document.getElementById('replay');
  bar.hidden = !replay;
  document.body.toggleAttribute('data-replay', !!replay);
  if (!replay) return;
  bar.dataset.seq = replay.frame.seq;
  document.getElementById('replay-at').textContent = new Date(replay.frame.picture.at).toLocaleTimeString();
  document.getElementById('replay-text').textContent = replay.frame.text;
  document.getElementById('replay-prev').disabled = replay.frame.seq <= replay.first;
  document.getElementById('replay-next').disabled = replay.frame.seq >= replay.last;
}
document.getElementById('log').addEventListener('click', (event) => {
  const line = event.target.closest('li[data-seq]');
  if (line) showMoment(Number(line.dataset.seq));
});
document.getElementById('replay-prev').addEventListener('click', () => replay && showMoment(replay.frame.seq - 1));
document.getElementById('replay-next').addEventListener('click', () => replay && showMoment(replay.frame.seq + 1));
document.getElementById('replay-live').addEventListener('click', () => {
  replay = undefined;
  render();
});

/** A round top for the rate axis: 1, 2 or 5 times a power of ten. */
function niceTop(value) {
  if (value <= 1) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  return [1, 2, 5, 10].map((m) => m * power).find((top) => top >= value);
}
const formatRate = (rate) => (rate < 10 ? rate.toFixed(1) : rate.toFixed(0));

function drawRates(rates, now, markAt) {
  const left = 34, right = 314, top = 6, bottom = 100;
  const peak = Math.max(0, ...rates.series.map((point) => point.rate));
  const yTop = niceTop(peak);
  const x = (at) => left + (1 - (now - at) / rates.spanMs) * (right - left);
  const y = (rate) => bottom - (rate / yTop) * (bottom - top);
  const parts = [];
  for (const value of [0, yTop / 2, yTop]) {
    parts.push('<line class="' + (value ? 'grid' : 'axis') + '" x1="' + left + '" x2="' + right + '" y1="' + y(value) + '" y2="' + y(value) + '"/>');
    parts.push('<text x="' + (left - 4) + '" y="' + (y(value) + 3) + '" text-anchor="end">' + formatRate(value) + '</text>');
  }
  const minutes = rates.spanMs / 60000;
  for (let step = 0; step <= minutes * 2; step++) {
    const ago = (step * 30000);
    const at = x(now - ago);
    parts.push('<line class="grid" x1="' + at + '" x2="' + at + '" y1="' + top + '" y2="' + bottom + '"/>');
    parts.push('<text x="' + at + '" y="' + (bottom + 11) + '" text-anchor="' + (step === 0 ? 'end' : 'middle') + '">' + (step === 0 ? 'now' : '−' + (ago >= 60000 && ago % 60000 === 0 ? ago / 60000 + ' min' : ago / 1000 + ' s')) + '</text>');
  }
  parts.push('<text x="' + ((left + right) / 2) + '" y="' + (bottom + 22) + '" text-anchor="middle">last ' + minutes + ' minutes, one point a second (req/s)</text>');
  const points = rates.series.filter((point) => point.at > now - rates.spanMs).map((point) => x(point.at).toFixed(1) + ',' + y(point.rate).toFixed(1)).join(' ');
  parts.push('<polyline fill="none" stroke="#1f7a4d" stroke-width="1.5" points="' + points + '"/>');
  if (markAt !== undefined && markAt > now - rates.spanMs) parts.push('<line stroke="#b54708" stroke-dasharray="3 2" x1="' + x(markAt) + '" x2="' + x(markAt) + '" y1="' + top + '" y2="' + bottom + '"/>');
  document.getElementById('rps').innerHTML = parts.join('');
  const rate = document.getElementById('rate');
  rate.dataset.rate = rates.now.toFixed(2);
  rate.textContent = formatRate(rates.now);
  document.getElementById('rate-note').textContent = 'over the last ' + rates.windowMs / 1000 + ' s · peak ' + formatRate(peak) + ' in ' + minutes + ' min';
}

document.querySelector('#workers tbody').addEventListener('click', (event) => {
  const row = event.target.closest('tr[data-id]');
  if (!row) return;
  selectedId = row.dataset.id;
  if (last) render();
});

/** The error log's last lines, as followed by the arbiter; shown newest first, filtered by process. */
let errorLines = [];
const ERROR_LINES_KEPT = 10000;
function onErrorLog(batch) {
  errorLines = batch.reset ? batch.lines : errorLines.concat(batch.lines).slice(-ERROR_LINES_KEPT);
  document.getElementById('errorlog-note').textContent = batch.unavailable || '';
  drawErrorLog();
}
function processName(pid) {
  if (!last) return 'pid ' + pid;
  if (pid === last.arbiter.pid) return 'arbiter';
  const worker = last.workers.find((w) => w.pid === pid);
  return worker ? worker.id : 'pid ' + pid;
}
function drawErrorLog() {
  const filter = document.getElementById('errorlog-filter');
  const chosen = filter.value;
  const pids = [...new Set(errorLines.map((line) => line.pid).filter((pid) => pid !== undefined && pid !== null))];
  filter.innerHTML = '<option value="">every process</option>' + pids.map((pid) =>
    '<option value="' + pid + '"' + (String(pid) === chosen ? ' selected' : '') + '>' + escape(processName(pid)) + ' (pid ' + pid + ')</option>').join('');
  const shown = errorLines.filter((line) => !chosen || String(line.pid) === chosen);
  document.getElementById('errorlog').innerHTML = shown.slice().reverse().map((line) =>
    '<li class="' + escape(line.level) + '" data-pid="' + (line.pid ?? '') + '">' + escape(line.text) + '</li>').join('');
}
document.getElementById('errorlog-filter').addEventListener('change', drawErrorLog);

/** This page's session: its token for actions, and whether they are allowed. */
let session;
async function act(request) {
  const result = document.getElementById('action-result');
  result.textContent = '…';
  const response = await fetch('action' + query, { method: 'POST', headers: { 'content-type': 'application/json', 'x-corral-session': session.session }, body: JSON.stringify(request) });
  result.textContent = (response.ok ? '' : response.status + ': ') + (await response.text()).trim();
}
document.getElementById('act-scale').addEventListener('click', () => act({ action: 'scale', workers: Number(document.getElementById('scale-to').value) }));
document.getElementById('act-reload').addEventListener('click', () => act({ action: 'reload' }));
document.getElementById('act-stop-worker').addEventListener('click', () => selectedId && act({ action: 'stop-worker', id: selectedId }));

async function start() {
  charts = await (await fetch('charts' + query)).json();
  session = await (await fetch('session' + query)).json();
  document.getElementById('actions').hidden = !session.actions;
  const events = new EventSource('events' + query);
  events.onmessage = (message) => update(JSON.parse(message.data));
  events.addEventListener('errorlog', (message) => onErrorLog(JSON.parse(message.data)));
  events.onopen = () => (document.getElementById('status').textContent = 'live');
  events.onerror = () => (document.getElementById('status').textContent = 'connection lost; retrying…');
}
start();
</script>
</body>
</html>
`;
