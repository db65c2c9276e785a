import { Injectable } from '@nestjs/common';
import { canonicalIpAddress } from '../values/ip-address.js';
import { ParseParamPipe } from './parse-param.pipe.js';

/** An IPv4 or IPv6 address, in the form addresses are stored (see `canonicalIpAddress`). */
@Injectable()
export class ParseIpAddressPipe extends ParseParamPipe<string> {
  protected readonly expected = 'an IPv4 or IPv6 address';

  protected parse(text: string): string | undefined {
    return canonicalIpAddress(text);
  }
}
