// The site page: this party, its cores and what is in use or waiting, its partners and whether each answers,
// and the providers registered here. Refreshed every few seconds (reachability is not an event).
import { get } from './api.js';
import { clear, h, time } from './dom.js';

export function renderSite(container) {
  const body = h('div');
  clear(container, h('h1', {}, 'Site'), body);
  let stopped = false;
  async function refresh() {
    try {
      const [site, providers] = await Promise.all([get('site/info/query'), get('provider/query').catch(() => [])]);
      if (stopped) return;
      const used = site.cores ? Math.round((100 * site.cores_in_use) / site.cores) : 0;
      clear(body,
        h('section', { class: 'card', 'data-testid': 'site-capacity' },
          h('h2', {}, `Party ${site.party_id}`),
          h('p', {}, `Cores: ${site.cores_in_use} of ${site.cores} in use `,
            h('span', { class: 'progress' }, h('span', { class: 'bar status-running', style: `width:${used}%` })),
            `  · reservations waiting: ${site.reservations_waiting ?? 0} · up since ${time(site.started)}`)),
        h('section', { class: 'card' }, h('h2', {}, 'Partners'),
          h('table', { 'data-testid': 'partners' },
            h('tr', {}, ['Party', 'Address', 'State', 'Since', 'Calls waiting', 'Last error'].map((c) => h('th', {}, c))),
            (site.partners || []).map((p) => h('tr', { 'data-party': p.party_id },
              h('td', {}, p.party_id), h('td', {}, p.address + (p.via_proxy ? ' (proxy)' : '')),
              h('td', {}, h('span', { class: `badge reach-${p.state}` }, p.state)), h('td', {}, time(p.since)),
              h('td', {}, p.calls_waiting), h('td', {}, p.last_error || ''))))),
        h('section', { class: 'card' }, h('h2', {}, 'Providers'),
          h('table', {}, h('tr', {}, ['Provider', 'Device', 'Components'].map((c) => h('th', {}, c))),
            providers.map((p) => h('tr', {}, h('td', {}, p.provider_name), h('td', {}, p.device),
              h('td', {}, (p.components || []).join(', ')))))));
    } catch (e) {
      clear(body, h('p', { class: 'error' }, String(e.message || e)));
    }
  }
  refresh();
  const timer = setInterval(refresh, 5000);
  return () => { stopped = true; clearInterval(timer); };
}
