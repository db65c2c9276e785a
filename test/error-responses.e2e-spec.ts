import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM } from './support/platform.js';
import { signInToSample, startSampleApp } from './support/sample-app.js';

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

interface Case {
  name: string;
  method: 'get' | 'post';
  path: string;
  as?: 'alice' | 'admin' | 'logged-out' | 'garbage';
  body?: string | object;
  contentType?: string;
  status: number;
  /** What the message says (or a matcher); a list for the errors of Nest's ValidationPipe, one per problem. */
  message: unknown;
}

/**
 * Every way the sample app's module routes (and its login) refuse a request, on both platforms: always Nest's shape,
 * `{ statusCode, message, error? }` with nothing else in it, and a message that says what to change.
 */
const CASES: Case[] = [
  { name: 'no token', method: 'get', path: '/api/devices', status: 401, message: 'Unauthorized' },
  {
    name: 'a malformed token',
    method: 'get',
    path: '/api/devices',
    as: 'garbage',
    status: 401,
    message: 'Unauthorized',
  },
  {
    name: 'a logged-out device',
    method: 'get',
    path: '/api/devices',
    as: 'logged-out',
    status: 401,
    message: 'This device has been logged out; sign in again',
  },
  {
    name: 'limit out of range',
    method: 'get',
    path: '/api/devices?limit=0',
    as: 'alice',
    status: 400,
    message: 'limit must be a whole number from 1 to 100',
  },
  {
    name: 'offset not a number',
    method: 'get',
    path: '/api/devices?offset=abc',
    as: 'alice',
    status: 400,
    message: expect.stringMatching(/^offset must be a whole number/),
  },
  {
    name: 'a device id that is not a UUID',
    method: 'post',
    path: '/api/devices/1%27%20OR%201=1/logout',
    as: 'alice',
    status: 400,
    message: 'Device id must be a UUID',
  },
  {
    name: 'a device that does not exist',
    method: 'post',
    path: `/api/devices/${UNKNOWN_UUID}/logout`,
    as: 'alice',
    status: 404,
    message: 'Device not found',
  },
  {
    name: 'admin listing by a plain user',
    method: 'get',
    path: '/api/admin/devices',
    as: 'alice',
    status: 403,
    message: 'Only administrators can manage the devices of other users',
  },
  {
    name: 'admin filter: a bad IP address',
    method: 'get',
    path: '/api/admin/devices?ip=300.1.1.1',
    as: 'admin',
    status: 400,
    message: expect.stringMatching(/^ip must be/),
  },
  {
    name: 'admin filter: a bad date',
    method: 'get',
    path: '/api/admin/devices?seenSince=yesterday',
    as: 'admin',
    status: 400,
    message: expect.stringMatching(/^seenSince must be/),
  },
  {
    name: 'admin filter: a bad boolean',
    method: 'get',
    path: '/api/admin/devices?active=maybe',
    as: 'admin',
    status: 400,
    message: 'active must be true or false',
  },
  {
    name: 'admin logout of a device that does not exist',
    method: 'post',
    path: `/api/admin/devices/${UNKNOWN_UUID}/logout`,
    as: 'admin',
    status: 404,
    message: 'Device not found',
  },
  {
    name: 'admin logout-all without a user',
    method: 'post',
    path: '/api/admin/devices/logout-all',
    as: 'admin',
    status: 400,
    message: expect.stringMatching(/^userId is required/),
  },
  {
    name: 'a wrong password',
    method: 'post',
    path: '/auth/login',
    body: { username: 'alice', password: 'nope' },
    status: 401,
    message: 'Wrong username or password',
  },
  {
    name: 'a password that is a JSON number',
    method: 'post',
    path: '/auth/login',
    body: { username: 'alice', password: 1 },
    status: 400,
    message: 'username and password must be strings',
  },
  {
    name: 'a user name with a NUL',
    method: 'post',
    path: '/auth/login',
    body: { username: 'alice\u0000', password: 'alice-password' },
    status: 400,
    message: 'username must not contain control characters',
  },
  {
    name: 'a login body that is not JSON',
    method: 'post',
    path: '/auth/login',
    body: '{"username": ',
    contentType: 'application/json',
    status: 400,
    message: expect.stringMatching(/JSON/),
  },
  {
    name: 'a refresh token that is not a JWT',
    method: 'post',
    path: '/auth/refresh',
    body: { refresh_token: 'nope' },
    status: 400,
    message: ['refresh_token must be a JWT'],
  },
  {
    // class-transformer, under the ValidationPipe, walks a body recursively: this overflowed the stack (a 500).
    name: 'a refresh body nested thousands of levels deep',
    method: 'post',
    path: '/auth/refresh',
    body: `${'['.repeat(3000)}${']'.repeat(3000)}`,
    contentType: 'application/json',
    status: 400,
    message: 'The request body is nested more than 32 levels deep',
  },
  {
    name: 'an unknown route',
    method: 'get',
    path: '/api/nothing-here',
    status: 404,
    message: expect.stringMatching(/nothing-here/),
  },
];

describe(`Error answers (${PLATFORM})`, () => {
  let app: INestApplication;
  const tokens: Record<string, string> = { garbage: 'not.a.jwt' };

  beforeAll(async () => {
    app = await startSampleApp();
    const login = async (username: string) => (await signInToSample(app, username)).access;
    tokens.alice = await login('alice');
    tokens.admin = await login('admin');
    tokens['logged-out'] = await login('bob');
    await request(app.getHttpServer())
      .post('/api/devices/logout-all')
      .auth(tokens['logged-out']!, { type: 'bearer' })
      .expect(200);
  });

  afterAll(() => app.close());

  it.each(CASES)('$name: $status', async ({ method, path, as, body, contentType, status, message }) => {
    let call = request(app.getHttpServer())[method](path);
    if (as) call = call.auth(tokens[as]!, { type: 'bearer' });
    if (contentType) call = call.set('content-type', contentType);
    const response = await (body === undefined ? call : call.send(body));

    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const { statusCode, message: said, error, ...rest } = response.body;
    expect(rest).toEqual({});
    expect(statusCode).toBe(status);
    expect(said).toEqual(message);
    expect(['undefined', 'string']).toContain(typeof error);
  });
});
