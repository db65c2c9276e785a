import { type ArgumentMetadata, BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/** How deeply a request body may nest objects and arrays: the sample's bodies are flat objects. */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses, with 400, a body nested more than `maxDepth` levels deep. Runs before the ValidationPipe: class-transformer
 * walks a body recursively, and a few kB of `[[[[…]]]]` would overflow the stack, a 500.
 */
@Injectable()
export class BodyDepthPipe implements PipeTransform {
  constructor(private readonly maxDepth = MAX_BODY_DEPTH) {}

  transform(value: unknown, { type }: ArgumentMetadata): unknown {
    if (type === 'body' && nestedDeeperThan(value, this.maxDepth)) {
      throw new BadRequestException(`The request body is nested more than ${this.maxDepth} levels deep`);
    }
    return value;
  }
}

/** Whether `value` nests objects or arrays more than `limit` levels deep; without recursion, so at any depth. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const [item, depth] = entry;
    if (item === null || typeof item !== 'object') continue;
    if (depth === limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}
