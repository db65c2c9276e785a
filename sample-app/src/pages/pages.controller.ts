import { readFile } from 'node:fs/promises';
import {
  applyDecorators,
  Controller,
  Get,
  Header,
  NotFoundException,
  Param,
  Redirect,
  StreamableFile,
} from '@nestjs/common';

const PUBLIC_DIR = new URL('../public/', import.meta.url);

/** The files under `public/` that are served, with their types: nothing else is ever read from disk. */
const FILES: Record<string, string> = {
  'devices.html': 'text/html; charset=utf-8',
  'admin.html': 'text/html; charset=utf-8',
  'styles.css': 'text/css; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'devices.js': 'text/javascript; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
};

/**
 * The pages load their own scripts and styles only: no inline code, no other origin, no framing. Their forms are
 * handled by script; should one be submitted anyway, it can only go back to this app.
 */
const CSP =
  "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; " +
  "form-action 'self'";

/** The headers of every file served: the policy, and no sniffing, so a file is only ever used as its declared type. */
const Served = () =>
  applyDecorators(Header('content-security-policy', CSP), Header('x-content-type-options', 'nosniff'));

/**
 * The browser pages: "Your devices" at `/devices` and the admin panel at `/admin`. Plain HTML and ES modules served
 * as they are, so the sample needs no front-end build, on Express and Fastify alike.
 */
@Controller()
export class PagesController {
  @Get()
  @Redirect('/devices', 302)
  home(): void {}

  @Get('devices')
  @Served()
  devices(): Promise<StreamableFile> {
    return serve('devices.html');
  }

  @Get('admin')
  @Served()
  admin(): Promise<StreamableFile> {
    return serve('admin.html');
  }

  @Get('assets/:file')
  @Served()
  asset(@Param('file') file: string): Promise<StreamableFile> {
    if (!Object.hasOwn(FILES, file) || file.endsWith('.html')) throw new NotFoundException(`No asset named ${file}`);
    return serve(file);
  }
}

async function serve(file: string): Promise<StreamableFile> {
  const body = await readFile(new URL(file, PUBLIC_DIR));
  return new StreamableFile(body, { type: FILES[file], length: body.length });
}
