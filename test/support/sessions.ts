import fastifyCookie from '@fastify/cookie';
import fastifySession, { MemoryStore as FastifyMemoryStore } from '@fastify/session';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import expressSession, { type SessionData } from 'express-session';
import type { SessionStoreLike } from 'nestjs-device-tracker';
import { PLATFORM } from './platform.js';

// The fixture keeps the signed-in user's id in the session.
declare module 'express-session' {
  interface SessionData {
    userId?: string;
  }
}
declare module 'fastify' {
  interface Session {
    userId?: string;
  }
}

const SESSION_SECRET = 'session-fixture-secret-of-32-chars-or-more';
export const SESSION_COOKIE = 'sid';

/** The session middleware of the platform under test. */
export const SESSION_MIDDLEWARE = PLATFORM === 'fastify' ? '@fastify/session' : 'express-session';

/** A session as @fastify/session stores it. */
type FastifySession = Parameters<FastifyMemoryStore['set']>[1];

/** What the tests read of a stored session. */
export interface StoredSession {
  userId?: string;
}

/**
 * The session middleware of the platform under test, on an in-memory store the tests can read: express-session on
 * Express, @fastify/session (with @fastify/cookie) on Fastify. Both sign the `sid` cookie the same way
 * (`s:<session id>.<signature>`), which only express-session URL-encodes.
 */
export interface TestSessions {
  /** The store: the middleware's, and the tracker's `sessionStore`. */
  readonly store: SessionStoreLike;
  /**
   * Installs the middleware on `app`, before `init()`. `resave`: unmodified sessions are saved back to the store as
   * the response ends (express-session's `resave`, @fastify/session's `rolling`).
   */
  install(app: INestApplication, options: { resave: boolean }): Promise<void>;
  /** Every session in the store, by id. */
  all(): Promise<Record<string, StoredSession>>;
  /** Puts `session` back in the store under `id`, as a replica that missed a destroy would. */
  put(id: string, session: StoredSession): Promise<void>;
}

/** Resolves with a store's callback. */
function settled(call: (callback: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => call((error) => (error ? reject(error as Error) : resolve())));
}

function expressSessions(): TestSessions {
  const store = new expressSession.MemoryStore();
  return {
    store,
    install: async (app, { resave }) => {
      app.use(
        expressSession({ store, secret: SESSION_SECRET, resave, saveUninitialized: false, name: SESSION_COOKIE }),
      );
    },
    all: () =>
      new Promise((resolve, reject) =>
        store.all((error, sessions) => (error ? reject(error as Error) : resolve(sessions ?? {}))),
      ),
    put: (id, session) => settled((done) => store.set(id, session as SessionData, done)),
  };
}

function fastifySessions(): TestSessions {
  const sessions = new Map<string, FastifySession>();
  const store = new FastifyMemoryStore(sessions);
  return {
    store,
    install: async (app, { resave }) => {
      const fastify = app as NestFastifyApplication;
      await fastify.register(fastifyCookie);
      await fastify.register(fastifySession, {
        store,
        secret: SESSION_SECRET,
        cookieName: SESSION_COOKIE,
        cookiePrefix: 's:',
        // Plain HTTP in the tests; @fastify/session defaults to Secure cookies, express-session does not.
        cookie: { secure: false },
        saveUninitialized: false,
        rolling: resave,
      });
    },
    all: async () => Object.fromEntries(sessions),
    put: (id, session) => settled((done) => store.set(id, session as FastifySession, done)),
  };
}

/** A new store and middleware for the platform under test. */
export function testSessions(): TestSessions {
  return PLATFORM === 'fastify' ? fastifySessions() : expressSessions();
}
