import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { normaliseDeviceId } from '../http/device-id.js';

/** Accepts a device id (a UUID, any case) and gives it in canonical form; anything else is a 400. */
@Injectable()
export class ParseDeviceIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    const id = normaliseDeviceId(value);
    if (!id) throw new BadRequestException('Device id must be a UUID');
    return id;
  }
}
