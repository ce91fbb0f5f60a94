// The inspector page: one HTML document with its style and script inline (no
// CDN, nothing fetched from elsewhere). It reads the charts once (/charts),
// then follows the live picture (/events, Server-Sent Events) and draws each
// statechart as nested boxes, the active states lit.
export const INSPECTOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>corral inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d2433; background: #f6f7f9; }
  body { margin: 0; padding: 16px 20px; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 18px 0 8px; }
  .meta { color: #5b6475; margin-bottom: 8px; }
  .layout { display: grid; grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); gap: 16px; }
  .panel { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 12px; }
  .state { border: 1px solid #c5cbd6; border-radius: 6px; padding: 3px 6px; margin: 3px; display: inline-block; vertical-align: top; background: #fff; }
  .state > .name { font-size: 12px; color: #5b6475; }
  .state.active { border-color: #1f7a4d; background: #e6f6ed; }
  .state.active > .name { color: #1f7a4d; font-weight: 600; }
  .state.final.active { border-color: #b42318; background: #fde8e6; }
  .state.final.active > .name { color: #b42318; }
  .children { display: block; }
  .workers { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; }
  .worker { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 8px; }
  .worker[data-gone] { opacity: 0.55; }
  .worker header { display: flex; justify-content: space-between; font-weight: 600; }
  .counters { color: #5b6475; font-size: 12px; margin: 2px 0 4px; }
  #log { font: 12px/1.5 ui-monospace, monospace; max-height: 420px; overflow-y: auto; margin: 0; padding: 0; list-style: none; }
  #log time { color: #8a93a5; margin-right: 6px; }
  #status { font-size: 12px; color: #8a93a5; }
  svg { display: block; }
</style>
</head>
<body>
<h1>corral inspector</h1>
<div class="meta" id="meta">connecting…</div>
<div class="layout">
  <div>
    <div class="panel"><h2 style="margin-top:0">Arbiter</h2><div id="arbiter"></div></div>
    <h2>Workers</h2>
    <div class="workers" id="workers"></div>
  </div>
  <div>
    <div class="panel">
      <h2 style="margin-top:0">Requests per second</h2>
      <svg id="rps" width="100%" height="80" viewBox="0 0 300 80" preserveAspectRatio="none"></svg>
      <div class="counters" id="rate"></div>
    </div>
    <div class="panel" style="margin-top:16px">
      <h2 style="margin-top:0">Events</h2>
      <ul id="log"></ul>
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

function drawState(state, active) {
  const on = active.has(state.path);
  const classes = ['state', on ? 'active' : '', state.final ? 'final' : ''].join(' ');
  const children = state.children.map((child) => drawState(child, active)).join('');
  return '<div class="' + classes + '" data-path="' + escape(state.path) + '"><div class="name">' + escape(state.key) + '</div>' +
    (children ? '<div class="children">' + children + '</div>' : '') + '</div>';
}
const drawChart = (chart, value) => {
  const active = new Set(activePaths(value, ''));
  return chart.root.children.map((child) => drawState(child, active)).join('');
};

let charts;
const rates = [];
let last;

function update(picture) {
  const arbiterState = stateText(picture.arbiter.value);
  document.getElementById('meta').textContent = 'arbiter ' + arbiterState + ' · generation ' + picture.arbiter.generation +
    ' · ' + picture.arbiter.workers + ' worker(s) wanted · ' + (picture.arbiter.listeners.join(', ') || 'not listening yet');
  const arbiter = document.getElementById('arbiter');
  arbiter.dataset.state = arbiterState;
  arbiter.innerHTML = drawChart(charts.arbiter, picture.arbiter.value);

  document.getElementById('workers').innerHTML = picture.workers.map((w) => {
    const state = stateText(w.value);
    return '<div class="worker" data-id="' + escape(w.id) + '" data-pid="' + (w.pid ?? '') + '" data-state="' + escape(state) + '"' + (w.gone ? ' data-gone' : '') + '>' +
      '<header><span>' + escape(w.id) + ' · pid ' + (w.pid ?? '–') + '</span><span>' + escape(state) + '</span></header>' +
      '<div class="counters">served ' + w.served + ' · in flight ' + w.inFlight + ' · lag ' + w.lagMs.toFixed(1) + ' ms · ' +
      (w.rss ? (w.rss / 1048576).toFixed(1) + ' MB' : '–') + '</div>' + drawChart(charts.workerHandle, w.value) + '</div>';
  }).join('');

  document.getElementById('log').innerHTML = picture.log.slice().reverse().map((line) =>
    '<li><time>' + new Date(line.at).toLocaleTimeString() + '</time>' + escape(line.text) + '</li>').join('');

  if (last && picture.at > last.at) {
    rates.push({ at: picture.at, rate: Math.max(0, (picture.served - last.served) * 1000 / (picture.at - last.at)) });
    while (rates.length && rates[0].at < picture.at - 60000) rates.shift();
  }
  last = picture;
  drawRates();
}

function drawRates() {
  const svg = document.getElementById('rps');
  const top = Math.max(1, ...rates.map((r) => r.rate));
  const now = Date.now();
  const points = rates.map((r) => ((60000 - (now - r.at)) / 200).toFixed(1) + ',' + (78 - (r.rate / top) * 74).toFixed(1)).join(' ');
  svg.innerHTML = '<polyline fill="none" stroke="#1f7a4d" stroke-width="1.5" points="' + points + '"/>';
  const current = rates.length ? rates[rates.length - 1].rate : 0;
  document.getElementById('rate').textContent = current.toFixed(0) + ' req/s now · peak ' + top.toFixed(0) + ' over the last minute';
}

async function start() {
  charts = await (await fetch('charts' + query)).json();
  const events = new EventSource('events' + query);
  events.onmessage = (message) => update(JSON.parse(message.data));
  events.onopen = () => (document.getElementById('status').textContent = 'live');
  events.onerror = () => (document.getElementById('status').textContent = 'connection lost; retrying…');
  // Keep the chart moving when nothing changes.
  setInterval(() => last && update({ ...last, at: Date.now() }), 1000);
}
start();
</script>
</body>
</html>
`;
