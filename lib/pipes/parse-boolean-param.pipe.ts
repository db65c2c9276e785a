import { Injectable } from '@nestjs/common';
import { ParseParamPipe } from './parse-param.pipe.js';

const BOOLEANS: Record<string, boolean> = { true: true, false: false };

/** `true` or `false`, spelled exactly so: anything else (`1`, `yes`, an empty value) is a 400, not a guess. */
@Injectable()
export class ParseBooleanParamPipe extends ParseParamPipe<boolean> {
  protected readonly expected = 'true or false';

  protected parse(text: string): boolean | undefined {
    return Object.hasOwn(BOOLEANS, text) ? BOOLEANS[text] : undefined;
  }
}
