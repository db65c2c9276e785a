import { Injectable } from '@nestjs/common';
import { USER_ID_MAX_LENGTH } from '../device-tracker.constants.js';
import { normaliseUserId } from '../values/user-id.js';
import { ParseParamPipe } from './parse-param.pipe.js';

/**
 * A user id as the devices table stores it: any text of 1 to 128 characters, taken exactly as written. Nest has no
 * pipe for free text with a length and character rule.
 */
@Injectable()
export class ParseUserIdPipe extends ParseParamPipe<string> {
  protected readonly expected = `a user id of 1 to ${USER_ID_MAX_LENGTH} characters, none of them control characters`;

  protected parse(text: string): string | undefined {
    return normaliseUserId(text);
  }
}
