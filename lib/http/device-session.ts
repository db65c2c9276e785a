/** The device a request acts for, and the login session it is on. */
export interface DeviceSession {
  /** The device's id, as the devices API shows it. */
  deviceId: string;
  /**
   * The login session: sign it into the access and refresh tokens as the `sessionClaim` (`sid`). Every login makes
   * a new one, so logging a device out kills every token of that login, including ones a thief copied. With
   * express-session it is the express-session id, as secret as the session cookie: never send it to the client.
   */
  sessionId: string;
  /**
   * The claims to sign into both tokens: `{ sid: sessionId }` (named after the `sessionClaim` option). Spread it into
   * the payload, `jwt.sign({ sub: user.id, ...device.claims })`, so every token of this login can be refused at once.
   * Not enumerable: copying or serialising the session leaves it out.
   */
  readonly claims: Readonly<Record<string, string>>;
}

/** A device session as the services hand it around, before the claim name is known. */
export type SessionRef = Omit<DeviceSession, 'claims'>;

/** `ref` itself (its identity matters to the login service), with its `claims` under the claim name `sessionClaim`. */
export function withClaims(ref: SessionRef, sessionClaim: string): DeviceSession {
  if (!Object.hasOwn(ref, 'claims')) {
    Object.defineProperty(ref, 'claims', { get: () => ({ [sessionClaim]: ref.sessionId }), enumerable: false });
  }
  return ref as DeviceSession;
}

const DEVICE_SESSION = Symbol('device-tracker:device-session');
const SESSION_LOOKED_AT = Symbol('device-tracker:session-looked-at');
const SESSION_CHECKED = Symbol('device-tracker:session-checked');

type Marked = { [DEVICE_SESSION]?: DeviceSession; [SESSION_LOOKED_AT]?: true; [SESSION_CHECKED]?: true };

/** Remembers on the request the session the interceptor reserved or the guard verified. */
export function setDeviceSession(request: object, session: DeviceSession): void {
  (request as Marked)[DEVICE_SESSION] = session;
  markSessionChecked(request);
}

export function getDeviceSession(request: object): DeviceSession | undefined {
  return (request as Marked)[DEVICE_SESSION];
}

/**
 * Notes that one of the module's enhancers looked at the request, found a session or not: `@CurrentDevice()` then
 * answers `undefined` for "no device" rather than telling the host it is used where the module never runs.
 */
export function markSessionLookedAt(request: object): void {
  (request as Marked)[SESSION_LOOKED_AT] = true;
}

export function isSessionLookedAt(request: object): boolean {
  return (request as Marked)[SESSION_LOOKED_AT] === true;
}

/**
 * Notes that the session check is decided for this request: verified, let through without a session, or exempt.
 * Not before the user is known: a guard that ran before authentication decided nothing.
 */
export function markSessionChecked(request: object): void {
  markSessionLookedAt(request);
  (request as Marked)[SESSION_CHECKED] = true;
}

export function isSessionChecked(request: object): boolean {
  return (request as Marked)[SESSION_CHECKED] === true;
}
