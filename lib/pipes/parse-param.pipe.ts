import { BadRequestException, type PipeTransform } from '@nestjs/common';

export interface ParseParamOptions {
  /** An absent parameter is `undefined` rather than a 400. Default: `false`. */
  optional?: boolean;
}

/**
 * The base of the pipes Nest has no counterpart for (user id, IP address, ISO date-time): a request parameter that
 * takes one value, given as text. A malformed or repeated value, or an absent one that is
 * not optional, is a 400 whose message names the parameter and says what it accepts.
 */
export abstract class ParseParamPipe<T> implements PipeTransform<unknown, T | undefined> {
  /** What the parameter accepts, ending the message "`name` must be …". */
  protected abstract readonly expected: string;

  constructor(
    protected readonly name: string,
    private readonly options: ParseParamOptions = {},
  ) {}

  transform(value: unknown): T | undefined {
    if (value === undefined) {
      if (this.options.optional) return undefined;
      throw new BadRequestException(`${this.name} is required: ${this.expected}`);
    }
    const parsed = typeof value === 'string' ? this.parse(value) : undefined;
    if (parsed === undefined) throw new BadRequestException(`${this.name} must be ${this.expected}`);
    return parsed;
  }

  /** The value `text` stands for, or `undefined` when the parameter does not accept it. */
  protected abstract parse(text: string): T | undefined;
}
