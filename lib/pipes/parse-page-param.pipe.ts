import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/** A pagination query parameter: absent means `fallback`; otherwise a whole number from `min` to `max`, or a 400. */
@Injectable()
export class ParsePageParamPipe implements PipeTransform<unknown, number> {
  constructor(
    private readonly name: string,
    private readonly min: number,
    private readonly max: number,
    private readonly fallback: number,
  ) {}

  transform(value: unknown): number {
    if (value === undefined) return this.fallback;
    // A number when the host's global ValidationPipe({ transform: true }) has converted it already (it converts
    // parameters typed `number` before any parameter pipe runs); otherwise the text the client sent.
    const number =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\d{1,9}$/.test(value)
          ? Number(value)
          : Number.NaN;
    if (!(Number.isInteger(number) && number >= this.min && number <= this.max)) {
      throw new BadRequestException(`${this.name} must be a whole number from ${this.min} to ${this.max}`);
    }
    return number;
  }
}
