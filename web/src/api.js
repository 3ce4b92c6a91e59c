// The Open Flow API as the dashboard calls it: same-origin /v2/ routes, the {code, message, data} envelope.
// A non-zero code becomes an ApiError carrying FATE's code and message, so pages can show them as they are.
//
// With client authentication on, the user signs in with a client app (kept for this browser tab only, in
// sessionStorage) and every request is signed as the flow CLI signs, in the hmac-sha256 form the server
// accepts (Web Crypto has no MD5): appId, userName, a 4-character nonce, the time, and
// Signature = hex(HMAC-SHA256(app_token, appId \n userName \n nonce \n timestamp)).

export class ApiError extends Error {
  constructor(code, message, route) {
    super(`${route}: ${message} (code ${code})`);
    this.code = code;
    this.route = route;
  }
}

// FATE's codes for a request that is not signed, or not signed well enough for this route.
const AUTH_CODES = new Set([5001, 5002, 5003, 5004, 5005, 5006]);
const KEY = 'flowstone.app';

export function credentials() {
  try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; }
}
export function signIn(app) { sessionStorage.setItem(KEY, JSON.stringify(app)); }
export function signOut() { sessionStorage.removeItem(KEY); }

export async function signedHeaders() {
  const app = credentials();
  if (!app) return {};
  const nonce = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
  const timestamp = String(Date.now());
  const user = app.userName || 'dashboard';
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(app.appToken), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${app.appId}\n${user}\n${nonce}\n${timestamp}`));
  const signature = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { appId: app.appId, userName: user, nonce, timestamp, signature, 'Signature-Method': 'hmac-sha256' };
}

// True when an error says the request needs (better) credentials: the page then asks for an app.
export function needsSignIn(error) {
  return error instanceof ApiError && AUTH_CODES.has(error.code) &&
    /appId|Signature|Timestamp|Nonce|appid|varify|Authentication|No permission/.test(error.message);
}

async function call(method, route, params) {
  let url = `/v2/${route}`;
  const init = { method, headers: await signedHeaders() };
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
  // A few FATE routes answer their data bare, without the envelope (output/data/display, output/data/table).
  if (envelope === null || typeof envelope !== 'object' || !('code' in envelope)) return envelope;
  if (envelope.code !== 0) {
    const error = new ApiError(envelope.code, envelope.message, route);
    if (needsSignIn(error)) window.dispatchEvent(new CustomEvent('flowstone:sign-in', { detail: error }));
    throw error;
  }
  return envelope.data;
}

export const get = (route, params) => call('GET', route, params);
export const post = (route, body) => call('POST', route, body);
