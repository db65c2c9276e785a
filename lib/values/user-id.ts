import { BadRequestException } from '@nestjs/common';
import { USER_ID_MAX_LENGTH } from '../device-tracker.constants.js';

/** Control characters: no real user id has them, and PostgreSQL refuses NUL in text outright. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Normalises a user id to the string the entity stores; `undefined` when there is no usable id. */
export function normaliseUserId(id: string | number | undefined | null): string | undefined {
  if (typeof id === 'number') return Number.isFinite(id) ? String(id) : undefined;
  const usable = typeof id === 'string' && id.length > 0 && id.length <= USER_ID_MAX_LENGTH && !CONTROL.test(id);
  return usable ? id : undefined;
}

/** The user id a service was handed, normalised; a 400 when it is none: a caller's mistake, not the client's. */
export function requireUserId(id: string | number): string {
  const owner = normaliseUserId(id);
  if (owner === undefined) throw new BadRequestException('A user id must be a non-empty string or a number');
  return owner;
}

/** A user id as hosts hand it to the module. */
export type UserId = string | number;
