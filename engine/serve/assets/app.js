// ergon's dashboard: one page, hash routes, plain DOM and SVG.
//
// Everything shown that came from a candidate or an agent (source, intent,
// errors, feedback) enters the page as a text node or an attribute value set
// through the DOM, never as markup: `el` below is the only way elements are
// made, and nothing here assigns innerHTML.
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
let pollTimer = null;  // the progress view's refresh; cleared on every route change

// el('a', {href: '#/x', class: 'y'}, 'text', child, ...)
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  setAttrs(e, attrs);
  for (const c of children.flat()) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
}

async function api(path) {
  const r = await fetch(path, {headers: {Accept: 'application/json'}});
  const body = await r.json().catch(() => ({error: 'bad JSON from ' + path}));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// Numbers as people read them.
function fmtNum(v, digits = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-2 || a >= 1e6)) return v.toExponential(digits - 1);
  if (Number.isInteger(v)) return v.toLocaleString('en');
  return v.toFixed(digits);
}
// A tick's value: a round number shows no trailing zeros (0.5, 2,000, 1e-6).
function fmtTick(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return Number(v.toPrecision(3)).toExponential();
  return Number(v.toPrecision(6)).toLocaleString('en', {maximumFractionDigits: 6});
}
function fmtTime(t) { return t ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) : '-'; }
function fmtUsd(v) { return '$' + (v || 0).toFixed(v >= 100 ? 0 : 4); }
function pill(text) { return el('span', {class: 'pill ' + text}, text); }
function candLink(id) { return el('a', {href: '#/candidate/' + id}, '#' + id); }
function shortText(s, n) { s = String(s || '').replace(/\s+/g, ' '); return s.length > n ? s.slice(0, n - 1) + '…' : s; }

function table(headers, rows) {
  return el('table', {},
    el('thead', {}, el('tr', {}, headers.map(h => el('th', {class: h.num ? 'num' : null}, h.label || h)))),
    el('tbody', {}, rows.map(r => el('tr', {}, r.map((c, i) =>
      el('td', {class: headers[i] && headers[i].num ? 'num' : null}, c))))));
}

// ---- charts --------------------------------------------------------------

// A linear or log scale from [lo, hi] to [a, b].
function scale(lo, hi, a, b, log) {
  if (log) { lo = Math.log10(lo); hi = Math.log10(hi); }
  if (hi === lo) { hi = lo + 1; lo = lo - 1; }
  const f = v => a + ((log ? Math.log10(v) : v) - lo) / (hi - lo) * (b - a);
  f.ticks = n => log ? logTicks(Math.pow(10, lo), Math.pow(10, hi)) : niceTicks(lo, hi, n);
  return f;
}

// About n ticks at round numbers (1, 2 or 5 times a power of ten).
function niceTicks(lo, hi, n) {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [lo];
  const raw = span / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(k => k * mag).find(s => s >= raw * 0.999);
  const out = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}
// Powers of ten, with 2 and 5 between them when the range spans few decades.
function logTicks(lo, hi) {
  const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi)), out = [];
  for (let e = a; e <= b; e++)
    for (const k of (b - a <= 2 ? [1, 2, 5] : [1])) {
      const v = Number((k * Math.pow(10, e)).toPrecision(12));
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  return out.length >= 2 ? out : niceTicks(lo, hi, 4);
}
function extent(vals) {
  let lo = Infinity, hi = -Infinity;
  for (const v of vals) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return lo === Infinity ? [0, 1] : [lo, hi];
}
// A chart frame: axes, ticks, labels. Returns {root, x, y, plot}.
function frame(w, h, xr, yr, xlabel, ylabel, ylog, xfmt) {
  const m = {l: 70, r: 16, t: 12, b: 38};
  const x = scale(xr[0], xr[1], m.l, w - m.r, false);
  const y = scale(yr[0], yr[1], h - m.b, m.t, ylog);
  const root = svg('svg', {class: 'chart', width: w, height: h, viewBox: `0 0 ${w} ${h}`});
  for (const t of y.ticks(4)) {
    root.append(svg('line', {class: 'grid', x1: m.l, x2: w - m.r, y1: y(t), y2: y(t)}));
    root.append(svg('text', {x: m.l - 6, y: y(t) + 4, 'text-anchor': 'end'}, fmtTick(t)));
  }
  for (const t of x.ticks(5))
    root.append(svg('text', {x: x(t), y: h - m.b + 16, 'text-anchor': 'middle'}, (xfmt || fmtNum)(t)));
  root.append(svg('line', {class: 'axis', x1: m.l, x2: w - m.r, y1: h - m.b, y2: h - m.b}));
  root.append(svg('line', {class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: h - m.b}));
  root.append(svg('text', {x: (m.l + w - m.r) / 2, y: h - 4, 'text-anchor': 'middle'}, xlabel));
  root.append(svg('text', {x: 12, y: m.t + 8}, ylabel));
  const plot = svg('g', {});
  root.append(plot);
  return {root, x, y, plot, m, w, h};
}

// ---- views -----------------------------------------------------------------

// A task chooser that opens `view` for the task chosen.
function taskPicker(tasks, task, view) {
  return el('select', {id: 'task-select', onchange: e => { location.hash = `#/${view}/` + encodeURIComponent(e.target.value); }},
    tasks.map(t => { const o = el('option', {value: t.name}, t.name); if (t.name === task) o.selected = true; return o; }));
}

const views = {};

views.runs = async (main) => {
  const runs = await api('/api/runs');
  main.append(el('h1', {}, 'Runs'));
  if (!runs.length) { main.append(el('p', {class: 'muted'}, 'No runs in this archive yet.')); return; }
  main.append(table(
    ['run', 'task', 'agent', 'model', 'state', {label: 'candidates', num: 1}, {label: 'passed the gate', num: 1},
     'best', {label: 'vs baseline', num: 1}, {label: 'spend', num: 1}, {label: 'per hour', num: 1}, 'started'],
    runs.slice().reverse().map(r => {
      const s = r.stats || {};
      return [el('a', {href: '#/run/' + r.id, class: 'run-link'}, 'run ' + r.id),
        el('a', {href: '#/front/' + encodeURIComponent(r.task)}, r.task), r.agent, r.model, pill(s.state || r.status),
        fmtNum(s.candidates), (100 * (s.passed_gate_share || 0)).toFixed(0) + '%',
        s.best ? el('span', {}, candLink(s.best.id), ' ', s.metric + ' ' + fmtNum(s.best.value)) : '-',
        s.best_vs_baseline ? fmtNum(s.best_vs_baseline, 3) + 'x' : '-',
        fmtUsd(s.cost_usd), fmtNum(s.per_hour, 3), fmtTime(r.started_at)];
    })));
};

views.run = async (main, id) => {
  // One call draws the page (the run comes with its progress); then polls.
  const first = await api(`/api/runs/${encodeURIComponent(id)}/progress`);
  const run = first.run_info;
  const state = {points: [], best: [], last: 0, total: 0, metric: '', bestValue: null};
  const head = el('h1', {}, `Run ${run.id}: ${run.task}`);
  const cards = el('div', {class: 'cards'});
  const chartBox = el('div', {});
  const legend = el('p', {class: 'legend'},
    el('span', {}, el('i', {class: 'lg-valid'}), 'passed the gate'),
    el('span', {}, el('i', {class: 'lg-invalid'}), 'failed the gate or did not run'),
    el('span', {}, el('i', {class: 'lg-confirmed'}), 'adjudicated: held'),
    el('span', {}, el('i', {class: 'lg-rejected'}), 'adjudicated: overfit'),
    el('span', {}, '— best so far'));
  const hover = el('p', {id: 'hover'});
  main.append(head, cards, chartBox, legend, hover,
    el('p', {}, el('a', {href: '#/lineage'}, 'lineage of the best'), ' · ',
      el('a', {href: '#/front/' + encodeURIComponent(run.task)}, 'front of ' + run.task)));
  const counts = () => {
    const v = state.points.filter(p => p.k === 'passed_gate').length;
    return {passed: v, failed: state.points.filter(p => p.k === 'failed_gate' || p.k === 'did_not_run').length};
  };
  const draw = () => {
    const c = counts();
    const bestPt = state.best[state.best.length - 1];
    cards.replaceChildren(
      el('div', {class: 'card'}, 'evaluations', el('b', {id: 'eval-count'}, String(state.total))),
      el('div', {class: 'card'}, 'shown: passed the gate / failed it or did not run', el('b', {}, `${c.passed} / ${c.failed}`)),
      el('div', {class: 'card'}, 'best ' + state.metric,
        el('b', {id: 'best-value'}, bestPt ? fmtNum(bestPt.v) : '-'), bestPt ? candLink(bestPt.c) : ''),
      el('div', {class: 'card'}, 'state', el('b', {}, run.status === 'running' ? 'running (updates live)' : run.status)));
    const pts = state.points;
    chartBox.dataset.points = String(state.total);
    if (!pts.length) { chartBox.replaceChildren(el('p', {class: 'muted'}, 'No evaluations yet.')); return; }
    const t0 = Math.min(run.started_at || pts[0].t, pts[0].t);
    const xs = pts.map(p => (p.t - t0) / 60);
    const vals = pts.map(p => p.v).filter(v => v !== null && v > 0);
    const [lo, hi] = extent(vals);
    const log = lo > 0 && hi / lo > 50;
    const f = frame(Math.min(1200, window.innerWidth - 60), 380, extent(xs.concat([0])), [lo, hi],
                    'minutes since the run started', state.metric + (log ? ' (log)' : ''), log);
    pts.forEach((p, i) => {
      const v = p.v === null || (log && p.v <= 0) ? hi : p.v;
      const cx = f.x(xs[i]), cy = f.y(v);
      const words = {passed_gate: 'passed the gate', failed_gate: 'failed the gate', did_not_run: 'did not run',
                     confirmed: 'adjudicated: held', rejected: 'adjudicated: overfit'}[p.k] || p.k;
      const tip = `#${p.c} ${words} ${state.metric} ${fmtNum(p.v)} at ${fmtTime(p.t)}`;
      const shape = p.k === 'confirmed' || p.k === 'rejected'
        ? svg('rect', {class: 'pt pt-' + p.k, x: cx - 5, y: cy - 5, width: 10, height: 10}, svg('title', {}, tip))
        : svg('circle', {class: p.k === 'passed_gate' ? 'pt-valid' : 'pt-invalid', cx, cy, r: p.k === 'passed_gate' ? 4 : 3},
              svg('title', {}, tip));
      shape.addEventListener('mouseenter', () => { hover.textContent = tip; });
      shape.addEventListener('click', () => { location.hash = '#/candidate/' + p.c; });
      f.plot.append(shape);
    });
    if (state.best.length) {
      let d = '';
      state.best.forEach((b, i) => {
        const x = f.x((b.t - t0) / 60), y = f.y(b.v);
        d += i === 0 ? `M${x},${y}` : `H${x}V${y}`;
      });
      d += `H${f.w - f.m.r}`;
      f.plot.append(svg('path', {class: 'best-line', d}));
    }
    chartBox.replaceChildren(f.root);
  };
  const pull = async (given) => {
    const p = given || await api(`/api/runs/${id}/progress?after=${state.last}`);
    state.metric = p.metric;
    state.total += p.total;
    state.last = p.last;
    for (const q of p.points) state.points.push(q);
    for (const b of p.best)
      if (state.bestValue === null || b.v < state.bestValue) { state.best.push(b); state.bestValue = b.v; }
    if (p.total || !state.drawn) { state.drawn = true; draw(); }
    run.status = p.status;
  };
  await pull(first);
  // New evaluations appear without a reload while the run writes.
  pollTimer = setInterval(() => pull().catch(e => setStatus('update failed: ' + e.message)), 2000);
};

views.front = async (main, taskArg) => {
  const tasks = await api('/api/tasks');
  main.append(el('h1', {}, 'Front'));
  if (!tasks.length) { main.append(el('p', {class: 'muted'}, 'No tasks in this archive yet.')); return; }
  const task = taskArg || tasks[0].name;
  main.append(el('p', {}, 'task ', taskPicker(tasks, task, 'front')));
  const s = await api('/api/scatter?task=' + encodeURIComponent(task));
  const front = await api('/api/pareto?task=' + encodeURIComponent(task));
  const pts = s.points.filter(p => p.x !== null && p.y !== null);
  const hover = el('p', {id: 'hover'}, 'hover a point; click opens the candidate');
  if (!pts.length) { main.append(el('p', {class: 'muted'}, 'No measured candidates for ' + task + '.')); return; }
  const ys = pts.map(p => p.y).filter(v => v > 0);
  const [ylo, yhi] = extent(ys);
  const log = ylo > 0 && yhi / ylo > 50;
  const xr = extent(pts.map(p => p.x).concat(s.spec.bands || []));
  const f = frame(Math.min(1100, window.innerWidth - 60), 420, xr, [ylo, yhi], s.x_metric + ' (gate)',
                  s.y_metric + (log ? ' (log)' : '') + ' — lower is better', log);
  for (const b of s.spec.bands || []) {
    f.plot.append(svg('line', {class: 'band', x1: f.x(b), x2: f.x(b), y1: f.m.t, y2: f.h - f.m.b}));
    f.plot.append(svg('text', {x: f.x(b) + 3, y: f.m.t + 10}, 'band ' + b));
  }
  const onFront = pts.filter(p => p.front).sort((a, b) => a.x - b.x);
  if (onFront.length > 1) {
    let d = '';
    onFront.forEach((p, i) => { d += (i ? 'L' : 'M') + f.x(p.x) + ',' + f.y(p.y); });
    f.plot.append(svg('path', {class: 'front-line', d}));
  }
  for (const p of pts.sort((a, b) => a.front - b.front)) {
    const tip = `#${p.id} ${s.x_metric} ${fmtNum(p.x)} ${s.y_metric} ${fmtNum(p.y)} (${p.status}${p.front ? ', on the front' : ''})`;
    const c = svg('circle', {class: p.front ? 'pt-front' : p.gate ? 'pt-valid' : 'pt-other', cx: f.x(p.x),
                             cy: f.y(p.y > 0 || !log ? p.y : ylo), r: p.front ? 6 : 3.5, 'data-id': p.id},
                  svg('title', {}, tip));
    c.addEventListener('mouseenter', () => { hover.textContent = tip; });
    c.addEventListener('click', () => { location.hash = '#/candidate/' + p.id; });
    f.plot.append(c);
  }
  main.append(f.root, hover, el('p', {class: 'muted'}, `${s.points.length} candidates drawn; `,
    `gate: ${s.spec.gate_metric} ≥ ${s.spec.gate_min}`));
  main.append(el('h2', {}, 'On the front'), table(['candidate', s.x_metric, s.y_metric, 'intent'],
    front.map(r => [candLink(r.id), fmtNum(r[s.x_metric]), fmtNum(r[s.y_metric]), shortText(r.intent, 90)])));
};

// The phylogeny: every candidate in the order it was evaluated (x) against
// its value (y, log when it spans more than 10x), an edge from each parent,
// colour by idea, shape by model, the record line on top, and the ideas that
// made each record. Drawn on a canvas (10,000 nodes stay fast), axes and the
// record line in SVG above it; a click picks the nearest node.
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22',
                 '#7f7f7f'];
views.phylogeny = async (main, taskArg) => {
  const tasks = await api('/api/tasks');
  main.append(el('h1', {}, 'Phylogeny'));
  if (!tasks.length) { main.append(el('p', {class: 'muted'}, 'No tasks in this archive yet.')); return; }
  const task = taskArg || tasks[0].name;
  main.append(el('p', {}, 'task ', taskPicker(tasks, task, 'phylogeny')));
  const p = await api('/api/phylogeny?task=' + encodeURIComponent(task));
  const nodes = p.nodes.map((r, i) => ({id: r[0], parent: r[1], v: r[2], gate: r[3], idea: r[4], model: r[5],
                                         record: r[6], i}));
  const measured = nodes.filter(n => n.v !== null && n.v > 0);
  if (!measured.length) { main.append(el('p', {class: 'muted'}, 'No measured candidates for ' + task + '.')); return; }
  const [ylo, yhi] = extent(measured.map(n => n.v));
  const log = yhi / ylo > 10;
  const w = Math.min(1100, window.innerWidth - 60), h = 440;
  const f = frame(w, h, [0, Math.max(1, nodes.length - 1)], [ylo, yhi], 'order of evaluation',
                  p.metric + (log ? ' (log)' : '') + ' — lower is better', log, v => fmtNum(Math.round(v)));
  // The ideas by how many candidates carry each: the ten commonest coloured.
  const counts = new Map();
  for (const n of nodes) counts.set(n.idea, (counts.get(n.idea) || 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const colour = new Map(ranked.slice(0, PALETTE.length - 1).map(([k], i) => [k, PALETTE[i]]));
  const colourOf = n => colour.get(n.idea) || PALETTE[PALETTE.length - 1];
  const canvas = el('canvas', {id: 'phylo', width: w, height: h, 'data-nodes': nodes.length});
  const ctx = canvas.getContext('2d');
  const at = new Map();
  for (const n of nodes) if (n.v !== null && n.v > 0) at.set(n.id, [f.x(n.i), f.y(n.v)]);
  ctx.strokeStyle = 'rgba(120,120,120,0.25)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const n of nodes) {
    const a = at.get(n.parent), b = at.get(n.id);
    if (a && b) { ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); }
  }
  ctx.stroke();
  const shapes = ['circle', 'square', 'triangle', 'diamond'];
  const r = nodes.length > 2000 ? 2 : 3.5;
  for (const n of nodes) {
    const q = at.get(n.id);
    if (!q) continue;
    ctx.fillStyle = colourOf(n);
    ctx.globalAlpha = n.gate ? 0.9 : 0.3;
    const shape = shapes[n.model % shapes.length];
    ctx.beginPath();
    if (shape === 'circle') ctx.arc(q[0], q[1], r, 0, 2 * Math.PI);
    else if (shape === 'square') ctx.rect(q[0] - r, q[1] - r, 2 * r, 2 * r);
    else if (shape === 'triangle') { ctx.moveTo(q[0], q[1] - r - 1); ctx.lineTo(q[0] + r + 1, q[1] + r); ctx.lineTo(q[0] - r - 1, q[1] + r); }
    else { ctx.moveTo(q[0], q[1] - r - 1); ctx.lineTo(q[0] + r + 1, q[1]); ctx.lineTo(q[0], q[1] + r + 1); ctx.lineTo(q[0] - r - 1, q[1]); }
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  // The record line: the best so far, a step at each record.
  const recs = nodes.filter(n => n.record);
  if (recs.length) {
    let d = '';
    recs.forEach((n, k) => {
      const [x, y] = at.get(n.id);
      d += k ? `H${x}V${y}` : `M${x},${y}`;
    });
    d += `H${f.x(nodes.length - 1)}`;
    f.plot.append(svg('path', {class: 'record-line', d}));
  }
  const hover = el('p', {id: 'hover'}, 'click a node to open its candidate');
  const nearest = e => {
    const box = canvas.getBoundingClientRect();
    const x = (e.clientX - box.left) * w / box.width, y = (e.clientY - box.top) * h / box.height;
    let best = null, bd = 64;
    for (const [id, q] of at) {
      const dd = (q[0] - x) ** 2 + (q[1] - y) ** 2;
      if (dd < bd) { bd = dd; best = id; }
    }
    return best;
  };
  f.root.classList.add('overlay');
  f.root.addEventListener('click', e => { const id = nearest(e); if (id !== null) location.hash = '#/candidate/' + id; });
  f.root.addEventListener('mousemove', e => {
    const id = nearest(e);
    if (id === null) return;
    const n = nodes.find(m => m.id === id);
    hover.textContent = `#${id} ${p.metric} ${fmtNum(n.v)} · ${p.ideas[n.idea] || '(no idea label)'} · ${p.models[n.model] || 'no agent call'}`;
  });
  // Sizes and colours through the CSSOM: the page's policy refuses inline styles.
  const layered = el('div', {class: 'layered'}, canvas, f.root);
  layered.style.width = w + 'px';
  layered.style.height = h + 'px';
  main.append(layered, hover);
  main.append(el('ul', {id: 'ideas-legend', class: 'legend'}, ranked.slice(0, PALETTE.length).map(([k, c], i) => {
    const swatch = el('span', {class: 'swatch'});
    swatch.style.background = i < PALETTE.length - 1 ? colour.get(k) : PALETTE[PALETTE.length - 1];
    const others = ranked.slice(PALETTE.length - 1).reduce((sum, e) => sum + e[1], 0);
    return el('li', {}, swatch, i < PALETTE.length - 1 ? (p.ideas[k] || '(no idea label)') : 'other ideas',
              ` (${i < PALETTE.length - 1 ? c : others})`);
  })));
  main.append(el('p', {class: 'muted', id: 'models-legend'}, 'shape by model: ',
    p.models.map((m, i) => `${shapes[i % shapes.length]} ${m || 'no agent call'}`).join(', ')));
  main.append(el('h2', {}, 'The ideas that made each record'), table(
    ['candidate', 'idea', 'model', {label: p.metric, num: 1}, {label: 'the record before', num: 1}, 'change'],
    recs.map(n => {
      const rec = p.records.find(q => q.id === n.id);
      return [candLink(n.id), p.ideas[n.idea] || '(no idea label)', p.models[n.model] || '-', fmtNum(n.v),
              rec.previous === null ? '-' : fmtNum(rec.previous),
              el('a', {href: '#/candidate/' + n.id}, 'diff against its parent')];
    })));
};

// Studies (`ergon study`): the list, and one study's anytime curves, each
// arm's median over seeds with its quartile band, on one chart.
views.studies = async (main) => {
  const list = await api('/api/studies');
  main.append(el('h1', {}, 'Studies'));
  if (!list.length) {
    main.append(el('p', {class: 'muted'}, 'No studies in this archive: `ergon study --task T` makes one.'));
    return;
  }
  main.append(table(['study', 'task', 'arms', {label: 'runs', num: 1}], list.map(s => [
    el('a', {href: '#/study/' + encodeURIComponent(s.task) + '/' + encodeURIComponent(s.name), class: 'study-link'}, s.name),
    s.task, s.arms.join(', '), fmtNum(s.runs)])));
};

views.study = async (main, arg) => {
  const cut = arg.indexOf('/');
  const task = arg.slice(0, cut), name = arg.slice(cut + 1);
  const s = await api('/api/study?task=' + encodeURIComponent(task) + '&name=' + encodeURIComponent(name));
  main.append(el('h1', {}, `Study ${name} on ${task}`));
  const longest = Math.max(1, ...s.arms.map(a => a.curve.length));
  const vals = [];  // the curves alone: the baseline would flatten them
  for (const a of s.arms) for (const c of a.curve) vals.push(c.q1, c.q3);
  const pos = vals.filter(v => v > 0);
  const [lo, hi] = extent(vals);
  const log = pos.length === vals.length && hi / lo > 10;
  const f = frame(Math.min(1000, window.innerWidth - 60), 380, [1, Math.max(2, longest)], [lo, hi],
                  'candidates evaluated', `best ${s.metric} so far${log ? ' (log)' : ''} — median and quartiles over seeds`,
                  log, v => fmtNum(Math.round(v)));
  s.arms.forEach((a, i) => {
    if (!a.curve.length) return;
    const colour = PALETTE[i % PALETTE.length];
    let band = '', top = '';
    a.curve.forEach((c, k) => { band += (k ? 'L' : 'M') + f.x(c.k) + ',' + f.y(c.q3); });
    for (let k = a.curve.length - 1; k >= 0; k--) band += 'L' + f.x(a.curve[k].k) + ',' + f.y(a.curve[k].q1);
    a.curve.forEach((c, k) => { top += (k ? 'L' : 'M') + f.x(c.k) + ',' + f.y(c.median); });
    const b = svg('path', {class: 'arm-band', d: band + 'Z'});
    b.style.fill = colour;
    const m = svg('path', {class: 'arm-median', d: top}, svg('title', {}, a.arm));
    m.style.stroke = colour;
    f.plot.append(b, m);
  });
  main.append(f.root);
  main.append(el('ul', {class: 'legend', id: 'arms-legend'}, s.arms.map((a, i) => {
    const sw = el('span', {class: 'swatch'});
    sw.style.background = PALETTE[i % PALETTE.length];
    return el('li', {}, sw, `${a.arm} (${a.runs.length} runs)`);
  })));
  main.append(el('h2', {}, 'Final best over seeds'), table(
    ['arm', {label: 'runs', num: 1}, {label: 'median', num: 1}, {label: 'q1', num: 1}, {label: 'q3', num: 1}],
    s.arms.map(a => [a.arm, fmtNum(a.runs.length), fmtNum(a.final.median), fmtNum(a.final.q1), fmtNum(a.final.q3)])));
  main.append(el('h2', {}, 'Rank tests (Mann-Whitney U, two-sided)'), table(
    ['arms', {label: 'U', num: 1}, {label: 'p', num: 1}, 'verdict'],
    s.comparisons.map(c => [`${c.a} vs ${c.b}`, fmtNum(c.u), c.p.toFixed(4),
      c.p < 0.05 ? `${c.a_lower ? c.a : c.b} is lower` : 'no difference at p < 0.05'])));
};

// Colour of a value against the baseline's: green when lower, red when higher.
function fitnessColor(v, base) {
  if (v === null || v === undefined || !base) return '#bdc3c7';
  // 10x cheaper is full green, 10x dearer full red.
  const r = Math.max(-1, Math.min(1, Math.log10(v / base)));
  const hue = 60 - r * 60;
  return `hsl(${hue.toFixed(0)}, 60%, 45%)`;
}

views.lineage = async (main, idArg) => {
  let target = idArg;
  if (!target) {
    const runs = await api('/api/runs');
    const withBest = runs.filter(r => r.stats && r.stats.best);
    if (!withBest.length) { main.append(el('h1', {}, 'Lineage'), el('p', {class: 'muted'}, 'No candidate passed its gate yet.')); return; }
    target = String(withBest[withBest.length - 1].stats.best.id);
  }
  const lin = await api('/api/lineage/' + target);
  const root = lin[lin.length - 1];
  const metricOf = r => r.metrics ? (r.metrics.energy_j ?? r.metrics.cost ?? r.metrics.wall_s ?? null) : null;
  const metricName = r => r.metrics ? (r.metrics.energy_j !== undefined ? 'energy_j' : r.metrics.cost !== undefined ? 'cost' : 'wall_s') : '';
  const base = metricOf(root);
  const path = new Set(lin.map(r => String(r.id)));
  main.append(el('h1', {}, `Lineage of #${target}`),
    el('p', {class: 'muted'}, `From the baseline #${root.id}: ${lin.length - 1} steps. The path to #${target} is bold `,
      'and open; colour: green is cheaper than the baseline, red dearer. Click ▸ to open any node.'));
  const node = (r) => {
    const v = metricOf(r);
    const sw = el('span', {class: 'swatch'});
    sw.style.background = fitnessColor(v, base);
    const d = el('details', {class: path.has(String(r.id)) ? 'on-path' : null, 'data-id': r.id},
      el('summary', {}, sw, candLink(r.id), ' ', metricName(r) + ' ' + fmtNum(v), ' ',
        r.change !== undefined ? el('span', {class: 'muted'}, `(${(100 * r.change).toFixed(1)}% vs parent) `) : '',
        r.gate_passed ? '' : el('span', {class: 'muted'}, '[gate not passed] '), shortText(r.intent, 80),
        el('span', {class: 'muted'}, ` · ${r.children} children`)));
    if (String(r.id) === target) d.classList.add('target');
    const kids = el('ul', {});
    d.append(kids);
    let loaded = false;
    const load = async () => {
      if (loaded) return;
      loaded = true;
      const children = await api(`/api/children/${r.id}?limit=200`);
      for (const ch of children) kids.append(el('li', {}, node(ch)));
      if (r.children > children.length) kids.append(el('li', {class: 'muted'}, `… ${r.children - children.length} more`));
      const next = children.find(ch => path.has(String(ch.id)));
      if (next) kids.querySelector(`details[data-id="${next.id}"]`).open = true;
    };
    d.addEventListener('toggle', () => { if (d.open) load().catch(e => setStatus(e.message)); });
    if (path.has(String(r.id)) && r.children > 0) d.open = true;
    else if (r.children === 0) d.querySelector('summary').classList.add('leaf');
    return d;
  };
  main.append(el('div', {class: 'tree', id: 'tree'}, node(root)));
};

// A light C/C++/CUDA highlighter: spans of text, never markup.
function highlight(src) {
  const out = el('code', {});
  const re = /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|\b(\d[\w.]*)\b|\b(auto|bool|break|case|char|const|constexpr|continue|default|do|double|else|enum|extern|float|for|if|inline|int|long|namespace|return|short|signed|sizeof|static|struct|switch|template|typedef|typename|unsigned|using|void|volatile|while|class|public|private|include|define|__global__|__device__|__shared__|std|uint64_t|uint32_t|int64_t|size_t)\b/g;
  let at = 0, m;
  while ((m = re.exec(src))) {
    if (m.index > at) out.append(document.createTextNode(src.slice(at, m.index)));
    const cls = m[1] ? 'com' : m[2] ? 'str' : m[3] ? 'numl' : 'kw';
    out.append(el('span', {class: cls}, m[0]));
    at = m.index + m[0].length;
  }
  out.append(document.createTextNode(src.slice(at)));
  return el('pre', {id: 'source'}, out);
}
function diffView(d) {
  const pre = el('pre', {id: 'diff'});
  for (const line of d.split('\n')) {
    const cls = line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : null;
    pre.append(cls ? el('span', {class: cls}, line) : document.createTextNode(line + '\n'));
  }
  return pre;
}
function componentsBar(comp) {
  const parts = Object.entries(comp || {}).filter(([k, v]) => k.endsWith('_j') && typeof v === 'number' && v > 0);
  if (!parts.length) return '';
  const total = parts.reduce((a, [, v]) => a + v, 0);
  const colors = ['#2d6cdf', '#8e44ad', '#d68910', '#c0392b', '#16a085', '#7f8c8d'];
  const bar = el('div', {class: 'bar'});
  const legend = el('div', {class: 'legend muted'});
  parts.forEach(([k, v], i) => {
    const s = el('span', {title: `${k} ${fmtNum(v)} J (${(100 * v / total).toFixed(1)}%)`});
    s.style.width = (100 * v / total) + '%';
    s.style.background = colors[i % colors.length];
    bar.append(s);
    const key = el('i', {});
    key.style.background = colors[i % colors.length];
    legend.append(el('span', {}, key, `${k} ${(100 * v / total).toFixed(1)}%`));
  });
  return el('div', {}, bar, legend);
}

views.candidate = async (main, id) => {
  const c = await api('/api/candidates/' + id);
  main.append(el('h1', {}, `Candidate #${c.id}`, ' ', pill(c.status)));
  main.append(el('p', {},
    'task ', el('a', {href: '#/front/' + encodeURIComponent(c.task)}, c.task), ' · run ', el('a', {href: '#/run/' + c.run}, String(c.run)),
    ' · parent ', c.parent === null ? 'none (baseline)' : candLink(c.parent),
    ' · ', el('a', {href: '#/lineage/' + c.id}, 'lineage'),
    ` · island ${c.island} · generation ${c.generation} · ${c.children} children · gate ${c.gate_passed ? 'passed' : 'not passed'}`));
  main.append(el('h2', {}, 'Intent'), el('p', {id: 'intent'}, c.intent || '-'),
    el('p', {id: 'idea'}, 'idea: ', c.idea || '-',
       c.reintroduced ? ' · ' + (c.reintroduced_note || `re-adds ${c.reintroduced} line(s) an ancestor's change had deleted`) : ''));
  main.append(el('h2', {}, 'Replay'), el('p', {}, el('code', {id: 'replay'}, c.replay)));
  main.append(el('h2', {}, 'Evaluations'));
  const metricNames = [...new Set(c.evaluations.flatMap(e => Object.keys(e.metrics || {})))];
  main.append(table(['suite', 'meter', 'status', ...metricNames.map(n => ({label: n, num: 1})), 'energy by component'],
    c.evaluations.map(e => [e.suite, e.meter, e.eval_status, ...metricNames.map(n => fmtNum((e.metrics || {})[n])),
      componentsBar(e.components)])));
  for (const e of c.evaluations)
    if (e.feedback) main.append(el('h2', {}, `Feedback (${e.meter} / ${e.suite})`), el('pre', {class: 'feedback'}, e.feedback));
  main.append(el('h2', {}, 'Agent calls'));
  main.append(c.ledger.length ? table(['model', {label: 'tokens in', num: 1}, {label: 'tokens out', num: 1},
    {label: 'cost', num: 1}, {label: 'latency s', num: 1}, 'outcome', 'error'],
    c.ledger.map(l => [l.model, fmtNum(l.tokens_in), fmtNum(l.tokens_out), fmtUsd(l.cost_usd), fmtNum(l.latency_s, 3),
      l.outcome, shortText(l.error, 120)])) : el('p', {class: 'muted'}, 'No agent call made this candidate (baseline, or the offline agent recorded none).'));
  if (c.parent !== null) {
    main.append(el('h2', {}, `Change against its parent #${c.parent}`));
    main.append(c.parent_diff !== undefined ? (c.parent_diff ? diffView(c.parent_diff) : el('p', {class: 'muted'}, 'identical sources'))
      : el('p', {class: 'muted'}, c.parent_diff_omitted || ''));
  }
  const cap = 200000;
  main.append(el('h2', {}, `Source (${c.source.length.toLocaleString('en')} bytes)`));
  main.append(highlight(c.source.length > cap ? c.source.slice(0, cap) : c.source));
  if (c.source.length > cap) main.append(el('p', {class: 'muted'}, `First ${cap} bytes shown: `, el('code', {}, `ergon archive export ${c.id} -o DIR`), ' writes it all.'));
};

views.ledger = async (main) => {
  const sum = await api('/api/ledger');
  const tl = await api('/api/ledger/timeline?bucket=3600');
  main.append(el('h1', {}, 'Ledger'));
  if (!sum.length) { main.append(el('p', {class: 'muted'}, 'No agent calls recorded.')); return; }
  const byModel = {};
  const byOutcome = {};
  for (const b of tl.buckets) {
    const m = byModel[b.model] ||= {calls: 0, tokens: 0, cost: 0};
    m.calls += b.calls; m.tokens += b.tokens_in + b.tokens_out; m.cost += b.cost_usd;
    const o = byOutcome[b.outcome] ||= {calls: 0, tokens: 0, cost: 0};
    o.calls += b.calls; o.tokens += b.tokens_in + b.tokens_out; o.cost += b.cost_usd;
  }
  const rows = obj => Object.entries(obj).map(([k, v]) => [k, fmtNum(v.calls), fmtNum(v.tokens), fmtUsd(v.cost)]);
  main.append(el('h2', {}, 'By model'), table(['model', {label: 'calls', num: 1}, {label: 'tokens', num: 1}, {label: 'spend', num: 1}], rows(byModel)));
  main.append(el('h2', {}, 'By outcome'), table(['outcome', {label: 'calls', num: 1}, {label: 'tokens', num: 1}, {label: 'spend', num: 1}], rows(byOutcome)));
  // Calls and spend per hour.
  const hours = [...new Set(tl.buckets.map(b => b.start))].sort((a, b) => a - b);
  const per = hours.map(h => tl.buckets.filter(b => b.start === h).reduce((a, b) => ({calls: a.calls + b.calls, cost: a.cost + b.cost_usd, tokens: a.tokens + b.tokens_in + b.tokens_out}), {calls: 0, cost: 0, tokens: 0}));
  // Per hour: the totals, then each model's spend and tokens, then each outcome's calls.
  const models = Object.keys(byModel), outcomes = Object.keys(byOutcome);
  const cell = (h, key, value, pick) => tl.buckets.filter(b => b.start === h && b[key] === value).reduce((a, b) => a + pick(b), 0);
  main.append(el('h2', {}, 'Over time (per hour)'), table(['hour', {label: 'calls', num: 1}, {label: 'tokens', num: 1}, {label: 'spend', num: 1},
    ...models.map(m => ({label: m + ' spend / tokens', num: 1})), ...outcomes.map(o => ({label: o + ' calls', num: 1}))],
    hours.map((h, i) => [fmtTime(h), fmtNum(per[i].calls), fmtNum(per[i].tokens), fmtUsd(per[i].cost),
      ...models.map(m => fmtUsd(cell(h, 'model', m, b => b.cost_usd)) + ' / ' + fmtNum(cell(h, 'model', m, b => b.tokens_in + b.tokens_out))),
      ...outcomes.map(o => fmtNum(cell(h, 'outcome', o, b => b.calls)))])));
  if (hours.length > 1) {
    const f = frame(Math.min(900, window.innerWidth - 60), 220, [hours[0], hours[hours.length - 1] + 3600], [0, Math.max(...per.map(p => p.tokens))],
                    'time', 'tokens per hour', false, t => fmtTime(t).slice(5, 16));
    hours.forEach((h, i) => f.plot.append(svg('rect', {class: 'pt-valid', x: f.x(h), y: f.y(per[i].tokens), width: Math.max(2, f.x(h + 3600) - f.x(h) - 2),
                                                     height: f.y(0) - f.y(per[i].tokens)})));
    main.append(f.root);
  }
  main.append(el('h2', {}, 'By run and model'), table(['run', 'model', {label: 'calls', num: 1}, {label: 'tokens in', num: 1},
    {label: 'tokens out', num: 1}, {label: 'spend', num: 1}, {label: 'failures', num: 1},
    {label: 're-introduced lines', num: 1}],
    sum.map(l => [el('a', {href: '#/run/' + l.run}, String(l.run)), l.model, fmtNum(l.calls), fmtNum(l.tokens_in),
                  fmtNum(l.tokens_out), fmtUsd(l.cost_usd), fmtNum(l.failures), fmtNum(l.reintroduced || 0)])));
};

views.search = async (main, q) => {
  const box = el('input', {type: 'search', id: 'search-box', placeholder: 'words in sources, intents, feedback, failed attempts', value: q || ''});
  const form = el('form', {onsubmit: e => { e.preventDefault(); location.hash = '#/search/' + encodeURIComponent(box.value); }}, box, ' ', el('button', {}, 'Search'));
  main.append(el('h1', {}, 'Search'), form);
  if (!q) return;
  const hits = await api('/api/search?q=' + encodeURIComponent(q));
  main.append(el('p', {class: 'muted', id: 'hit-count'}, `${hits.length} hits`));
  main.append(table(['what', 'task / stage', 'status', 'text'], hits.map(h => h.kind === 'candidate'
    ? [candLink(h.id), h.task, h.status, shortText(h.intent, 120)]
    : [el('span', {}, 'attempt ' + h.attempt, h.parent !== null ? el('span', {}, ' from ', candLink(h.parent)) : ''), h.stage, 'failed', shortText(h.error, 120)])));
};

// ---- routing ---------------------------------------------------------------

function setStatus(s) { document.getElementById('status').textContent = s; }

// Each route draws into a box of its own: a view still loading when the
// address changes again finishes into a box no longer on the page, and
// never marks the page ready.
let routeCount = 0;
async function route() {
  const mine = ++routeCount;
  clearInterval(pollTimer);
  pollTimer = null;
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  const name = parts[0] || 'runs';
  const arg = parts.length > 1 ? decodeURIComponent(parts.slice(1).join('/')) : '';
  const main = document.getElementById('view');
  const box = el('div', {class: 'route'});
  main.replaceChildren(box);
  main.dataset.view = name;
  main.dataset.ready = '0';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.view === name ||
    (name === 'run' && a.dataset.view === 'runs') || (name === 'candidate' && a.dataset.view === 'lineage'));
  const view = views[name];
  setStatus('');
  try {
    if (!view) throw new Error('no such view: ' + name);
    await view(box, arg);
  } catch (e) {
    box.append(el('p', {class: 'error'}, e.message));
  }
  if (mine === routeCount) main.dataset.ready = '1';
}

window.addEventListener('hashchange', route);
route();
