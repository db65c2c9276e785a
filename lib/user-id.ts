/** Longest user id stored; the column is sized for it. */
export const MAX_USER_ID_LENGTH = 128;

/** Normalises a user id to the string the entity stores; `undefined` when there is no usable id. */
export function normaliseUserId(id: string | number | undefined | null): string | undefined {
  if (typeof id === 'number') return Number.isFinite(id) ? String(id) : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_USER_ID_LENGTH ? id : undefined;
}
