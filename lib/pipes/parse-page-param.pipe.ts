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
    const number = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
    if (!(number >= this.min && number <= this.max)) {
      throw new BadRequestException(`${this.name} must be a whole number from ${this.min} to ${this.max}`);
    }
    return number;
  }
}
