import type { CanActivate, ExecutionContext, OnApplicationBootstrap, Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { Observable } from 'rxjs';

/**
 * A guard the host configured (`authGuard`, `admin.guard`): an instance as given, or a class, which is the host's own
 * provider when it registered one, otherwise built by Nest. A class is looked up once every provider exists: earlier,
 * a provider of a module Nest has not reached yet is an empty shell whose constructor has not run. Looking it up at
 * bootstrap still fails the start, not every request, when the guard cannot be built.
 */
export class HostGuard implements CanActivate, OnApplicationBootstrap {
  private instance?: CanActivate;

  constructor(
    private readonly guard: Type<CanActivate> | CanActivate,
    private readonly moduleRef: ModuleRef,
  ) {
    if (typeof guard !== 'function') this.instance = guard;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.instance || typeof this.guard !== 'function') return;
    try {
      this.instance = this.moduleRef.get(this.guard, { strict: false });
    } catch {
      this.instance = await this.moduleRef.create(this.guard);
    }
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    if (!this.instance) {
      throw new Error(`DeviceTrackerModule: ${(this.guard as Type).name} was used before the app started`);
    }
    return this.instance.canActivate(context);
  }
}
