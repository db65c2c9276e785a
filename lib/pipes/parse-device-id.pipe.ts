import { BadRequestException, ParseUUIDPipe } from '@nestjs/common';

/** Nest's `ParseUUIDPipe` for a device id in the path; the services compare ids in canonical (lower) case. */
export const parseDeviceIdPipe = () =>
  new ParseUUIDPipe({ version: 'all', exceptionFactory: () => new BadRequestException('Device id must be a UUID') });
