// The dashboard's shell: a hash router over three pages (jobs, one job, the site), the party this server
// is, and the live feed every page listens to.
import './style.css';
import 'uplot/dist/uPlot.min.css';
import { get } from './api.js';
import { startFeed } from './feed.js';
import { renderJobs } from './jobs.js';
import { renderJob } from './job.js';
import { renderSite } from './site.js';
import { clear, h } from './dom.js';
import { parseHash } from './router.js';

const page = document.getElementById('page');
let leave = null; // the current page's cleanup

function route() {
  if (leave) leave();
  leave = null;
  const { path, params } = parseHash();
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('active', a.dataset.nav === (path[0] === 'site' ? 'site' : 'jobs'));
  try {
    if (path[0] === 'job' && path[1]) leave = renderJob(page, path[1], params);
    else if (path[0] === 'site') leave = renderSite(page);
    else leave = renderJobs(page, params);
  } catch (e) {
    clear(page, h('p', { class: 'error' }, String(e)));
  }
}

window.addEventListener('hashchange', route);
get('site/info/query')
  .then((site) => {
    document.querySelector('[data-testid=party]').textContent = `party ${site.party_id}`;
  })
  .catch(() => {});
startFeed();
route();
