import fastifyCookie from '@fastify/cookie';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import { Device, DeviceTrackerModule } from 'nestjs-device-tracker';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { TEST_DB } from './support/database.js';
import { createTestApp, initTestApp, PLATFORM, type TestAppOptions } from './support/platform.js';

const HOST_COOKIE = { name: 'theme', value: 'dark' };
const COOKIE_PARSER = PLATFORM === 'fastify' ? '@fastify/cookie' : 'cookie-parser';

/**
 * The platform's cookie parser, which fills `request.cookies` for the module to read, and a cookie of the host's
 * own on every answer, set through the platform's API (`reply.setCookie`, `res.cookie`).
 */
async function useHostCookies(app: INestApplication): Promise<void> {
  if (PLATFORM === 'fastify') {
    const fastify = app as NestFastifyApplication;
    await fastify.register(fastifyCookie);
    fastify
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', async (_request, reply) => {
        reply.setCookie(HOST_COOKIE.name, HOST_COOKIE.value);
      });
    return;
  }
  app.use(cookieParser());
  app.use((_request: Request, response: Response, next: NextFunction) => {
    response.cookie(HOST_COOKIE.name, HOST_COOKIE.value);
    next();
  });
}

const setCookies = (response: request.Response): string[] =>
  ([] as string[]).concat(response.headers['set-cookie'] ?? []);

const deviceCookieOf = (response: request.Response) =>
  setCookies(response).find((cookie) => cookie.startsWith('device_id='));

describe.each([
  ['without a cookie parser', false],
  [`with ${COOKIE_PARSER} and a cookie of the host's own`, true],
])(`the device id cookie, %s (${TEST_DB})`, (_label, withHostCookies) => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(options: TestAppOptions = {}): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot())],
    }).compile();
    const created = createTestApp(moduleRef, { logger: false, ...options });
    if (withHostCookies) await useHostCookies(created);
    app = await initTestApp(created);
    return app;
  }

  const login = (headers: Record<string, string> = {}) =>
    request(app!.getHttpServer()).post('/login').set(headers).send({ userId: 'alice' }).expect(200);

  it('hands the id back in an httpOnly, SameSite=Lax cookie for the whole site, not Secure over plain HTTP', async () => {
    await start();
    const response = await login();

    const deviceId = response.headers['x-device-id'];
    expect(deviceCookieOf(response)).toBe(`device_id=${deviceId}; Max-Age=34560000; Path=/; HttpOnly; SameSite=Lax`);
    // The host's cookie goes out too: neither platform's way of setting cookies drops the other's.
    const names = setCookies(response).map((cookie) => cookie.slice(0, cookie.indexOf('=')));
    expect(names.toSorted()).toEqual(withHostCookies ? ['device_id', HOST_COOKIE.name] : ['device_id']);
  });

  it('recognises the device from the cookie alone, among other cookies', async () => {
    await start();
    const first = await login();
    const deviceId = first.headers['x-device-id'];

    const again = await login({
      cookie: `${HOST_COOKIE.name}=${HOST_COOKIE.value}; device_id=${deviceId.toUpperCase()}; lang=en`,
    });

    expect(again.headers['x-device-id']).toBe(deviceId);
    expect(await app!.get(DataSource).getRepository(Device).count()).toBe(1);
  });

  it('marks the cookie Secure behind a trusted proxy that terminated TLS (X-Forwarded-Proto: https)', async () => {
    await start({ trustProxy: 'loopback' });
    const response = await login({ 'x-forwarded-proto': 'https' });

    expect(deviceCookieOf(response)).toMatch(/; Secure(;|$)/);
  });

  it('does not believe X-Forwarded-Proto from a proxy the app does not trust', async () => {
    await start();
    const response = await login({ 'x-forwarded-proto': 'https' });

    expect(deviceCookieOf(response)).not.toMatch(/Secure/);
  });
});
