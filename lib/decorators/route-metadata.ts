import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/** Each handler's metadata by class and key, once read: the module's enhancers ask on every request of every route. */
const read = new WeakMap<object, WeakMap<object, Map<string, unknown>>>();

/** What `reading` answers for the route of `context`, asked once per route under `key`: decorators never change it. */
function remembered<T>(context: ExecutionContext, key: string, reading: (targets: [Function, Function]) => T): T {
  const handler = context.getHandler();
  const controller = context.getClass();
  let byController = read.get(handler);
  if (!byController) read.set(handler, (byController = new WeakMap()));
  let values = byController.get(controller);
  if (!values) byController.set(controller, (values = new Map()));
  if (values.has(key)) return values.get(key) as T;
  const value = reading([handler, controller]);
  values.set(key, value);
  return value;
}

/**
 * What a decorator of the module wrote on the route, the handler's overriding the controller's. Decorators write
 * when classes are defined, so the answer for a route never changes and is kept.
 */
export function routeMetadata<T>(reflector: Reflector, key: string, context: ExecutionContext): T | undefined {
  return remembered(context, key, (targets) => reflector.getAllAndOverride<T | undefined>(key, targets));
}

/** Every entry under `key` on the route, the handler's then the controller's (as `@UseInterceptors()` lists), kept. */
export function mergedRouteMetadata<T>(reflector: Reflector, key: string, context: ExecutionContext): readonly T[] {
  return remembered(context, `merged:${key}`, (targets) => reflector.getAllAndMerge<T[]>(key, targets) ?? []);
}
