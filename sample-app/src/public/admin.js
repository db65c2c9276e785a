// The admin panel: every user's devices from the module's admin endpoints, filtered and paged, with a log-out
// button per device and one for all of a user's devices. Every value from the server is put in the page as text.
import { ago, call, handleSignIn, Loads, Session, showMessage, signOut, timeElement } from './api.js';

const ADMIN = '/api/admin/devices';
const PAGE_SIZE = 20;

const session = new Session('device-tracker-sample-admin');
const $ = (selector) => document.querySelector(selector);
const message = $('#message');
const loads = new Loads();
let offset = 0;
/**
 * The query the table on screen was loaded with. Actions act on it and reload it, whatever the filter fields say by
 * then: an id typed but not yet filtered by must not be the user whose devices are all logged out.
 */
let shown = null;

function signedOut(reason) {
  session.tokens = null;
  loads.drop();
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
      await load(shown);
      showMessage(message, `${device.deviceName} of user ${device.userId} was logged out.`, 'info');
    }),
  );
  return item;
}

async function load(params = query()) {
  const page = await loads.get(session, `${ADMIN}?${params}`);
  if (!page) return;
  shown = params;
  $('#rows').replaceChildren(...page.items.map(row));
  $('#empty').hidden = page.items.length > 0;
  const last = page.offset + page.items.length;
  $('#range').textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : '0 devices';
  $('#previous').disabled = page.offset === 0;
  $('#next').disabled = last >= page.total;
  const userId = params.get('userId');
  $('#logout-user').hidden = !userId;
  $('#logout-user').textContent = `Log out all devices of user ${userId}`;
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

$('#logout-user').addEventListener('click', () => {
  const userId = shown.get('userId');
  if (!confirm(`Log out all devices of user ${userId}? Each of them will have to sign in again.`)) return;
  attempt(async () => {
    const { loggedOut } = await call(session, 'POST', `${ADMIN}/logout-all?${new URLSearchParams({ userId })}`);
    await load(shown);
    showMessage(
      message,
      `Logged out ${loggedOut} ${loggedOut === 1 ? 'device' : 'devices'} of user ${userId}.`,
      'info',
    );
  });
});

$('#sign-out').addEventListener('click', () =>
  attempt(async () => {
    await signOut(session);
    signedOut('You signed out of the admin panel.');
  }),
);

if (session.tokens) attempt(load);
else signedOut(null);
