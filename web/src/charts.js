// A task's metrics: a series saved step by step (a loss, an accuracy per iteration) as a uPlot line chart,
// anything else (a scalar, a table of statistics) as a table.
import uPlot from 'uplot';
import { h } from './dom.js';

// The points of a metric saved as [{metric: [v], step}] with more than one step; null if it is not a series.
export function seriesPoints(metric) {
  const data = metric.data;
  if (!Array.isArray(data) || data.length < 2) return null;
  const points = [];
  for (const item of data) {
    const value = Array.isArray(item.metric) ? item.metric[0] : item.metric;
    if (typeof value !== 'number' || typeof item.step !== 'number') return null;
    points.push([item.step, value]);
  }
  return points.sort((a, b) => a[0] - b[0]);
}

export function metricView(metric) {
  const title = `${metric.name}${metric.type ? ` (${metric.type})` : ''}`;
  const points = seriesPoints(metric);
  if (points) {
    const box = h('div', { class: 'chart', 'data-testid': 'metric-chart', 'data-metric': metric.name, 'data-points': points.length });
    const plot = new uPlot({
      title, width: 520, height: 260,
      scales: { x: { time: false } },
      axes: [{ label: metric.step_axis || 'step' }, { label: metric.name }],
      series: [{ label: metric.step_axis || 'step' }, { label: metric.name, stroke: '#2563eb', width: 2, points: { show: true } }],
    }, [points.map((p) => p[0]), points.map((p) => p[1])], box);
    box.plot = plot;
    return box;
  }
  return h('div', { class: 'metric-table', 'data-testid': 'metric-table', 'data-metric': metric.name }, h('h4', {}, title), table(metric.data));
}

// Steps as step/value rows; an object of objects as rows x columns; an object of scalars as key/value;
// anything else as JSON.
function table(data) {
  if (Array.isArray(data) && data.every((d) => d && typeof d === 'object' && 'step' in d && 'metric' in d))
    return h('table', { class: 'kv' }, h('tr', {}, h('th', {}, 'step'), h('th', {}, 'value')),
      data.map((d) => h('tr', {}, h('td', {}, d.step), h('td', {}, format(Array.isArray(d.metric) && d.metric.length === 1 ? d.metric[0] : d.metric)))));
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const rows = Object.entries(data);
    const nested = rows.length && rows.every(([, v]) => v && typeof v === 'object' && !Array.isArray(v));
    if (nested) {
      const columns = [...new Set(rows.flatMap(([, v]) => Object.keys(v)))];
      return h('table', { class: 'kv' }, h('tr', {}, h('th', {}, ''), columns.map((c) => h('th', {}, c))),
        rows.map(([k, v]) => h('tr', {}, h('th', {}, k), columns.map((c) => h('td', {}, format(v[c]))))));
    }
    return h('table', { class: 'kv' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, format(v)))));
  }
  return h('pre', {}, JSON.stringify(data, null, 2));
}

function format(v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6);
  return typeof v === 'object' ? JSON.stringify(v) : String(v ?? '');
}
