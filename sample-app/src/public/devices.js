// "Your devices": the signed-in user's devices from GET /api/devices, each with a log-out button, and a button
// that logs out all the others. Every value from the server is put in the page as text, never as HTML.
import { ago, call, handleSignIn, Loads, Session, showMessage, signOut, timeElement } from './api.js';

const DEVICES = '/api/devices';
/** How often the list is reloaded while the page is visible, so a device logged out elsewhere notices. */
const RELOAD_EVERY_MS = 15_000;

const session = new Session('device-tracker-sample');
const $ = (selector) => document.querySelector(selector);
const message = $('#message');
const loads = new Loads();

function signedOut(reason) {
  session.tokens = null;
  loads.drop();
  $('#device-list').replaceChildren();
  $('#sign-in').hidden = false;
  $('#devices').hidden = true;
  $('#sign-out').hidden = true;
  $('#who').hidden = true;
  showMessage(message, reason);
}

/** Runs one API action; any refusal is shown as the server worded it, and a lost session shows the sign-in form. */
async function attempt(action) {
  try {
    await action();
  } catch (error) {
    if (!session.tokens) signedOut(error.message);
    else showMessage(message, error.message);
  }
}

function card(device) {
  const item = $('#device-card').content.firstElementChild.cloneNode(true);
  item.dataset.deviceId = device.id;
  item.classList.toggle('is-current', device.isCurrent);
  item.classList.toggle('is-inactive', !device.isActive);
  item.querySelector('.device-icon').dataset.type = device.deviceType;
  item.querySelector('.device-name').textContent = device.deviceName;
  item.querySelector('.badge.current').hidden = !device.isCurrent;
  item.querySelector('.badge.inactive').hidden = device.isActive;
  item.querySelector('.browser').textContent = device.browser ?? 'Unknown';
  item.querySelector('.os').textContent = device.os ?? 'Unknown';
  item.querySelector('.ip').textContent = device.ipAddress ?? 'Not recorded';
  item.querySelector('.last-active').append(timeElement(device.lastSeenAt, ago(device.lastSeenAt)));
  item
    .querySelector('.first-seen')
    .append(
      timeElement(device.createdAt, new Date(device.createdAt).toLocaleDateString('en', { dateStyle: 'medium' })),
    );
  const logout = item.querySelector('.logout');
  logout.hidden = !device.isActive;
  logout.textContent = device.isCurrent ? 'Log out this device' : 'Log out';
  logout.addEventListener('click', () => attempt(() => logOut(device)));
  return item;
}

async function load() {
  const devices = await loads.get(session, DEVICES);
  if (!devices) return;
  const current = devices.find((device) => device.isCurrent);
  $('#device-list').replaceChildren(...devices.map(card));
  $('#who').textContent = current ? `Signed in on ${current.deviceName}` : 'Signed in';
  $('#who').hidden = false;
  $('#sign-in').hidden = true;
  $('#devices').hidden = false;
  $('#sign-out').hidden = false;
  $('#logout-others').disabled = !devices.some((device) => device.isActive && !device.isCurrent);
}

async function logOut(device) {
  await call(session, 'POST', `${DEVICES}/${encodeURIComponent(device.id)}/logout`);
  if (device.isCurrent) return signedOut('You signed out of this device.');
  await load();
  showMessage(message, `${device.deviceName} was logged out.`, 'info');
}

handleSignIn($('#sign-in'), session, message, () => attempt(load));

$('#refresh').addEventListener('click', () => attempt(load));

$('#logout-others').addEventListener('click', () => {
  // Every other device has to sign in again: one click too many should not do that.
  if (!confirm('Log out all your other devices? Each of them will have to sign in again.')) return;
  attempt(async () => {
    const { loggedOut } = await call(session, 'POST', `${DEVICES}/logout-others`);
    await load();
    showMessage(message, `Logged out ${loggedOut} other ${loggedOut === 1 ? 'device' : 'devices'}.`, 'info');
  });
});

$('#sign-out').addEventListener('click', () =>
  attempt(async () => {
    await signOut(session);
    signedOut('You signed out of this device.');
  }),
);

setInterval(() => {
  if (session.tokens && document.visibilityState === 'visible') attempt(load);
}, RELOAD_EVERY_MS);

if (session.tokens) attempt(load);
else signedOut(null);
