// The Open Flow API as the dashboard calls it: same-origin /v2/ routes, the {code, message, data} envelope.
// A non-zero code becomes an ApiError carrying FATE's code and message, so pages can show them as they are.

export class ApiError extends Error {
  constructor(code, message, route) {
    super(`${route}: ${message} (code ${code})`);
    this.code = code;
    this.route = route;
  }
}

async function call(method, route, params) {
  let url = `/v2/${route}`;
  const init = { method, headers: {} };
  if (method === 'GET') {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') query.append(k, v);
    if ([...query].length) url += `?${query}`;
  } else {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(params || {});
  }
  const response = await fetch(url, init);
  let envelope;
  try {
    envelope = await response.json();
  } catch {
    throw new ApiError(response.status, `HTTP ${response.status}, not JSON`, route);
  }
  if (envelope.code !== 0) throw new ApiError(envelope.code, envelope.message, route);
  return envelope.data;
}

export const get = (route, params) => call('GET', route, params);
export const post = (route, body) => call('POST', route, body);
