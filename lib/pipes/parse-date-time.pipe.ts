import { Injectable } from '@nestjs/common';
import { ParseParamPipe } from './parse-param.pipe.js';

/**
 * ISO 8601 in the profile JavaScript reads (`YYYY-MM-DD`, optionally `THH:mm`, `:ss`, `.s…` and then a required `Z`
 * or `±HH:mm`), with each field in range. A time without a zone is refused: it would be read in the server's zone.
 */
const ISO_8601 =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d))?$/;

/**
 * A date, midnight UTC, or a date-time with its zone, written in ISO 8601; the day must exist. Nest's `ParseDatePipe`
 * does not fit: it takes whatever `new Date()` reads, a time without a zone in the server's zone and 30 February.
 */
@Injectable()
export class ParseDateTimePipe extends ParseParamPipe<Date> {
  protected readonly expected =
    'an ISO 8601 date or date-time with a time zone, e.g. 2026-11-24 or 2026-11-24T20:13:47Z';

  protected parse(text: string): Date | undefined {
    const match = ISO_8601.exec(text);
    if (!match) return undefined;
    const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
    // JavaScript rolls 30 February over into March: only a day the calendar has is the day that was meant.
    const calendar = new Date(0);
    calendar.setUTCFullYear(year, month - 1, day);
    return calendar.getUTCDate() === day ? new Date(text) : undefined;
  }
}
