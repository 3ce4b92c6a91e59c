// The dashboard's shell: a hash router over three pages (jobs, one job, the site), the party this server
// is, and the live feed every page listens to.
import './style.css';
import 'uplot/dist/uPlot.min.css';
import { credentials, get, signIn, signOut } from './api.js';
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

// With client authentication on, a refused request asks for a client app (flow's --app-id/--app-token).
function showSignIn(error) {
  if (document.querySelector('[data-testid=sign-in]')) return;
  const appId = h('input', { name: 'appId', required: true, placeholder: 'app id' });
  const appToken = h('input', { name: 'appToken', type: 'password', required: true, placeholder: 'app token' });
  const userName = h('input', { name: 'userName', placeholder: 'user name (optional)' });
  const form = h('form', {
    class: 'card sign-in', 'data-testid': 'sign-in',
    onsubmit: (e) => {
      e.preventDefault();
      signIn({ appId: appId.value, appToken: appToken.value, userName: userName.value });
      location.reload();
    },
  }, h('h2', {}, 'This site asks who you are'),
  h('p', { class: 'muted' }, `${error.detail ? error.detail.message : ''}. Sign in with a client app of this site ` +
    '(as `flow` takes --app-id and --app-token); it is kept for this tab only.'),
  appId, ' ', appToken, ' ', userName, ' ', h('button', { type: 'submit' }, 'Sign in'));
  page.before(form);
}

function showSignedIn() {
  const app = credentials();
  if (!app) return;
  document.querySelector('.top').append(h('span', { class: 'who' }, `app ${app.appId} `,
    h('button', { type: 'button', onclick: () => { signOut(); location.reload(); } }, 'sign out')));
}

window.addEventListener('flowstone:sign-in', showSignIn);
window.addEventListener('hashchange', route);
showSignedIn();
get('site/info/query')
  .then((site) => {
    document.querySelector('[data-testid=party]').textContent = `party ${site.party_id}`;
  })
  .catch(() => {});
startFeed();
route();
