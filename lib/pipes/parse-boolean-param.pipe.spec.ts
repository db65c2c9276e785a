import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { parseBooleanParam } from './parse-boolean-param.pipe.js';

describe('parseBooleanParam', () => {
  const pipe = parseBooleanParam('active');
  const metadata = { type: 'query' } as const;

  it('reads true and false', async () => {
    expect(await pipe.transform('true', metadata)).toBe(true);
    expect(await pipe.transform('false', metadata)).toBe(false);
    expect(await pipe.transform(undefined as unknown as string, metadata)).toBeUndefined();
  });

  it.each(['', 'TRUE', 'True', '1', '0', 'yes', 'no', 'on', ' true', 'constructor', 'toString'])(
    'refuses %j rather than guess',
    async (value) => {
      await expect(pipe.transform(value, metadata)).rejects.toThrow(
        new BadRequestException('active must be true or false'),
      );
    },
  );

  it('refuses a repeated parameter', async () => {
    await expect(pipe.transform(['true', 'false'] as unknown as string, metadata)).rejects.toThrow(
      'active must be true or false',
    );
  });
});
