// The event timeline of a job at this party: every event of its stream in order (version), with time, kind,
// the party it is about and why; filterable by kind, party and text. Live events are appended in order and
// never twice (an event is keyed by its version in the job's stream).
import { clear, h, time } from './dom.js';

export function createTimeline() {
  const events = new Map(); // version -> entry
  const filter = h('input', { placeholder: 'filter: kind, party, text', size: 40, 'data-testid': 'timeline-filter' });
  const body = h('tbody');
  const count = h('span', { class: 'muted' });
  const root = h('div', { class: 'timeline', 'data-testid': 'timeline' },
    h('div', { class: 'toolbar' }, filter, ' ', count),
    h('table', {}, h('thead', {}, h('tr', {}, ['#', 'Time', 'Kind', 'Party', 'What', 'Reason'].map((c) => h('th', {}, c)))), body));
  filter.addEventListener('input', draw);

  function draw() {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = [...events.values()].sort((a, b) => a.version - b.version)
      .filter((e) => words.every((w) => `${e.kind} ${e.party} ${e.what} ${e.reason}`.toLowerCase().includes(w)));
    count.textContent = `${rows.length} of ${events.size} events`;
    clear(body, rows.map((e) => h('tr', {
      'data-testid': 'timeline-row', 'data-version': e.version, 'data-kind': e.kind,
      class: /Failed|failed|Timeout|timeout|Refused|error/.test(`${e.kind} ${e.what}`) ? 'trouble' : '',
    }, h('td', {}, e.version), h('td', { class: 'nowrap' }, time(e.at)), h('td', {}, e.kind), h('td', {}, e.party || ''),
    h('td', {}, e.what), h('td', {}, e.reason || ''))));
  }

  return {
    root,
    set(entries) { events.clear(); for (const e of entries) events.set(e.version, e); draw(); },
    add(entry) { if (!events.has(entry.version)) { events.set(entry.version, entry); draw(); } },
    entries: () => [...events.values()].sort((a, b) => a.version - b.version),
  };
}
