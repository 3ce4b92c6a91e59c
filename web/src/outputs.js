// A task's outputs at this party: its metrics (charts and tables), a preview of its output data, its models.
import { get } from './api.js';
import { metricView } from './charts.js';
import { clear, h } from './dom.js';

const PREVIEW_ROWS = 100;

export function outputsView(kind, task) {
  const root = h('div', { class: `outputs outputs-${kind}`, 'data-testid': `outputs-${kind}` }, h('p', { class: 'muted' }, 'Loading…'));
  const show = (...children) => clear(root, h('h3', {}, `${task.task_name} at ${task.role} ${task.party_id}`), ...children);
  const failed = (e) => show(h('p', { class: 'muted' }, String(e.message || e)));
  if (kind === 'metrics') {
    get('output/metric/query', task).then((metrics) =>
      show(metrics.length ? h('div', { class: 'metrics' }, metrics.map(metricView)) : h('p', { class: 'muted' }, 'No metrics saved.')), failed);
  } else if (kind === 'data') {
    get('output/data/display', task).then((outputs) => {
      const tables = Object.entries(outputs && typeof outputs === 'object' ? outputs : {})
        .flatMap(([key, list]) => (Array.isArray(list) ? list : []).map((t) => dataTable(key, t || {})));
      show(tables.length ? tables : h('p', { class: 'muted' }, 'No data output.'));
    }).catch(failed);
  } else if (kind === 'models') {
    get('output/model/query', task).then((models) => show(h('pre', { 'data-testid': 'models' }, JSON.stringify(models, null, 2))), failed);
  }
  return root;
}

function dataTable(key, table) {
  const rows = (Array.isArray(table.data) ? table.data : []).slice(0, PREVIEW_ROWS);
  const header = Array.isArray(table.metadata?.header) ? table.metadata.header : Object.keys(rows[0] || {});
  return h('div', { class: 'data-preview', 'data-testid': 'data-preview' },
    h('h4', {}, `${key}: ${rows.length} of ${table.total ?? rows.length} rows`),
    h('table', {}, h('tr', {}, header.map((c) => h('th', {}, c))),
      rows.map((row) => h('tr', {}, header.map((c) => h('td', {}, Array.isArray(row) ? row[header.indexOf(c)] : row[c]))))));
}
