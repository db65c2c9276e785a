import { BadRequestException, ParseBoolPipe } from '@nestjs/common';

/** Nest's `ParseBoolPipe` for an optional `true`/`false` query parameter: anything else is a 400, not a guess. */
export const parseBooleanParam = (name: string) =>
  new ParseBoolPipe({
    optional: true,
    exceptionFactory: () => new BadRequestException(`${name} must be true or false`),
  });
