'use strict';
// The BatchOps dashboard: plain JavaScript over the REST API and its event stream. Everything the server
// sends is put on the page as text (never as HTML).

const state = { historyOffset: 0, itemsOffset: 0, job: null, samples: [], pageSize: 25 };
const $ = (selector) => document.querySelector(selector);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// The token lives in an HttpOnly cookie that the server set when the page was opened with ?token=…, so no
// script (ours or injected) can read it. Without the cookie, the page asks once and trades what is typed
// for the cookie at /api/session.
async function signIn() {
  const token = window.prompt('This server needs its token: open the URL batchops serve printed, or paste the token.');
  if (!token) return false;
  const response = await fetch('/api/session', { method: 'POST', headers: { Authorization: `Bearer ${token.trim()}` } });
  return response.ok;
}

async function api(path, options = {}, retried = false) {
  const response = await fetch(path, options);
  if (response.status === 401) {
    if (!retried && await signIn()) return api(path, options, true);
    throw new Error('A token is required.');
  }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch { /* not problem+json */ }
    throw new Error(detail);
  }
  return response.status === 204 ? null : response.json();
}

function toast(text) {
  const box = $('#toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

const number = new Intl.NumberFormat();
const fmt = (n) => (n === null || n === undefined ? '' : number.format(n));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const status = (s) => el('span', { class: `status ${s}`, text: s });

function eta(seconds) {
  if (seconds === null || seconds === undefined) return '';
  if (seconds < 90) return `${Math.round(seconds)} s left`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min left`;
  return `${(seconds / 3600).toFixed(1)} h left`;
}

// ---- views ------------------------------------------------------------------------------------------

function show(view) {
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== view;
  for (const link of document.querySelectorAll('[data-nav]')) link.classList.toggle('current', link.dataset.nav === view);
}

async function route() {
  const hash = location.hash || '#/';
  try {
    const job = hash.match(/^#\/jobs\/([^/]+)$/);
    if (job) {
      show('job');
      state.itemsOffset = 0;
      await loadJob(decodeURIComponent(job[1]), true);
    } else if (hash === '#/statistics') {
      show('statistics');
      await loadStatistics();
    } else {
      show('overview');
      await Promise.all([loadHistory(), loadActive()]);
    }
  } catch (error) {
    toast(error.message);
  }
}

async function loadActive() {
  const data = await api('/api/jobs?status=Running&limit=100');
  const box = $('#active');
  box.replaceChildren();
  for (const job of data.jobs) upsertCard({ ...job, percent: job.progress ? job.progress.percent : 0 });
  if (!data.jobs.length) box.append(el('p', { class: 'empty', text: 'No job is running.' }));
}

function upsertCard(job) {
  const box = $('#active');
  box.querySelector('.empty')?.remove();
  let card = box.querySelector(`[data-id="${CSS.escape(job.id)}"]`);
  if (!card) {
    card = el('a', { class: 'card', href: `#/jobs/${encodeURIComponent(job.id)}`, 'data-id': job.id },
      el('div', { class: 'title' }, el('span', { class: 'name' }), el('span', { class: 'pct' })),
      el('div', { class: 'progress' }, el('div')),
      el('div', { class: 'meta' }));
    box.append(card);
  }
  const c = job.counts;
  card.querySelector('.name').textContent = job.name;
  card.querySelector('.pct').textContent = `${job.percent ?? 0}%`;
  card.querySelector('.progress div').style.width = `${job.percent ?? 0}%`;
  const rate = job.itemsPerSecond ? ` · ${fmt(job.itemsPerSecond)} items/s · ${eta(job.etaSeconds)}` : '';
  card.querySelector('.meta').textContent = `${fmt(c.total - c.pending)} of ${fmt(c.total)} · ${fmt(c.failed)} failed${rate}`;
}

function removeCard(id) {
  $(`#active [data-id="${CSS.escape(id)}"]`)?.remove();
  if (!$('#active').children.length) $('#active').append(el('p', { class: 'empty', text: 'No job is running.' }));
}

async function loadHistory() {
  const form = new FormData($('#filters'));
  const query = new URLSearchParams({ limit: state.pageSize, offset: state.historyOffset });
  for (const name of ['status', 'name', 'tag']) if (form.get(name)) query.set(name, form.get(name));
  const data = await api(`/api/jobs?${query}`);
  const rows = data.jobs.map((job) => el('tr', {},
    el('td', {}, el('a', { href: `#/jobs/${encodeURIComponent(job.id)}`, text: job.name })),
    el('td', {}, status(job.status)),
    el('td', { class: 'num', text: fmt(job.counts.total) }),
    el('td', { class: 'num', text: fmt(job.counts.succeeded) }),
    el('td', { class: 'num', text: fmt(job.counts.failed) }),
    el('td', { text: when(job.createdAt) })));
  $('#history tbody').replaceChildren(...rows);
  if (!rows.length) $('#history tbody').append(el('tr', {}, el('td', { colspan: 6, class: 'empty', text: 'No jobs match.' })));
  pager($('#history-pager'), state.historyOffset, data.total, (offset) => { state.historyOffset = offset; loadHistory().catch((e) => toast(e.message)); });
}

function pager(box, offset, total, go) {
  const prev = el('button', { text: 'Previous' });
  const next = el('button', { text: 'Next' });
  prev.disabled = offset === 0;
  next.disabled = offset + state.pageSize >= total;
  prev.onclick = () => go(Math.max(0, offset - state.pageSize));
  next.onclick = () => go(offset + state.pageSize);
  const shown = total === 0 ? '0' : `${fmt(offset + 1)}–${fmt(Math.min(total, offset + state.pageSize))}`;
  box.replaceChildren(el('span', { text: `${shown} of ${fmt(total)}` }), prev, next);
}

async function loadJob(id, fresh) {
  const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
  if (fresh || !state.job || state.job.id !== job.id) state.samples = [];
  state.job = job;
  if (job.status !== 'Running' && state.samples.length < 2 && job.endedAt) {
    // A finished job: charted from its items' recorded end times.
    const chart = await api(`/api/jobs/${encodeURIComponent(job.id)}/throughput`);
    if (state.job?.id === job.id) state.samples = chart.points.map((p) => ({ t: p.t * 1000, rate: p.rate }));
  }
  $('#job-name').textContent = job.name;
  $('#job-meta').replaceChildren(status(job.status), ` ${job.operationKind} · created ${when(job.createdAt)} · ${job.runs} run(s)${job.tags.length ? ' · ' + job.tags.join(', ') : ''}`);
  $('#job-message').hidden = !job.message;
  $('#job-message').textContent = job.message || '';
  // A job that keeps no outputs (KeepOutput) says so, and its succeeded items show "not kept" instead of nothing.
  $('#job-outputs').hidden = !job.outputsNotKept;
  $('#job-outputs').textContent = job.outputsNotKept ? `Outputs: ${job.outputsNotKept}.` : '';
  const c = job.counts;
  const done = c.total ? Math.round((1000 * (c.total - c.pending)) / c.total) / 10 : 0;
  $('#job-bar').style.width = `${done}%`;
  const undone = c.compensated + c.compensationFailed > 0 ? [['Undone', c.compensated], ['Undo failed', c.compensationFailed]] : [];
  $('#job-counts').replaceChildren(...[['Total', c.total], ['Succeeded', c.succeeded], ['Failed', c.failed], ['Skipped', c.skipped], ['Cancelled', c.cancelled], ['Not run', c.pending], ...undone]
    .map(([label, value]) => el('div', { class: 'count' }, el('b', { text: fmt(value) }), el('span', { text: label }))));
  const running = job.status === 'Running';
  $('[data-action="cancel"]').disabled = !(running || job.status === 'Pending');
  $('[data-action="resume"]').disabled = running || c.pending === 0;
  $('[data-action="retry"]').disabled = running || c.failed === 0;
  $('[data-action="undo"]').hidden = !job.canUndo;
  $('[data-action="undo"]').disabled = running || job.status === 'Queued' || (c.succeeded === 0 && c.compensationFailed === 0);
  $('[data-action="delete"]').disabled = running;
  for (const format of ['json', 'csv']) $(`#export-${format}`).href = `/api/jobs/${encodeURIComponent(job.id)}/export?format=${format}`;
  // Who the job tells when it ends, and how each notice went.
  $('#notices-box').hidden = !job.notices;
  $('#notices').replaceChildren(...(job.notices || []).map((line) => el('li', { class: line.includes(': FAILED') ? 'failed' : '', text: line })));
  // A staged job's stages: where each stands, with a bar of its items that have an outcome.
  $('#stages-box').hidden = !job.stages;
  $('#stages tbody').replaceChildren(...(job.stages || []).map((s) => {
    const c = s.counts;
    const done = c.total ? Math.round((100 * (c.total - c.pending)) / c.total) : 0;
    const bar = el('div');
    bar.style.width = `${done}%`;
    return el('tr', { 'data-stage': s.name },
      el('td', { text: s.name }),
      el('td', { text: s.dependsOn.join(', ') }),
      el('td', {}, status(s.status)),
      el('td', { class: 'num', text: fmt(c.total) }),
      el('td', { class: 'num', text: fmt(c.succeeded) }),
      el('td', { class: 'num', text: fmt(c.failed) }),
      el('td', { class: 'num', text: fmt(c.skipped) }),
      el('td', { class: 'num', text: fmt(c.compensated) }),
      el('td', {}, el('div', { class: 'progress', title: `${done}%` }, bar)));
  }));
  document.body.classList.toggle('staged', !!job.stages);
  $('#undo-order').hidden = !job.undoOrder;
  $('#undo-order').textContent = job.undoOrder ? `Undo compensates the stages in this order, each stage's items newest first: ${job.undoOrder.join(' → ')}.` : '';
  drawChart();
  await Promise.all([loadItems(), loadWaiting(job)]);
}

async function loadItems() {
  const job = state.job;
  const form = new FormData($('#item-filters'));
  const query = new URLSearchParams({ limit: state.pageSize, offset: state.itemsOffset });
  if (form.get('status')) query.set('status', form.get('status'));
  const data = await api(`/api/jobs/${encodeURIComponent(job.id)}/items?${query}`);
  const rows = data.items.map((item) => el('tr', {},
    el('td', { class: 'num', text: fmt(item.index) }),
    el('td', { class: 'stage-col', text: item.stage ?? '' }),
    el('td', { text: item.key ?? '' }),
    el('td', { class: 'text input', text: item.inputSummary ?? '' }),
    el('td', {}, status(item.status)),
    el('td', { class: 'num', text: fmt(item.attempts) }),
    el('td', { class: 'num', text: item.durationMs === undefined ? '' : fmt(Math.round(item.durationMs)) }),
    item.error ? el('td', { class: 'text error', text: `${item.error.type}: ${item.error.message}` })
      : item.output == null && item.status === 'Succeeded' && job.outputsNotKept ? el('td', { class: 'text muted', text: 'not kept' })
        : el('td', { class: 'text', text: item.output ?? '' })));
  $('#items tbody').replaceChildren(...rows);
  if (!rows.length) $('#items tbody').append(el('tr', {}, el('td', { colspan: 8, class: 'empty', text: 'No items match.' })));
  pager($('#items-pager'), state.itemsOffset, data.total, (offset) => { state.itemsOffset = offset; loadItems().catch((e) => toast(e.message)); });
}

function drawChart() {
  const canvas = $('#chart');
  const width = canvas.clientWidth || 900;
  canvas.width = width * devicePixelRatio;
  canvas.height = 160 * devicePixelRatio;
  const g = canvas.getContext('2d');
  g.scale(devicePixelRatio, devicePixelRatio);
  g.clearRect(0, 0, width, 160);
  g.fillStyle = '#667085';
  g.font = '12px system-ui, sans-serif';
  const points = state.samples;
  if (points.length < 2) {
    g.fillText(state.job?.status === 'Running' ? 'Waiting for progress…' : 'Too few items ended to chart.', 12, 24);
    return;
  }
  const max = Math.max(...points.map((p) => p.rate), 1);
  const t0 = points[0].t;
  const span = Math.max(points[points.length - 1].t - t0, 1);
  g.strokeStyle = '#2f6fde';
  g.lineWidth = 2;
  g.beginPath();
  points.forEach((p, i) => {
    const x = 10 + ((p.t - t0) / span) * (width - 20);
    const y = 150 - (p.rate / max) * 120;
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
  g.fillText(`${fmt(Math.round(max))} items/s`, 12, 18);
}

async function loadStatistics() {
  const s = await api('/api/statistics');
  const size = (b) => (b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(1)} GB` : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${b} bytes`);
  const tiles = [['Jobs', s.jobs], ['Items', s.items.total], ['Succeeded', s.items.succeeded], ['Failed', s.items.failed], ['Running jobs', s.active.length], ['Items/s', s.itemsPerSecond ? Math.round(s.itemsPerSecond) : null]]
    .map(([label, value]) => el('div', { class: 'count' }, el('b', { text: value === null || value === undefined ? '–' : fmt(value) }), el('span', { text: label })));
  if (s.storeBytes !== undefined) {
    tiles.push(el('div', { class: 'count', id: 'store-size' }, el('b', { text: size(s.storeBytes) }), el('span', { text: s.bytesPerItem ? `Store · ${fmt(Math.round(s.bytesPerItem))} bytes/item` : 'Store' })));
  }
  $('#stats').replaceChildren(...tiles);
  // What the settings file's retention removes next (already due first).
  $('#retention-box').hidden = !s.retention;
  $('#retention tbody').replaceChildren(...(s.retentionNext || []).map((n) => el('tr', { 'data-job': n.id },
    el('td', {}, el('a', { href: `#/jobs/${encodeURIComponent(n.id)}`, text: n.name })),
    el('td', {}, status(n.status)),
    el('td', { text: new Date(n.due) <= new Date() ? 'due now' : when(n.due) }))));
  if (s.retention && !(s.retentionNext || []).length) $('#retention tbody').append(el('tr', {}, el('td', { colspan: 3, class: 'empty', text: 'No ended job is kept by the retention.' })));
  const rows = (map) => Object.entries(map).map(([name, count]) => el('tr', {}, el('td', { text: name }), el('td', { class: 'num', text: fmt(count) })));
  $('#by-status tbody').replaceChildren(...rows(s.byStatus));
  $('#by-tag tbody').replaceChildren(...rows(s.byTag));
  await loadWorkers();
}

// The workers of a shared (PostgreSQL) store, on every host; a store on one machine has none.
async function loadWorkers() {
  const data = await api('/api/workers');
  $('#workers-box').hidden = !data.shared;
  if (!data.shared) return;
  const rows = data.workers.map((w) => el('tr', { 'data-worker': w.name },
    el('td', { text: w.name }),
    el('td', { text: `${w.host} (${w.processId})` }),
    el('td', {}, status(w.state)),
    el('td', { class: 'num', text: fmt(w.chunksHeld) }),
    el('td', { class: 'num', text: fmt(w.chunksRecorded) }),
    el('td', { text: when(w.seenAt) }),
    el('td', {}, ...w.jobs.map((id) => el('a', { href: `#/jobs/${encodeURIComponent(id)}`, text: id })))));
  $('#workers tbody').replaceChildren(...rows);
  if (!rows.length) $('#workers tbody').append(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: 'No worker is running: start one with batchops worker or Start-BatchWorker.' })));
  // Queued jobs that none of them takes: chunks of a kind no running worker runs, or a rollback none can run.
  $('#waiting').hidden = !data.waiting.length;
  $('#waiting').replaceChildren(...data.waiting.map((w) => el('li', { 'data-job': w.jobId },
    el('a', { href: `#/jobs/${encodeURIComponent(w.jobId)}`, text: w.jobName }), ` waits: ${w.message}`)));
}

// What a queued job waits for when no running worker takes it; nothing for other jobs.
async function loadWaiting(job) {
  const box = $('#job-waiting');
  const data = job.status === 'Queued' || job.status === 'Running' ? await api(`/api/jobs/${encodeURIComponent(job.id)}/waiting`) : { waiting: [] };
  if (state.job?.id !== job.id) return;
  box.hidden = !data.waiting.length;
  box.textContent = data.waiting.map((w) => w.message).join(' ');
}

// ---- actions ----------------------------------------------------------------------------------------

async function act(action) {
  const job = state.job;
  if (!job) return;
  const path = `/api/jobs/${encodeURIComponent(job.id)}`;
  try {
    if (action === 'delete') {
      if (!window.confirm(`Delete job '${job.name}' with all its items and history?`)) return;
      await api(path, { method: 'DELETE' });
      toast(`Deleted '${job.name}'.`);
      location.hash = '#/';
      return;
    }
    if (action === 'undo') {
      const c = job.counts;
      if (!window.confirm(`Undo job '${job.name}': compensate its ${c.succeeded} succeeded item(s) with its undo operation, newest first?`)) return;
    }
    const body = action === 'retry' ? { items: null } : action === 'cancel' ? { force: false } : undefined;
    await api(`${path}/${action}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    toast(action === 'cancel' ? 'Stop requested.' : action === 'undo' ? 'Undo started.' : 'Started.');
    setTimeout(() => loadJob(job.id, false).catch((e) => toast(e.message)), 600);
  } catch (error) {
    toast(error.message);
  }
}


// ---- live events (a streamed fetch; the token cookie goes with it) ------------------------------------

async function listen() {
  try {
    const response = await fetch('/api/events');
    if (!response.ok) throw new Error(`events: ${response.status}`);
    $('#live').textContent = 'live';
    $('#live').classList.add('on');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch {
    // reconnect below
  }
  $('#live').textContent = 'offline';
  $('#live').classList.remove('on');
  setTimeout(listen, 2000);
}

function dispatch(block) {
  let name = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) name = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (!data) return;
  const event = JSON.parse(data);
  if (name === 'progress') {
    upsertCard(event);
    // The history's counts follow too, at most every two seconds.
    if (!$('#overview').hidden && Date.now() - (state.historyAt || 0) > 2000) {
      state.historyAt = Date.now();
      loadHistory().catch(() => {});
    }
    if (state.job && state.job.id === event.id) {
      if (event.itemsPerSecond !== null && event.itemsPerSecond !== undefined) state.samples.push({ t: Date.now(), rate: event.itemsPerSecond });
      loadJob(event.id, false).catch(() => {});
    }
  } else if (name === 'status') {
    if (event.status === 'Running') upsertCard({ ...event, percent: event.progress ? event.progress.percent : 0 });
    else removeCard(event.id);
    if (!$('#overview').hidden) loadHistory().catch(() => {});
    if (state.job && state.job.id === event.id && !$('#job').hidden) loadJob(event.id, false).catch(() => {});
  } else if (name === 'removed') {
    removeCard(event.id);
  }
}

// ---- wiring -----------------------------------------------------------------------------------------

$('#filters').addEventListener('submit', (event) => { event.preventDefault(); state.historyOffset = 0; loadHistory().catch((e) => toast(e.message)); });
$('#item-filters').addEventListener('change', () => { state.itemsOffset = 0; loadItems().catch((e) => toast(e.message)); });
for (const button of document.querySelectorAll('[data-action]')) button.addEventListener('click', () => act(button.dataset.action));
window.addEventListener('hashchange', route);
window.addEventListener('resize', drawChart);
route();
listen();
