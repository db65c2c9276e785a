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
}

const DEVICE_SESSION = Symbol('device-tracker:device-session');

type WithDeviceSession = { [DEVICE_SESSION]?: DeviceSession };

/** Remembers on the request the session the interceptor reserved or the guard verified. */
export function setDeviceSession(request: object, session: DeviceSession): void {
  (request as WithDeviceSession)[DEVICE_SESSION] = session;
}

export function getDeviceSession(request: object): DeviceSession | undefined {
  return (request as WithDeviceSession)[DEVICE_SESSION];
}
