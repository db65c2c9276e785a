import type { IncomingHttpHeaders } from 'node:http';

/**
 * The parts of an HTTP request the module reads. Express's and Fastify's requests both fit; `ip` is the platform's
 * own resolution, which honours the app's proxy trust settings.
 */
export interface DeviceRequest {
  headers: IncomingHttpHeaders;
  ip?: string;
  socket?: { remoteAddress?: string };
  /** Set by cookie parsers (`cookie-parser`, `@fastify/cookie`); read from the `Cookie` header otherwise. */
  cookies?: Record<string, string | undefined>;
  /** Set by the authentication guard. */
  user?: unknown;
  /** Set by express-session. */
  sessionID?: string;
  /** Set by express-session, or by @fastify/session with its `sessionId`. */
  session?: { sessionId?: string; destroy(callback: (error?: unknown) => void): unknown } | null;
  secure?: boolean;
  protocol?: string;
}
