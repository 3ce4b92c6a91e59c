// The live feed: one server-sent-events connection per page on /v2/dashboard/feed (the event log's global
// order). It is read with fetch rather than EventSource so that, with client authentication on, it can be
// signed like every other request. When the connection ends it reconnects after the server's `retry` and
// sends Last-Event-ID, the sequence of the last event it received, so the server resumes right after it:
// nothing is missed and nothing arrives twice. Listeners get each job event
// ({seq, job_id, version, at, kind, what, party, reason, task_name, task_version, status}).
import { signedHeaders } from './api.js';

const listeners = new Set();
let started = false;
let lastSeq = null; // null until the server's hello (or the first event) says where we are
let retryMs = 2000;

function setState(text, cls) {
  const el = document.querySelector('[data-testid=live]');
  if (el) {
    el.textContent = text;
    el.className = `live ${cls}`;
  }
}

// One block of the stream ("id: 5\nevent: job\ndata: {...}"), as the SSE format defines its fields.
function dispatch(block) {
  const fields = {};
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    fields[name] = name === 'data' && fields.data !== undefined ? `${fields.data}\n${value}` : value;
  }
  if (fields.retry && /^\d+$/.test(fields.retry)) retryMs = Number(fields.retry);
  if (fields.event === 'hello') {
    // A fresh start (a first connection, or a resume point this server does not know): what happened
    // before it may not have reached the page, so every page reloads its data.
    lastSeq = JSON.parse(fields.data).seq;
    notify({ reload: true });
    return;
  }
  if (fields.event !== 'job') return;
  const event = JSON.parse(fields.data);
  if (lastSeq !== null && event.seq <= lastSeq) return; // never shown twice
  lastSeq = event.seq;
  notify(event);
}

function notify(event) {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (e) {
      console.error('feed listener', e); // one page's bug must not stop the feed
    }
  }
}

async function connect() {
  const headers = await signedHeaders();
  if (lastSeq !== null) headers['Last-Event-ID'] = String(lastSeq);
  const response = await fetch('/v2/dashboard/feed', { headers, cache: 'no-store' });
  if (!(response.headers.get('content-type') || '').startsWith('text/event-stream')) {
    const envelope = await response.json().catch(() => ({}));
    throw new Error(envelope.message || `HTTP ${response.status}`);
  }
  setState('live', 'on');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = text.indexOf('\n\n')) >= 0) {
        dispatch(text.slice(0, end));
        text = text.slice(end + 2);
      }
    }
  } finally {
    reader.cancel().catch(() => {}); // whatever ended the loop, the connection is not left open
  }
}

export function startFeed() {
  if (started) return;
  started = true;
  (async () => {
    for (;;) {
      try {
        await connect();
        setState('reconnecting', 'off');
      } catch (e) {
        setState('offline', 'off');
        document.querySelector('[data-testid=live]')?.setAttribute('title', String(e.message || e));
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();
}

// Calls `listener` for every job event from now on, and with {reload: true} when the page should reload its
// data (the feed started over); returns the function that stops it.
export function onJobEvent(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
