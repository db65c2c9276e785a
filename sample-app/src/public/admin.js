// The admin panel: every user's devices from the module's admin endpoints, filtered and paged, with a log-out
// button per device and one for all of a user's devices. Every value from the server is put in the page as text.
import { ago, call, handleSignIn, Session, showMessage, signOut, timeElement } from './api.js';

const ADMIN = '/api/admin/devices';
const PAGE_SIZE = 20;

const session = new Session('device-tracker-sample-admin');
const $ = (selector) => document.querySelector(selector);
const message = $('#message');
let offset = 0;

function signedOut(reason) {
  session.tokens = null;
  $('#rows').replaceChildren();
  $('#sign-in').hidden = false;
  $('#panel').hidden = true;
  $('#sign-out').hidden = true;
  showMessage(message, reason);
}

async function attempt(action) {
  try {
    await action();
  } catch (error) {
    // Signed in, but not an administrator: end the session this page opened rather than leave it behind.
    if (error.status === 403) await signOut(session).catch(() => undefined);
    if (!session.tokens || error.status === 403) signedOut(error.message);
    else showMessage(message, error.message);
  }
}

/** The filters as query parameters: empty fields are left out, the local date and time is sent as ISO 8601. */
function query() {
  const form = new FormData($('#filters'));
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
  for (const name of ['userId', 'active', 'ip']) {
    const value = form.get(name).trim();
    if (value) params.set(name, value);
  }
  const since = form.get('seenSince');
  if (since) params.set('seenSince', new Date(since).toISOString());
  return params;
}

function row(device) {
  const item = $('#row').content.firstElementChild.cloneNode(true);
  item.dataset.deviceId = device.id;
  item.querySelector('.user').textContent = device.userId;
  item.querySelector('.name').textContent = device.isCurrent ? `${device.deviceName} (you)` : device.deviceName;
  item.querySelector('.agent').textContent = device.userAgent;
  item.querySelector('.ip').textContent = device.ipAddress ?? '–';
  item.querySelector('.last-seen').append(timeElement(device.lastSeenAt, ago(device.lastSeenAt)));
  item
    .querySelector('.first-seen')
    .append(timeElement(device.createdAt, new Date(device.createdAt).toLocaleString('en')));
  const status = item.querySelector('.status');
  if (device.isActive) status.textContent = 'Active';
  else status.append('Logged out ', timeElement(device.revokedAt, ago(device.revokedAt)));
  const logout = item.querySelector('.logout');
  logout.hidden = !device.isActive;
  logout.addEventListener('click', () =>
    attempt(async () => {
      await call(session, 'POST', `${ADMIN}/${encodeURIComponent(device.id)}/logout`);
      await load();
      showMessage(message, `${device.deviceName} of user ${device.userId} was logged out.`, 'info');
    }),
  );
  return item;
}

/** Counts the loads started, so an answer overtaken by a newer request (filters changed meanwhile) is dropped. */
let loads = 0;

async function load() {
  const started = ++loads;
  const page = await call(session, 'GET', `${ADMIN}?${query()}`);
  if (started !== loads) return;
  $('#rows').replaceChildren(...page.items.map(row));
  $('#empty').hidden = page.items.length > 0;
  const last = page.offset + page.items.length;
  $('#range').textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : '0 devices';
  $('#previous').disabled = page.offset === 0;
  $('#next').disabled = last >= page.total;
  $('#logout-user').hidden = !new FormData($('#filters')).get('userId').trim();
  $('#sign-in').hidden = true;
  $('#panel').hidden = false;
  $('#sign-out').hidden = false;
}

handleSignIn($('#sign-in'), session, message, () => attempt(load));

$('#filters').addEventListener('submit', (event) => {
  event.preventDefault();
  offset = 0;
  showMessage(message, null);
  attempt(load);
});

$('#filters').addEventListener('reset', () => {
  offset = 0;
  showMessage(message, null);
  // The form clears its fields after this event.
  setTimeout(() => attempt(load));
});

$('#previous').addEventListener('click', () => {
  offset = Math.max(0, offset - PAGE_SIZE);
  attempt(load);
});

$('#next').addEventListener('click', () => {
  offset += PAGE_SIZE;
  attempt(load);
});

$('#logout-user').addEventListener('click', () =>
  attempt(async () => {
    const userId = new FormData($('#filters')).get('userId').trim();
    const { loggedOut } = await call(session, 'POST', `${ADMIN}/logout-all?${new URLSearchParams({ userId })}`);
    await load();
    showMessage(
      message,
      `Logged out ${loggedOut} ${loggedOut === 1 ? 'device' : 'devices'} of user ${userId}.`,
      'info',
    );
  }),
);

$('#sign-out').addEventListener('click', () =>
  attempt(async () => {
    await signOut(session);
    signedOut('You signed out of the admin panel.');
  }),
);

if (session.tokens) attempt(load);
else signedOut(null);
