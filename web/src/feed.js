// The live feed: one EventSource per page on /v2/dashboard/feed (the event log's global order). The
// browser reconnects by itself and sends Last-Event-ID, the sequence of the last event it received, so the
// server resumes right after it: nothing is missed and nothing arrives twice. Listeners get each job event
// ({seq, job_id, version, at, kind, what, party, reason, task_name, task_version, status}).

const listeners = new Set();
let source = null;
let lastSeq = 0;
const indicator = () => document.querySelector('[data-testid=live]');

function setState(text, cls) {
  const el = indicator();
  if (el) {
    el.textContent = text;
    el.className = `live ${cls}`;
  }
}

export function startFeed() {
  if (source) return;
  source = new EventSource('/v2/dashboard/feed');
  source.addEventListener('open', () => setState('live', 'on'));
  source.addEventListener('error', () => setState('reconnecting', 'off'));
  source.addEventListener('hello', (e) => {
    lastSeq = JSON.parse(e.data).seq;
    setState('live', 'on');
  });
  source.addEventListener('job', (e) => {
    const event = JSON.parse(e.data);
    if (event.seq <= lastSeq) return; // never shown twice, even if a server resent it
    lastSeq = event.seq;
    for (const listener of listeners) listener(event);
  });
}

// Calls `listener` for every job event from now on; returns the function that stops it.
export function onJobEvent(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function feedSequence() {
  return lastSeq;
}
