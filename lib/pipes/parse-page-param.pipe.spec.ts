import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ParsePageParamPipe } from './parse-page-param.pipe.js';

describe('ParsePageParamPipe', () => {
  const limit = new ParsePageParamPipe('limit', 1, 100, 50);
  const refusal = new BadRequestException('limit must be a whole number from 1 to 100');

  it('gives the fallback when absent, and the number the text names', async () => {
    expect(await limit.transform(undefined)).toBe(50);
    expect(await limit.transform('1')).toBe(1);
    expect(await limit.transform('100')).toBe(100);
    expect(await limit.transform('007')).toBe(7);
  });

  it.each<unknown>(['0', '101', '-1', '-0', '1.5', '1e1', '0x10', ' 1', '', 'abc', ['1', '2']])(
    'refuses %j',
    async (value) => {
      await expect(limit.transform(value)).rejects.toThrow(refusal);
    },
  );

  it("takes the number a host's ValidationPipe({ transform: true }) made of the text, in range and whole only", async () => {
    expect(await limit.transform(3)).toBe(3);
    for (const value of [0, 101, 1.5, Number.NaN, Infinity])
      await expect(limit.transform(value)).rejects.toThrow(refusal);
  });
});
