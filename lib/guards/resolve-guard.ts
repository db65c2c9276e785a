import type { CanActivate, Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

/**
 * A guard the host configured, as an instance: the host's own provider when it registered the guard, otherwise a new
 * one. Resolved while the app boots, so a guard that cannot be built fails the start rather than every request.
 */
export async function resolveGuard(guard: Type<CanActivate> | CanActivate, moduleRef: ModuleRef): Promise<CanActivate> {
  if (typeof guard !== 'function') return guard;
  try {
    return moduleRef.get(guard, { strict: false });
  } catch {
    return moduleRef.create(guard);
  }
}
