import { applyDecorators } from '@nestjs/common';
import { MAX_PAGE_OFFSET, MAX_PAGE_SIZE } from '../device-tracker.constants.js';
import { ApiQuery } from './swagger.js';

/** The `limit` and `offset` query parameters of the paged listings. */
export function ApiPageQueries(): MethodDecorator {
  return applyDecorators(
    ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE } }),
    ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, maximum: MAX_PAGE_OFFSET } }),
  );
}
