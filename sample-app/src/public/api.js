// What both pages share: signing in, calling the API with the access token (refreshed once when it is refused),
// and turning error answers into sentences.

/**
 * Tokens live in sessionStorage: they last as long as the tab and are never sent anywhere on their own. A real app
 * would rather keep the refresh token in an httpOnly cookie; the sample keeps the API the module documents.
 */
export class Session {
  constructor(key) {
    this.key = key;
  }

  get tokens() {
    const stored = sessionStorage.getItem(this.key);
    return stored ? JSON.parse(stored) : null;
  }

  set tokens(tokens) {
    if (tokens) sessionStorage.setItem(this.key, JSON.stringify(tokens));
    else sessionStorage.removeItem(this.key);
  }
}

/** An error answer of the API: its status and the message Nest put in its body. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function errorOf(response) {
  const body = await response.json().catch(() => null);
  const message = Array.isArray(body?.message) ? body.message.join('; ') : body?.message;
  return new ApiError(response.status, message || `The server answered ${response.status}`);
}

async function post(path, body) {
  return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function signIn(session, username, password) {
  const response = await post('/auth/login', { username, password });
  if (!response.ok) throw await errorOf(response);
  session.tokens = await response.json();
}

/**
 * Signs in with `form`'s username and password when it is submitted. A refusal is shown in `box` (wrong password);
 * after a success the form is cleared and `signedIn` runs.
 */
export function handleSignIn(form, session, box, signedIn) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    try {
      await signIn(session, fields.get('username'), fields.get('password'));
    } catch (error) {
      return showMessage(box, error.message);
    }
    form.reset();
    showMessage(box, null);
    await signedIn();
  });
}

async function refresh(session) {
  const response = await post('/auth/refresh', { refresh_token: session.tokens.refresh_token });
  if (!response.ok) throw await errorOf(response);
  session.tokens = await response.json();
}

/**
 * Calls the API as the signed-in user. A 401 may only mean the access token expired, so the refresh token is tried
 * once; when that is refused too (the device was logged out), the session is over and the error says why.
 */
export async function call(session, method, path) {
  if (!session.tokens) throw new ApiError(401, 'You are signed out; sign in again.');
  const send = () => fetch(path, { method, headers: { authorization: `Bearer ${session.tokens.access_token}` } });
  let response = await send();
  if (response.status === 401) {
    const refused = await errorOf(response);
    try {
      await refresh(session);
    } catch (error) {
      session.tokens = null;
      // Why the access token was refused ("This device has been logged out") says more than the refresh's answer,
      // unless it is passport's bare "Unauthorized" for an expired token.
      throw refused.message === 'Unauthorized' ? error : refused;
    }
    response = await send();
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401) session.tokens = null;
    throw error;
  }
  return response.json();
}

/**
 * The loads of a page's list. An answer overtaken by a newer load (the filters changed, a timed reload) or by
 * signing out is dropped, and so is its error: neither says anything about the page as it is now.
 */
export class Loads {
  #started = 0;

  /** Drops every load in flight: on signing out, so an answer sent before cannot draw the list again. */
  drop() {
    this.#started++;
  }

  /** GETs `path` as the signed-in user: the answer, or undefined when the load was overtaken or dropped. */
  async get(session, path) {
    const started = ++this.#started;
    try {
      const answer = await call(session, 'GET', path);
      return started === this.#started ? answer : undefined;
    } catch (error) {
      if (started === this.#started) throw error;
    }
  }
}

/** Logs out the device this tab signed in as (the one the API marks current), then forgets its tokens. */
export async function signOut(session) {
  const devices = await call(session, 'GET', '/api/devices');
  const current = devices.find((device) => device.isCurrent);
  if (current) await call(session, 'POST', `/api/devices/${encodeURIComponent(current.id)}/logout`);
  session.tokens = null;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "just now", "5 minutes ago", "yesterday": how long ago `date` was, roughly. */
export function ago(date, now = Date.now()) {
  const seconds = Math.round((new Date(date).getTime() - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return 'just now';
}

/** A `<time>` element showing `text`, with the exact date as its tooltip. */
export function timeElement(date, text) {
  const time = document.createElement('time');
  time.dateTime = new Date(date).toISOString();
  time.title = new Date(date).toLocaleString('en');
  time.textContent = text;
  return time;
}

/** Shows `message` in the page's alert box, or hides the box when there is none. */
export function showMessage(box, message, kind = 'error') {
  box.hidden = !message;
  box.textContent = message ?? '';
  box.className = `message ${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}
