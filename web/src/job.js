// The job page: the job at this party (status, progress, why), stop and rerun, the DAG coloured by each task's
// federated status, the selected task's detail, and tabs for the event timeline, metrics, data output,
// models, the task's logs and the schedule log. Job events from the live feed refresh it in place.
import { ApiError, get, post } from './api.js';
import { drawDag } from './dag.js';
import { badge, clear, confirmAction, duration, h, time } from './dom.js';
import { onJobEvent } from './feed.js';
import { progress } from './jobs.js';
import { logView } from './logs.js';
import { outputsView } from './outputs.js';
import { setQuery } from './router.js';
import { createTimeline } from './timeline.js';

const ENDED = new Set(['success', 'failed', 'canceled', 'timeout', 'pass']);
const TABS = [['timeline', 'Timeline'], ['metrics', 'Metrics'], ['data', 'Data'], ['models', 'Models'],
  ['logs', 'Task logs'], ['schedule', 'Schedule log']];

export function renderJob(container, jobId, params) {
  const view = { job: null, tasks: [], history: [], task: params.get('task') || '', tab: params.get('tab') || 'timeline' };
  const header = h('section', { class: 'card job-header' });
  const result = h('p', { class: 'result', 'data-testid': 'action-result' });
  const dagBox = h('div', { class: 'dag-box', 'data-testid': 'dag' });
  const taskPanel = h('aside', { class: 'task-panel card', 'data-testid': 'task-panel' });
  const tabBar = h('nav', { class: 'tabs' });
  const tabBody = h('section', { class: 'tab-body' });
  const timeline = createTimeline();
  let stopped = false;
  let timer = null;
  let leaveTab = null;

  clear(container, header, result, h('div', { class: 'job-main' }, h('section', { class: 'card' }, h('h2', {}, 'DAG'), dagBox), taskPanel), tabBar, tabBody);

  const query = () => {
    const q = new URLSearchParams();
    if (view.task) q.set('task', view.task);
    if (view.tab !== 'timeline') q.set('tab', view.tab);
    setQuery(q);
  };
  const at = () => ({ job_id: jobId, role: view.job.role, party_id: view.job.party_id });

  let latest = 0; // only the answer to the latest load is drawn
  // The job, its tasks and (first, and after the feed reconnects) its whole history; in between, the
  // feed's events are the history's new entries, so a burst of them costs two small reads.
  async function load(withHistory = true) {
    const asked = ++latest;
    try {
      const [jobs, tasks, history] = await Promise.all([
        get('job/query', { job_id: jobId }),
        get('job/task/list/query', { job_id: jobId }),
        withHistory ? get('job/history/query', { job_id: jobId }) : null,
      ]);
      if (stopped || asked !== latest) return;
      const first = !view.job;
      view.job = jobs[0];
      view.tasks = tasks.data;
      if (history) timeline.set(history);
      view.history = timeline.entries();
      if (!view.task) view.task = Object.keys(view.job.dag?.dag?.tasks || {})[0] || '';
      drawHeader();
      await drawDag(dagBox, view.job.dag, taskInfo, view.task, select);
      drawTask();
      if (first) showTab(view.tab);
    } catch (e) {
      if (e instanceof ApiError && !view.job) clear(header, h('h1', {}, `Job ${jobId}`), h('p', { class: 'error' }, e.message));
      else result.textContent = String(e.message || e);
    }
  }

  function runsOf(name) {
    return view.tasks.filter((t) => t.task_name === name).sort((a, b) => b.task_version - a.task_version);
  }

  // The latest attempt's statuses: the federated one here, and each party's own (from the party_status
  // events this party recorded: all parties at the scheduler, its own elsewhere).
  function taskInfo(name) {
    const latest = runsOf(name)[0];
    if (!latest) return { status: 'none', parties: [] };
    const parties = new Map();
    for (const e of view.history)
      if (e.kind === 'TaskPartyStatusChanged' && e.task_name === name && e.task_version === latest.task_version)
        parties.set(e.party, e.status);
    const here = `${latest.role}:${latest.party_id}`;
    if (!parties.has(here)) parties.set(here, latest.party_status);
    return { status: latest.status, version: latest.task_version, component: latest.component, parties: [...parties] };
  }

  function select(name) {
    view.task = name;
    query();
    drawDag(dagBox, view.job.dag, taskInfo, view.task, select);
    drawTask();
    showTab(view.tab);
  }

  function drawHeader() {
    const job = view.job;
    const actions = [];
    if (!ENDED.has(job.status))
      actions.push(h('button', { type: 'button', class: 'danger', 'data-testid': 'stop-button', onclick: () => act('stop', 'job/stop') }, 'Stop job'));
    if (['failed', 'canceled', 'timeout'].includes(job.status))
      actions.push(h('button', { type: 'button', 'data-testid': 'rerun-button', onclick: () => act('rerun', 'job/rerun') }, 'Rerun'));
    clear(header,
      h('h1', {}, `Job ${job.job_id} `, h('span', { 'data-testid': 'job-status' }, badge(job.status))),
      h('p', {}, `${job.role} ${job.party_id} · scheduler ${job.scheduler_party_id} · initiator ${job.initiator_party_id} · `,
        progress(job), ` · created ${time(job.create_time)} · started ${time(job.start_time)}`,
        job.end_time ? ` · ended ${time(job.end_time)} · ${duration(job.elapsed)}` : ''),
      job.status === 'waiting' && job.pending_reason ? h('p', { class: 'why' }, `Waiting: ${job.pending_reason}`) : '',
      job.status_reason ? h('p', { class: 'why', 'data-testid': 'status-reason' }, job.status_reason) : '',
      h('div', { class: 'actions' }, actions));
  }

  // Stop, rerun, or rerun from a task (that task and everything downstream of it get a new attempt).
  async function act(verb, route, taskName) {
    const what = taskName ? `Rerun job ${jobId} from task ${taskName} (it and everything after it)` :
      `${verb === 'stop' ? 'Stop' : 'Rerun'} job ${jobId}`;
    if (!confirmAction(`${what} at every party?`)) return;
    result.textContent = `${verb}: sending…`;
    try {
      await post(route, taskName ? { job_id: jobId, task_name: taskName } : { job_id: jobId });
      result.textContent = `${verb}: accepted by the scheduler`;
    } catch (e) {
      result.textContent = `${verb} refused: ${e.message}`;
    }
    load();
  }

  function drawTask() {
    const name = view.task;
    const spec = view.job.dag?.dag?.tasks?.[name];
    if (!spec) return clear(taskPanel, h('p', {}, 'Select a task in the DAG.'));
    const runs = runsOf(name);
    const info = taskInfo(name);
    const ended = ENDED.has(view.job.status) && view.job.scheduler_party_id === view.job.party_id;
    clear(taskPanel,
      h('h2', {}, name, ' ', badge(info.status)),
      ended ? h('button', { type: 'button', 'data-testid': 'rerun-from-task', onclick: () => act('rerun', 'job/rerun', name) },
        `Rerun from ${name}`) : '',
      h('p', {}, `component ${spec.component_ref}${runs[0]?.provider_name ? ` · ${runs[0].provider_name}` : ''}`),
      h('h3', {}, 'Parameters here'), h('pre', { 'data-testid': 'task-parameters' }, JSON.stringify(parameters(name), null, 2)),
      h('h3', {}, 'Statuses by party', runs[0] ? ` (attempt ${runs[0].task_version})` : ''),
      h('table', { 'data-testid': 'party-statuses' }, info.parties.map(([party, s]) => h('tr', { 'data-party': party }, h('td', {}, party), h('td', {}, badge(s))))),
      h('h3', {}, 'Attempts'),
      runs.length ? h('table', { class: 'attempts' },
        h('tr', {}, ['v', 'Status', 'Here', 'Started', 'Elapsed'].map((c) => h('th', {}, c))),
        runs.map((r) => h('tbody', { 'data-testid': 'task-attempt', 'data-version': r.task_version, 'data-status': r.status },
          h('tr', {}, h('td', {}, r.task_version), h('td', {}, badge(r.status)), h('td', {}, badge(r.party_status)),
            h('td', { class: 'nowrap' }, time(r.start_time)), h('td', {}, duration(r.elapsed))),
          r.error_report ? h('tr', {}, h('td', { colspan: 5, class: 'error', 'data-testid': 'attempt-error' }, r.error_report)) : '')))
        : h('p', { class: 'muted' }, 'This task does not run at this party.'));
  }

  // The task's parameters as this party runs it: the DAG's, with its party_tasks entry applied.
  function parameters(name) {
    const dag = view.job.dag?.dag || {};
    const merged = { ...(dag.tasks?.[name]?.parameters || {}) };
    for (const entry of Object.values(dag.party_tasks || {})) {
      const here = (entry.parties || []).some((p) => p.role === view.job.role && (p.party_id || []).includes(view.job.party_id));
      if (here) Object.assign(merged, entry.tasks?.[name]?.parameters || {});
    }
    return merged;
  }

  function showTab(tab) {
    view.tab = tab;
    query();
    if (leaveTab) leaveTab();
    leaveTab = null;
    clear(tabBar, TABS.map(([key, label]) => h('button', {
      type: 'button', class: key === tab ? 'active' : '', 'data-tab': key, onclick: () => showTab(key),
    }, label)));
    if (tab === 'timeline') return clear(tabBody, timeline.root);
    if (tab === 'logs') {
      const box = logView({ ...at(), task_name: view.task }, ['task_info', 'task_error', 'task_warning', 'task_debug']);
      leaveTab = box.leave;
      return clear(tabBody, box.root);
    }
    if (tab === 'schedule') {
      const box = logView(at(), ['schedule_info', 'schedule_error']);
      leaveTab = box.leave;
      return clear(tabBody, box.root);
    }
    clear(tabBody, outputsView(tab, { ...at(), task_name: view.task }));
  }

  let reloadHistory = false;
  const unsubscribe = onJobEvent((event) => {
    if (!event.reload && event.job_id !== jobId) return;
    if (event.reload) reloadHistory = true;
    else timeline.add(event);
    clearTimeout(timer);
    timer = setTimeout(() => { load(reloadHistory); reloadHistory = false; }, 250);
  });
  load();
  return () => { stopped = true; unsubscribe(); clearTimeout(timer); if (leaveTab) leaveTab(); };
}
