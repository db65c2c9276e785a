import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/** What a decorator of the module wrote on the route, the handler's overriding the controller's. */
export function routeMetadata<T>(reflector: Reflector, key: string, context: ExecutionContext): T | undefined {
  return reflector.getAllAndOverride<T | undefined>(key, [context.getHandler(), context.getClass()]);
}
