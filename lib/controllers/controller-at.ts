import { Controller, type Type } from '@nestjs/common';

/**
 * `controller` mounted at `path`: the class itself at its default path, otherwise a subclass routed there. Routes are
 * fixed when a class is decorated, and the path is an option, so the subclass carries it (and the parent's name).
 */
export function controllerAt<T extends object>(controller: Type<T>, defaultPath: string, path: string): Type<T> {
  if (path === defaultPath) return controller;
  @Controller(path)
  class RoutedController extends (controller as Type<object>) {}
  Object.defineProperty(RoutedController, 'name', { value: controller.name });
  return RoutedController as Type<T>;
}
