import { randomUUID } from 'node:crypto';

/** The text of the last millisecond an id was made in: a busy instance makes several ids in one. */
let last = { millisecond: Number.NaN, prefix: '' };

/**
 * A new UUID version 7 (RFC 9562 §5.7): the 48-bit Unix time in milliseconds `now`, then 74 random bits. Ids made one
 * after the other sort together, so a new row's id and session land beside the last ones in their B-tree indexes
 * instead of on a random page of each: a login writes fewer pages. The random part is `randomUUID()`'s, whose layout
 * after the version digit is the same.
 */
export function timeOrderedId(now: number): string {
  const millisecond = Math.trunc(now);
  if (millisecond !== last.millisecond) {
    const time = millisecond.toString(16).padStart(12, '0');
    last = { millisecond, prefix: `${time.slice(0, 8)}-${time.slice(8, 12)}-7` };
  }
  return last.prefix + randomUUID().slice(15);
}
