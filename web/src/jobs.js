// The jobs page: filters (status, role, party, job id, creation time), live counts by status, a sortable and
// paged table with the progress of running jobs and why waiting ones wait. Refreshed on the events that
// change its rows.
import { get } from './api.js';
import { onJobEvent } from './feed.js';
import { setQuery } from './router.js';
import { STATUSES, badge, clear, duration, h, time } from './dom.js';

// The events that change a row of the list (status, progress, why a job waits, its end delivered); a task's
// run, metrics and outputs do not, so they do not make the list read again.
const ROW_KINDS = /^(Job|ScheduleStatus|Admission|PartyResources|PartyJoined|EndDelivered)/;

const PAGE_SIZE = 20;
const COLUMNS = [
  ['job_id', 'Job'], ['role', 'Role'], ['party_id', 'Party'], ['status', 'Status'], ['progress', 'Progress'],
  ['create_time', 'Created'], ['elapsed', 'Elapsed'], [null, 'Partners'], [null, 'Why'],
];

export function renderJobs(container, params) {
  const state = {
    status: params.get('status') || '', role: params.get('role') || '', party_id: params.get('party_id') || '',
    job_id: params.get('job_id') || '', from: params.get('from') || '', to: params.get('to') || '',
    page: Math.max(1, Number.parseInt(params.get('page'), 10) || 1), order_by: params.get('order_by') || 'create_time',
    order: params.get('order') || 'desc',
  };
  const counts = h('div', { class: 'counts', 'data-testid': 'status-counts' });
  const table = h('table', { class: 'jobs', 'data-testid': 'jobs-table' });
  const pager = h('div', { class: 'pager' });
  const message = h('p', { class: 'error' });

  const field = (name, el) => {
    el.value = state[name];
    el.name = name;
    el.addEventListener('change', () => { state[name] = el.value; state.page = 1; refresh(); });
    return el;
  };
  const options = (values, all) => [h('option', { value: '' }, all), ...values.map((v) => h('option', { value: v }, v))];
  const filters = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); refresh(); } },
    h('label', {}, 'Status ', field('status', h('select', { 'data-testid': 'filter-status' }, options(STATUSES, 'any')))),
    h('label', {}, 'Role ', field('role', h('select', {}, options(['guest', 'host', 'arbiter', 'local'], 'any')))),
    h('label', {}, 'Party ', field('party_id', h('input', { size: 8, placeholder: 'party id' }))),
    h('label', {}, 'Job id ', field('job_id', h('input', { size: 24, placeholder: 'contains', 'data-testid': 'filter-job' }))),
    h('label', {}, 'Created from ', field('from', h('input', { type: 'datetime-local' }))),
    h('label', {}, 'to ', field('to', h('input', { type: 'datetime-local' }))));

  clear(container, h('h1', {}, 'Jobs'), filters, counts, message, table, pager);

  let timer = null;
  let stopped = false;
  let latest = 0; // only the answer to the latest request is drawn (an older, slower one is dropped)
  async function refresh() {
    const asked = ++latest;
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(state)) if (v !== '' && !(k === 'page' && v === 1)) query.set(k, v);
    setQuery(query);
    try {
      const data = await get('job/list/query', {
        status: state.status, role: state.role, party_id: state.party_id, job_id: state.job_id,
        created_from: state.from ? new Date(state.from).getTime() : '',
        created_to: state.to ? new Date(state.to).getTime() : '',
        limit: PAGE_SIZE, page: state.page, order_by: state.order_by, order: state.order,
      });
      if (stopped || asked !== latest) return;
      const pages = Math.max(1, Math.ceil(data.count / PAGE_SIZE));
      if (state.page > pages) { state.page = pages; return refresh(); } // the list shrank under this page
      message.textContent = '';
      drawCounts(data.status_counts || {});
      drawTable(data.data);
      drawPager(data.count);
    } catch (e) {
      message.textContent = String(e.message || e);
    }
  }

  function drawCounts(byStatus) {
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    const chip = (status, n) => h('button', {
      class: `chip ${state.status === status ? 'active' : ''}`, type: 'button', 'data-count-status': status || 'all',
      onclick: () => { state.status = status; state.page = 1; filters.elements.status.value = status; refresh(); },
    }, status ? badge(status) : 'all', ` ${n}`);
    clear(counts, chip('', total), STATUSES.filter((s) => byStatus[s]).map((s) => chip(s, byStatus[s])));
  }

  function drawTable(rows) {
    const head = h('tr', {}, COLUMNS.map(([key, label]) => h('th', {
      class: key ? 'sortable' : '',
      onclick: key && (() => {
        state.order = state.order_by === key && state.order === 'desc' ? 'asc' : 'desc';
        state.order_by = key;
        refresh();
      }),
    }, label, key === state.order_by ? (state.order === 'asc' ? ' ▲' : ' ▼') : '')));
    const body = rows.map((job) => h('tr', { 'data-testid': 'job-row', 'data-job': job.job_id },
      h('td', {}, h('a', { href: `#/job/${encodeURIComponent(job.job_id)}` }, job.job_id)),
      h('td', {}, job.role), h('td', {}, job.party_id), h('td', {}, badge(job.status)),
      h('td', {}, progress(job)), h('td', {}, time(job.create_time)), h('td', {}, duration(job.elapsed)),
      h('td', {}, (job.partners || []).join(', ')),
      h('td', { class: 'why' }, job.status === 'waiting' ? job.pending_reason : job.status_reason)));
    clear(table, h('thead', {}, head), h('tbody', {}, body.length ? body : h('tr', {}, h('td', { colspan: 9 }, 'No jobs'))));
  }

  function drawPager(count) {
    const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
    const go = (p) => () => { state.page = p; refresh(); };
    clear(pager,
      h('button', { type: 'button', disabled: state.page <= 1, onclick: go(state.page - 1) }, '‹ Prev'),
      ` page ${state.page} of ${pages} (${count} jobs) `,
      h('button', { type: 'button', disabled: state.page >= pages, onclick: go(state.page + 1) }, 'Next ›'));
  }

  const unsubscribe = onJobEvent((event) => {
    if (!event.reload && event.kind && !ROW_KINDS.test(event.kind)) return; // a task's event: no row changes
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
  return () => { stopped = true; unsubscribe(); clearTimeout(timer); };
}

export function progress(job) {
  const value = Number(job.progress || 0);
  return h('span', { class: 'progress', title: `${value}%` },
    h('span', { class: `bar status-${job.status}`, style: `width:${value}%` }), h('span', { class: 'pct' }, `${value}%`));
}
