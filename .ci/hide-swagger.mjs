// `node --import ./.ci/hide-swagger.mjs …`: @nestjs/swagger cannot be resolved, as in an app that never installed it.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === '@nestjs/swagger' || specifier.startsWith('@nestjs/swagger/')) {
    const error = new Error("Cannot find package '@nestjs/swagger' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`),
);
