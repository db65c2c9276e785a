import { Logger, type LoggerService } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../device-tracker.constants.js';

/**
 * Databases whose timestamp columns keep no time zone (`timestamp without time zone`, `datetime`): TypeORM writes and
 * reads them in the process's local time. SQLite is not one: TypeORM stores its dates as UTC strings.
 */
const LOCAL_TIME_DATABASES = new Set(['postgres', 'mysql', 'mariadb']);

/** An offset as `Date#getTimezoneOffset` gives it (minutes behind UTC), as people write it: `UTC+09:00`. */
function formatOffset(minutesBehind: number): string {
  const ahead = -minutesBehind;
  const abs = Math.abs(ahead);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `UTC${ahead < 0 ? '-' : '+'}${hhmm}`;
}

/**
 * Warns, through `logger`, when the app's database stores local times and the process does not run in UTC: the
 * devices' times are then local times, out of step with instances elsewhere, and an hour off around daylight-saving
 * changes (a refresh in the grace period can look like reuse). Called once as the module starts; answers whether it
 * warned.
 *
 * @param offsetAt the process's offset from UTC at an instant, as `Date#getTimezoneOffset` gives it (tests pass their
 * own rather than changing `TZ`).
 */
export function warnIfNotUtc(
  dataSource: { options: { type: string } },
  logger: Pick<LoggerService, 'warn'> = new Logger(LOGGER_CONTEXT),
  offsetAt: (instant: Date) => number = (instant) => instant.getTimezoneOffset(),
): boolean {
  const { type } = dataSource.options;
  if (!LOCAL_TIME_DATABASES.has(type)) return false;
  // Midwinter and midsummer: a zone on UTC for half the year (Europe/London) is not UTC either.
  const year = new Date().getUTCFullYear();
  const offsets = new Set([0, 6].map((month) => offsetAt(new Date(Date.UTC(year, month, 1)))));
  if (offsets.size === 1 && offsets.has(0)) return false;
  const zone = [...offsets].map(formatOffset).join(' and ');
  logger.warn(
    `This process runs in ${zone}, not UTC: on ${type} the devices table then holds local times without a zone, ` +
      'which instances in other zones read as other times and which read back an hour off around a daylight-saving ' +
      'change. Run the app with TZ=UTC (see "Time zones" in docs/operations.md of this package)',
  );
  return true;
}
