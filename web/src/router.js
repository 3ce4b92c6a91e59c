// The hash route: "#/job/ID?tab=timeline" -> {path: ['job', 'ID'], params}. Pages keep their state
// (filters, tab, task) in the query so a reload or a shared link shows the same view.

export function parseHash() {
  const [path, query] = (location.hash.replace(/^#\/?/, '') || '').split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query || '') };
}

// Changes the current page's query without re-rendering it.
export function setQuery(params) {
  const { path } = parseHash();
  const query = params.toString();
  history.replaceState(null, '', `#/${path.map(encodeURIComponent).join('/')}${query ? `?${query}` : ''}`);
}
