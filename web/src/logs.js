// A log viewer over /v2/log/count and /v2/log/query: pick the log, page through it, or follow its end.
import { get } from './api.js';
import { clear, h } from './dom.js';

const PAGE_LINES = 200;

export function logView(where, types) {
  const select = h('select', { 'data-testid': 'log-type' }, types.map((t) => h('option', { value: t }, t)));
  const follow = h('input', { type: 'checkbox', checked: true, 'data-testid': 'log-follow' });
  const position = h('span', { class: 'muted' });
  const lines = h('pre', { class: 'log', 'data-testid': 'log-lines' });
  let begin = 0;
  let count = 0;
  let timer = null;

  let drawn = ''; // the log, its line count and first line last drawn: following an unchanged log reads nothing more
  async function load(toEnd) {
    try {
      count = await get('log/count', { ...where, log_type: select.value });
      if (toEnd) begin = Math.max(0, count - PAGE_LINES);
      const shape = `${select.value} ${count} ${begin}`;
      if (shape === drawn) return;
      drawn = shape;
      const end = Math.min(count, begin + PAGE_LINES);
      const rows = count ? await get('log/query', { ...where, log_type: select.value, begin: begin + 1, end }) : [];
      position.textContent = count ? `lines ${begin + 1}-${end} of ${count}` : 'empty';
      lines.textContent = rows.map((r) => r.content).join('\n');
      if (follow.checked) lines.scrollTop = lines.scrollHeight;
    } catch (e) {
      drawn = '';
      position.textContent = String(e.message || e);
      lines.textContent = '';
    }
  }
  const page = (delta) => () => { follow.checked = false; begin = Math.max(0, Math.min(count - 1, begin + delta)); load(false); };
  select.addEventListener('change', () => load(true));
  timer = setInterval(() => { if (follow.checked) load(true); }, 2000);
  load(true);
  const root = h('div', { class: 'logs' },
    h('div', { class: 'toolbar' }, select, ' ',
      h('button', { type: 'button', onclick: page(-PAGE_LINES) }, '‹ Earlier'),
      h('button', { type: 'button', onclick: page(PAGE_LINES) }, 'Later ›'), ' ',
      h('label', {}, follow, ' follow'), ' ', position),
    lines);
  return { root, leave: () => clearInterval(timer) };
}
