import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap.js';
import { loadConfig } from './config.js';
import { DEMO_USERS } from './users/users.service.js';

const config = loadConfig(process.env);
const app = await createApp(config);
await app.listen(config.port);

const base = `http://localhost:${config.port}`;
const [{ username, password }] = DEMO_USERS;
const setup = `database: ${config.database.type}, platform: ${config.platform}, auth: ${config.auth}`;
new Logger('SampleApp').log(`Listening on ${base} (${setup}).

  Your devices:  ${base}/devices
  Admin panel:   ${base}/admin
  API docs:      ${base}/docs

Or with curl:

  curl -si -X POST ${base}/auth/login -H 'content-type: application/json' \\
       -d '{"username":"${username}","password":"${password}"}'
  curl -s ${base}/api/devices -H "authorization: Bearer <access_token>"
  curl -s -X POST ${base}/api/devices/<id>/logout -H "authorization: Bearer <access_token>"
  curl -s -X POST ${base}/auth/refresh -H 'content-type: application/json' -d '{"refresh_token":"<refresh_token>"}'

Demo users: ${DEMO_USERS.map((user) => `${user.username} / ${user.password}${user.isAdmin ? ' (administrator)' : ''}`).join(', ')}`);
