// The event timeline of a job at this party: every event of its stream in order (version), with time, kind,
// who caused it (actor), the party it is about and why; filterable by kind, actor, party and text. Live
// events are appended in order and never twice (an event is keyed by its version in the job's stream); an
// event past the last one shown adds its row, anything else redraws the table.
import { clear, h, time } from './dom.js';

const COLUMNS = ['#', 'Time', 'Kind', 'Actor', 'Party', 'What', 'Reason'];

export function createTimeline() {
  const events = new Map(); // version -> entry
  let lastShown = 0; // the highest version drawn
  let shown = 0;
  const filter = h('input', { placeholder: 'filter: kind, actor, party, text', size: 40, 'data-testid': 'timeline-filter' });
  const body = h('tbody');
  const count = h('span', { class: 'muted' });
  const root = h('div', { class: 'timeline', 'data-testid': 'timeline' },
    h('div', { class: 'toolbar' }, filter, ' ', count),
    h('table', {}, h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', {}, c)))), body));
  filter.addEventListener('input', draw);

  const words = () => filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (e, ws) =>
    ws.every((w) => `${e.kind} ${e.actor || ''} ${e.party} ${e.what} ${e.reason}`.toLowerCase().includes(w));
  const row = (e) => h('tr', {
    'data-testid': 'timeline-row', 'data-version': e.version, 'data-kind': e.kind, 'data-actor': e.actor || '',
    class: /Failed|failed|Timeout|timeout|Refused|error/.test(`${e.kind} ${e.what}`) ? 'trouble' : '',
  }, h('td', {}, e.version), h('td', { class: 'nowrap' }, time(e.at)), h('td', {}, e.kind),
  h('td', { class: 'nowrap' }, e.actor || ''), h('td', {}, e.party || ''), h('td', {}, e.what), h('td', {}, e.reason || ''));
  const counted = () => { count.textContent = `${shown} of ${events.size} events`; };

  function draw() {
    const ws = words();
    const rows = [...events.values()].sort((a, b) => a.version - b.version).filter((e) => matches(e, ws));
    shown = rows.length;
    lastShown = events.size ? Math.max(...events.keys()) : 0;
    clear(body, rows.map(row));
    counted();
  }

  return {
    root,
    set(entries) { events.clear(); for (const e of entries) events.set(e.version, e); draw(); },
    add(entry) {
      if (events.has(entry.version)) return;
      events.set(entry.version, entry);
      if (entry.version < lastShown) return draw(); // out of order: rare, redraw in order
      lastShown = entry.version;
      if (matches(entry, words())) { body.append(row(entry)); shown++; }
      counted();
    },
    entries: () => [...events.values()].sort((a, b) => a.version - b.version),
  };
}
