/** The device a request acts for, and the login session it is on. */
export interface DeviceSession {
  /** The device's id, as the devices API shows it. */
  readonly deviceId: string;
  /**
   * The login session: sign it into the access and refresh tokens as the `sessionClaim` (`sid`). Every login makes
   * a new one, so logging a device out kills every token of that login, including ones a thief copied. With
   * express-session it is the express-session id, as secret as the session cookie: never send it to the client.
   */
  readonly sessionId: string;
  /**
   * The claims to sign into both tokens: `{ sid: sessionId }` (named after the `sessionClaim` option). Spread it into
   * the payload, `jwt.sign({ sub: user.id, ...device.claims })`, so every token of this login can be refused at once.
   * Not enumerable: copying or serialising the session leaves it out.
   */
  readonly claims: Readonly<Record<string, string>>;
}

/** A device session as the services hand it around, before the claim name is known. */
export type SessionRef = { deviceId: string; sessionId: string };

/**
 * A device session whose `claims` are named after the module's `sessionClaim`. The getter sits on the prototype, so
 * copying or serialising the session leaves `claims` out, and building one costs no more than a plain object.
 */
export class ClaimedSession implements DeviceSession {
  readonly #claim: string;

  constructor(
    readonly deviceId: string,
    readonly sessionId: string,
    claim: string,
  ) {
    this.#claim = claim;
  }

  get claims(): Readonly<Record<string, string>> {
    return { [this.#claim]: this.sessionId };
  }
}

/** `ref` as a device session: itself when it is one already (its identity matters to the login service). */
export function withClaims(ref: SessionRef, sessionClaim: string): DeviceSession {
  return ref instanceof ClaimedSession ? ref : new ClaimedSession(ref.deviceId, ref.sessionId, sessionClaim);
}

/**
 * What the module's enhancers learned of one request, kept for it so that the request is read once, at the HTTP edge:
 * the guard or interceptor writes it, the module's controllers and `@CurrentDevice()` read it.
 */
interface RequestState {
  /** One of the module's enhancers looked at the request, found a session or not. */
  lookedAt: boolean;
  /** The session check is decided: verified, let through without a session, or exempt. */
  checked: boolean;
  /** The session verified (guard) or reserved (login, refresh). */
  session?: DeviceSession;
  /** The authenticated user's id, as the session guard found it. */
  userId?: string;
  /** The session the request claims, as the session guard found it (verified or not). */
  claimedSessionId?: string;
}

/**
 * Each request's state, beside it rather than on it: adding a property to Express's request object cost about 2 µs a
 * request in a profile, the map's lookup a fraction of that; the entry goes with the request.
 */
const states = new WeakMap<object, RequestState>();

function stateOf(request: object): RequestState {
  let state = states.get(request);
  if (!state) states.set(request, (state = { lookedAt: false, checked: false }));
  return state;
}

/** Remembers on the request the session the interceptor reserved or the guard verified. */
export function setDeviceSession(request: object, session: DeviceSession): void {
  const state = stateOf(request);
  state.session = session;
  state.lookedAt = state.checked = true;
}

export function getDeviceSession(request: object): DeviceSession | undefined {
  return states.get(request)?.session;
}

/**
 * Notes that one of the module's enhancers looked at the request, found a session or not: `@CurrentDevice()` then
 * answers `undefined` for "no device" rather than telling the host it is used where the module never runs.
 */
export function markSessionLookedAt(request: object): void {
  stateOf(request).lookedAt = true;
}

export function isSessionLookedAt(request: object): boolean {
  return states.get(request)?.lookedAt === true;
}

/**
 * Notes that the session check is decided for this request: verified, let through without a session, or exempt.
 * Not before the user is known: a guard that ran before authentication decided nothing.
 */
export function markSessionChecked(request: object): void {
  const state = stateOf(request);
  state.lookedAt = state.checked = true;
}

export function isSessionChecked(request: object): boolean {
  return states.get(request)?.checked === true;
}

/** Notes who the session guard found the caller to be, and which session the request claims. */
export function setCaller(request: object, userId: string, claimedSessionId: string | undefined): void {
  const state = stateOf(request);
  state.userId = userId;
  state.claimedSessionId = claimedSessionId;
}

/** The caller as the session guard found it: `undefined` when no session guard has read the request. */
export function getCaller(request: object): { userId: string; claimedSessionId?: string } | undefined {
  const state = states.get(request);
  return state?.userId === undefined ? undefined : { userId: state.userId, claimedSessionId: state.claimedSessionId };
}
