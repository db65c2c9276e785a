import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ParseUserIdPipe } from './parse-user-id.pipe.js';

describe('ParseUserIdPipe', () => {
  const required = new ParseUserIdPipe('userId');
  const optional = new ParseUserIdPipe('userId', { optional: true });

  it.each(['42', 'alice', 'Alice ', ' ', 'x'.repeat(128), 'ünïcödé'])('takes %j exactly as written', (id) => {
    expect(required.transform(id)).toBe(id);
    expect(optional.transform(id)).toBe(id);
  });

  it.each<unknown>(['', 'x'.repeat(129), ['alice', 'bob'], 42])(
    'refuses %j with a message naming the parameter',
    (value) => {
      expect(() => optional.transform(value)).toThrow(
        new BadRequestException('userId must be a user id of 1 to 128 characters, none of them control characters'),
      );
    },
  );

  it('gives undefined for an absent optional parameter, and a 400 for an absent required one', () => {
    expect(optional.transform(undefined)).toBeUndefined();
    expect(() => required.transform(undefined)).toThrow(
      new BadRequestException('userId is required: a user id of 1 to 128 characters, none of them control characters'),
    );
  });
});
