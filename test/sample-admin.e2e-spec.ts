import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM } from './support/platform.js';
import { signInToSample, startSampleApp } from './support/sample-app.js';

/** The sample app's wiring of the admin endpoints: its AdminGuard asks the users table who is an administrator. */
describe(`The sample app's admin endpoints (${PLATFORM})`, () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await startSampleApp();
  });

  afterAll(() => app.close());

  const accessToken = async (username: string) => (await signInToSample(app, username)).access;

  it('lets the administrator list every user’s devices', async () => {
    const alice = await accessToken('alice');
    const admin = await accessToken('admin');
    const { body } = await request(app.getHttpServer()).get('/api/admin/devices').auth(admin, { type: 'bearer' });
    expect(body).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(body.items.map((device: { userId: string }) => device.userId).toSorted()).toEqual(['1', '3']);
    // alice's token is still good until the administrator logs her device out.
    await request(app.getHttpServer()).get('/me').auth(alice, { type: 'bearer' }).expect(200);
  });

  it('refuses a plain user with 403 and a reason', async () => {
    const bob = await accessToken('bob');
    const refused = await request(app.getHttpServer()).get('/api/admin/devices').auth(bob, { type: 'bearer' });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Only administrators can manage the devices of other users',
    });
  });
});
