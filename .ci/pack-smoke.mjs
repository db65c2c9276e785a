// Starts the compiled sample app against the packed package and walks the main flow over HTTP:
// login twice from one device, list, log the device out, and check its refresh and access tokens are refused.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

const [main] = process.argv.slice(2);
const port = 3999;
const base = `http://127.0.0.1:${port}`;
const app = spawn(process.execPath, [main], {
  env: { ...process.env, PORT: String(port), DATABASE_URL: 'sqlite::memory:' },
  stdio: ['ignore', 'inherit', 'inherit'],
});

async function call(method, path, { token, body, headers = {} } = {}) {
  const response = await fetch(base + path, {
    method,
    headers: {
      // Only with a body: Fastify refuses an empty body announced as JSON.
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

try {
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(base);
      break;
    } catch (error) {
      if (attempt > 100 || app.exitCode !== null) throw error;
      await sleep(200);
    }
  }
  const credentials = { username: 'alice', password: 'alice-password' };
  const first = await call('POST', '/auth/login', { body: credentials });
  assert.equal(first.status, 200);
  const deviceId = first.headers.get('x-device-id');
  const second = await call('POST', '/auth/login', { body: credentials, headers: { 'x-device-id': deviceId } });
  assert.equal(second.headers.get('x-device-id'), deviceId);

  const listed = await call('GET', '/api/devices', { token: second.body.access_token });
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.body.map((device) => device.id),
    [deviceId],
  );

  const loggedOut = await call('POST', `/api/devices/${deviceId}/logout`, { token: second.body.access_token });
  assert.equal(loggedOut.status, 200);
  assert.equal(loggedOut.body.isActive, false);
  const refused = await call('POST', '/auth/refresh', { body: { refresh_token: second.body.refresh_token } });
  assert.equal(refused.status, 401);
  // The access token has not expired, but its device is logged out: refused at once.
  assert.equal((await call('GET', '/me', { token: second.body.access_token })).status, 401);
  console.log('smoke: 1 passed, 0 failed');
} finally {
  app.kill();
}
