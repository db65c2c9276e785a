import { BadRequestException, Injectable, ParseIntPipe } from '@nestjs/common';

/**
 * A pagination query parameter: absent means `fallback`; otherwise a whole number from `min` to `max`, or a 400.
 * Nest's `ParseIntPipe` reads the number (also one a host's `ValidationPipe({ transform: true })` made already);
 * it checks no range, which this adds.
 */
@Injectable()
export class ParsePageParamPipe extends ParseIntPipe {
  constructor(
    name: string,
    private readonly min: number,
    private readonly max: number,
    private readonly fallback: number,
  ) {
    super({ exceptionFactory: () => new BadRequestException(`${name} must be a whole number from ${min} to ${max}`) });
  }

  override async transform(value: unknown): Promise<number> {
    if (value === undefined) return this.fallback;
    // Never null here: ParseIntPipe passes nothing through unparsed unless it is `optional`.
    const number = (await super.transform(value as string, { type: 'query' })) as number;
    // `-0` reads as a number in range; no one writes it for zero.
    if (number < this.min || number > this.max || Object.is(number, -0)) throw this.exceptionFactory('out of range');
    return number;
  }
}
