/** Metadata key written by `@TrackDevice()` and read by `TrackDeviceInterceptor`. */
export const TRACK_DEVICE_METADATA = 'device-tracker:track-device';

/** Metadata key written by `@TrackRefresh()` and read by `TrackRefreshInterceptor`. */
export const TRACK_REFRESH_METADATA = 'device-tracker:track-refresh';

/** Name of the table that holds tracked devices; prefixed so it cannot collide with a host's own tables. */
export const DEVICES_TABLE = 'device_tracker_devices';

/** Longest user agent stored; longer ones are cut (Keycloak uses the same cap). */
export const USER_AGENT_MAX_LENGTH = 512;

/** Column sizes of the devices table; the values written are cut or refused to fit them. */
export const USER_ID_MAX_LENGTH = 128;
export const DEVICE_NAME_MAX_LENGTH = 255;
/** Size of the `browser` and `os` columns. */
export const SOFTWARE_NAME_MAX_LENGTH = 64;
/** Size of the `session_id` column: a session id of a token, or an express-session id. */
export const SESSION_ID_MAX_LENGTH = 255;
/** Size of the refresh-token id columns: a SHA-256 in hex, after a session and a slash when the token has one. */
export const REFRESH_TOKEN_ID_MAX_LENGTH = 255;
/** Longest textual IP address: an IPv4-mapped IPv6 address written out in full. */
export const IP_ADDRESS_MAX_LENGTH = 45;

/** Label stored when the user agent is missing or names nothing recognisable. */
export const UNKNOWN_DEVICE_NAME = 'Unknown device';

/** Injection token of the options with every default filled in. Internal: hosts configure the module instead. */
export const DEVICE_TRACKER_OPTIONS = Symbol('DEVICE_TRACKER_OPTIONS');

/** Injection token of the guard instance the devices controller delegates to. Internal. */
export const DEVICES_AUTH_GUARD = Symbol('DEVICES_AUTH_GUARD');

/** Injection token of the host's admin guard instance the admin controller delegates to. Internal. */
export const DEVICES_ADMIN_GUARD = Symbol('DEVICES_ADMIN_GUARD');

/** Metadata key written by `@SkipDeviceSession()` and read by `DeviceSessionGuard`. */
export const SKIP_DEVICE_SESSION_METADATA = 'device-tracker:skip-device-session';

/** Injection token of the host's `EventEmitter2`, or `null` when it has none. Internal. */
export const DEVICE_EVENT_EMITTER = Symbol('DEVICE_EVENT_EMITTER');

/** Logger context of everything the module logs. */
export const LOGGER_CONTEXT = 'DeviceTracker';

/** Devices listed per page by default, and at most, by `GET /devices`; listing stays bounded whatever the user has. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/** Largest `offset` accepted: far beyond any user's devices, small enough to keep the query cheap. */
export const MAX_PAGE_OFFSET = 100_000;

/** Longest age `prune` accepts, a hundred years: older cut-offs are not dates every database can compare. */
export const MAX_PRUNE_AGE_MS = 100 * 365 * 24 * 60 * 60 * 1000;

/** Most rows `prune` deletes per statement: the ids go into one statement, within every database's parameter limit. */
export const MAX_PRUNE_BATCH_SIZE = 10_000;

/** Longest interval Node's timers can wait (2^31 - 1 ms, about 24.8 days); longer ones would fire at once. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** The 503 message when a device session cannot be checked because the database cannot be asked. */
export const SESSION_CHECK_UNAVAILABLE = 'Cannot check this device session right now; try again shortly';
