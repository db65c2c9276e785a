import { get } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM } from './support/platform.js';
import { serveSampleApp } from './support/sample-app.js';

/** The sample app's policy, directive by directive: its own files only, and its forms post back to it alone. */
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
];

/** The headers and body of the sample app's browser pages and their assets, on both platforms. */
describe(`The sample app's pages (${PLATFORM})`, () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    ({ app, base } = await serveSampleApp());
  });

  afterAll(() => app?.close());

  /** GETs `path` as written: supertest and fetch resolve a `..` in it before sending, as browsers do. */
  function getRaw(path: string): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      get(new URL(base), { path }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
      }).on('error', reject);
    });
  }

  it.each([
    ['/devices', 'text/html; charset=utf-8'],
    ['/admin', 'text/html; charset=utf-8'],
    ['/assets/devices.js', 'text/javascript; charset=utf-8'],
    ['/assets/styles.css', 'text/css; charset=utf-8'],
  ])('serves %s with its type, the content security policy and no MIME sniffing', async (path, type) => {
    const response = await request(base).get(path).expect(200);
    expect(response.headers['content-type']).toBe(type);
    expect(response.headers['content-security-policy']?.split('; ')).toEqual(CSP);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('sends the sign-in forms by POST, should they ever be submitted without their script', async () => {
    for (const path of ['/devices', '/admin']) {
      const { text } = await request(base).get(path).expect(200);
      expect(text).toMatch(/<form id="sign-in" [^>]*method="post"/);
    }
  });

  it('redirects / to the devices page', async () => {
    await request(base).get('/').expect(302).expect('location', '/devices');
  });

  it.each([
    ['an unknown file', '/assets/nope.js', 'No asset named nope.js'],
    ['a page under /assets', '/assets/devices.html', 'No asset named devices.html'],
    ['a name Object.prototype has', '/assets/__proto__', 'No asset named __proto__'],
    ['an escape with an encoded slash', '/assets/..%2Fpackage.json', 'No asset named ../package.json'],
    ['an escape with an encoded backslash', '/assets/..%5Cpackage.json', 'No asset named ..\\package.json'],
  ])('answers 404 in Nest’s shape for %s', async (_case, path, message) => {
    const response = await request(base).get(path).expect(404);
    expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message });
  });

  it.each(['/assets/../package.json', '/assets/../', '/assets/..'])(
    'answers 404 in Nest’s shape for %s, sent as written',
    async (path) => {
      const { status, body } = await getRaw(path);
      expect(status).toBe(404);
      expect(body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: expect.stringMatching(/^(Cannot GET|No asset named) /),
      });
    },
  );
});
