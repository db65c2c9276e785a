import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ParseBooleanParamPipe } from './parse-boolean-param.pipe.js';

describe('ParseBooleanParamPipe', () => {
  const pipe = new ParseBooleanParamPipe('active', { optional: true });

  it('reads true and false', () => {
    expect(pipe.transform('true')).toBe(true);
    expect(pipe.transform('false')).toBe(false);
    expect(pipe.transform(undefined)).toBeUndefined();
  });

  it.each(['', 'TRUE', 'True', '1', '0', 'yes', 'no', 'on', ' true', 'constructor', 'toString'])(
    'refuses %j rather than guess',
    (value) => {
      expect(() => pipe.transform(value)).toThrow(new BadRequestException('active must be true or false'));
    },
  );

  it('refuses a repeated parameter', () => {
    expect(() => pipe.transform(['true', 'false'])).toThrow('active must be true or false');
  });
});
