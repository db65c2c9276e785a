import { Injectable } from '@nestjs/common';
import { canonicalIpAddress } from '../values/ip-address.js';
import { ParseParamPipe } from './parse-param.pipe.js';

/**
 * An IPv4 or IPv6 address, in the form addresses are stored (see `canonicalIpAddress`). Nest has no IP pipe, and
 * class-validator's `isIP` would not give the canonical form the search needs.
 */
@Injectable()
export class ParseIpAddressPipe extends ParseParamPipe<string> {
  protected readonly expected = 'an IPv4 or IPv6 address';

  protected parse(text: string): string | undefined {
    return canonicalIpAddress(text);
  }
}
