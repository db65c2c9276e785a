import { USER_ID_MAX_LENGTH } from './device-tracker.constants.js';

/** Normalises a user id to the string the entity stores; `undefined` when there is no usable id. */
export function normaliseUserId(id: string | number | undefined | null): string | undefined {
  if (typeof id === 'number') return Number.isFinite(id) ? String(id) : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= USER_ID_MAX_LENGTH ? id : undefined;
}
