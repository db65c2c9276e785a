import { parseCookie, stringifySetCookie } from 'cookie';
import type { ResolvedDeviceTrackerOptions } from '../device-tracker.options.js';
import { getDeviceSession } from './device-session.js';
import { normaliseDeviceId } from '../values/device-id.js';
import type { DeviceRequest } from '../interfaces/device-request.interface.js';

/** The response methods used to hand the device id back; Express and Fastify responses both have one of them. */
export interface DeviceResponse {
  /** Express: adds a value without replacing others (several `Set-Cookie` headers). */
  append?(name: string, value: string): unknown;
  /** Fastify: `reply.header()` accumulates `set-cookie` values. */
  header?(name: string, value: string): unknown;
}

function cookieValue(request: DeviceRequest, name: string): string | undefined {
  if (request.cookies) return request.cookies[name];
  const header = request.headers.cookie;
  return header ? parseCookie(header)[name] : undefined;
}

/**
 * The device id the client presents (header first, then cookie). Anything that is not a UUID is ignored, so a
 * malformed value can only ever mean "a new device".
 */
export function presentedDeviceId(request: DeviceRequest, options: ResolvedDeviceTrackerOptions): string | undefined {
  const header = options.deviceIdHeader ? request.headers[options.deviceIdHeader] : undefined;
  const fromHeader = normaliseDeviceId(Array.isArray(header) ? header[0] : header);
  if (fromHeader) return fromHeader;
  return options.deviceIdCookie ? normaliseDeviceId(cookieValue(request, options.deviceIdCookie.name)) : undefined;
}

/**
 * The device the request comes from: the one its session was verified against (by `DeviceSessionGuard`) or
 * reserved for (by the login interceptor) when there is one, otherwise the id the client presents.
 */
export function currentDeviceId(request: DeviceRequest, options: ResolvedDeviceTrackerOptions): string | undefined {
  return getDeviceSession(request)?.deviceId ?? presentedDeviceId(request, options);
}

function isSecure(request: DeviceRequest): boolean {
  return request.secure ?? request.protocol === 'https';
}

/** The `Set-Cookie` value around the device id, for each `secure`: the cookie library's own output, built once. */
const cookieTemplates = new WeakMap<object, Map<boolean, [string, string]>>();

function deviceIdCookie(cookie: Exclude<ResolvedDeviceTrackerOptions['deviceIdCookie'], false>, secure: boolean) {
  let templates = cookieTemplates.get(cookie);
  if (!templates) cookieTemplates.set(cookie, (templates = new Map()));
  let template = templates.get(secure);
  if (!template) {
    const { name, maxAge, secure: _secure, ...attributes } = cookie;
    const options = { ...attributes, httpOnly: true, maxAge: Math.floor(maxAge / 1000), secure };
    // A device id is a UUID, which the cookie library writes as it is: only the text around it depends on the options.
    const sample = stringifySetCookie(name, '0', options);
    template = [sample.slice(0, name.length + 1), sample.slice(name.length + 2)];
    templates.set(secure, template);
  }
  return template;
}

/** Hands the device id back to the client in the configured header and httpOnly cookie. */
export function writeDeviceId(
  request: DeviceRequest,
  response: DeviceResponse,
  deviceId: string,
  options: ResolvedDeviceTrackerOptions,
): void {
  const set = (name: string, value: string) =>
    typeof response.append === 'function' ? response.append(name, value) : response.header?.(name, value);
  if (options.deviceIdHeader) set(options.deviceIdHeader, deviceId);
  const cookie = options.deviceIdCookie;
  if (cookie) {
    const [before, after] = deviceIdCookie(cookie, cookie.secure ?? isSecure(request));
    set('Set-Cookie', `${before}${deviceId}${after}`);
  }
}
