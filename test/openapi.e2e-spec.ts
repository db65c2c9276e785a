import type { INestApplication } from '@nestjs/common';
import { SwaggerModule, DocumentBuilder, type OpenAPIObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { DeviceTrackerModule } from 'nestjs-device-tracker';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAppModule } from './fixtures/host-app.module.js';
import { PLATFORM, startTestApp } from './support/platform.js';
import { startSampleApp } from './support/sample-app.js';
import { ADMIN_DEVICE_VIEW_KEYS, DEVICE_VIEW_KEYS } from './support/view-keys.js';

interface Operation {
  tags?: string[];
  security?: unknown[];
  parameters?: unknown[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

/** What every devices operation must declare. */
const described = (route: string) => ({
  route,
  tags: ['devices'],
  security: [{ bearer: [] }],
  responses: expect.arrayContaining(['200', '401', '503']),
});

describe('OpenAPI description of the devices endpoints', () => {
  let app: INestApplication;
  let document: OpenAPIObject;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HostAppModule.with(DeviceTrackerModule.forRoot({ path: 'account/devices' }))],
    }).compile();
    app = await startTestApp(moduleRef, { logger: false });
    document = SwaggerModule.createDocument(app, new DocumentBuilder().addBearerAuth().build());
  });

  afterAll(() => app.close());

  const operation = (path: string, method: 'get' | 'post') => document.paths[path]?.[method] as Operation;

  it('lists every endpoint at the configured path, tagged and secured by bearer tokens', () => {
    const operations = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/account/devices'))
      .flatMap(([path, item]) =>
        Object.entries(item as Record<string, Operation>).map(([method, { tags, security, responses }]) => ({
          route: `${method.toUpperCase()} ${path}`,
          tags,
          security,
          responses: Object.keys(responses),
        })),
      );
    expect(operations).toHaveLength(4);
    expect(operations).toEqual(
      expect.arrayContaining([
        described('GET /account/devices'),
        described('POST /account/devices/logout-all'),
        described('POST /account/devices/logout-others'),
        described('POST /account/devices/{id}/logout'),
      ]),
    );
  });

  it('describes the answers with named schemas, and the device schema holds no secret', () => {
    const list = operation('/account/devices', 'get');
    expect(list.responses['200']!.content!['application/json']!.schema).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/DeviceView' },
    });
    expect(list.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'limit', in: 'query', required: false }),
        expect.objectContaining({ name: 'offset', in: 'query', required: false }),
      ]),
    );
    const logout = operation('/account/devices/{id}/logout', 'post');
    expect(logout.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }),
    ]);
    expect(Object.keys(logout.responses)).toEqual(expect.arrayContaining(['400', '404']));

    const view = document.components!.schemas!.DeviceView as { properties: Record<string, unknown> };
    expect(Object.keys(view.properties).toSorted()).toEqual(DEVICE_VIEW_KEYS);
    expect(document.components!.schemas!.DeviceTrackerError).toMatchObject({
      properties: { statusCode: { type: 'number' }, message: { type: 'string' } },
    });
  });
});

describe(`The sample app's API documentation (${PLATFORM})`, () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await startSampleApp();
  });

  afterAll(() => app.close());

  it('serves Swagger UI at /docs, with its assets from the package (no CDN)', async () => {
    const page = await request(app.getHttpServer()).get('/docs').redirects(1).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const assets = [...page.text.matchAll(/<(?:script src|link rel="stylesheet" type="text\/css" href)="([^"]+)"/g)];
    expect(assets.map(([, url]) => url)).toEqual(
      expect.arrayContaining(['./docs/swagger-ui-bundle.js', './docs/swagger-ui.css']),
    );
    for (const [, url] of assets) {
      // Relative to /docs, as the browser resolves them.
      await request(app.getHttpServer()).get(new URL(url!, 'http://app/docs').pathname).expect(200);
    }
  });

  it('serves the document, with the devices and admin endpoints and the login', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/auth/login',
        '/auth/refresh',
        '/api/devices',
        '/api/devices/{id}/logout',
        '/api/admin/devices',
        '/api/admin/devices/{id}/logout',
      ]),
    );
    const adminList = body.paths['/api/admin/devices'].get;
    expect(adminList.tags).toEqual(['devices (admin)']);
    expect(adminList.parameters.map((parameter: { name: string }) => parameter.name).toSorted()).toEqual(
      ['active', 'ip', 'limit', 'offset', 'seenSince', 'userId'].toSorted(),
    );
    expect(Object.keys(adminList.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '503']));
    expect(adminList.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AdminDevicesPage',
    });
    expect(Object.keys(body.components.schemas.AdminDeviceView.properties).toSorted()).toEqual(ADMIN_DEVICE_VIEW_KEYS);
  });
});
