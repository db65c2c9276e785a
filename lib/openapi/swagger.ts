import { createRequire } from 'node:module';
import type * as Swagger from '@nestjs/swagger';

const require = createRequire(import.meta.url);

/**
 * `@nestjs/swagger` when the app has it, otherwise nothing: the module describes its endpoints for OpenAPI without
 * making every app install Swagger. It is CommonJS, so it is required synchronously: a top-level await would stop
 * CommonJS apps from `require()`-ing this package. Only a package that cannot be found is tolerated; one that is
 * installed but fails to load throws.
 */
function loadSwagger(): typeof Swagger | undefined {
  try {
    require.resolve('@nestjs/swagger');
  } catch {
    return undefined;
  }
  return require('@nestjs/swagger') as typeof Swagger;
}

const swagger = loadSwagger();

const noop = (): ClassDecorator & MethodDecorator & PropertyDecorator => () => undefined;

/** Each decorator used by the module, or one that does nothing when `@nestjs/swagger` is not installed. */
function decorator<Name extends keyof typeof Swagger>(name: Name): (typeof Swagger)[Name] {
  return swagger?.[name] ?? (noop as unknown as (typeof Swagger)[Name]);
}

export const ApiBadRequestResponse = decorator('ApiBadRequestResponse');
export const ApiBearerAuth = decorator('ApiBearerAuth');
export const ApiForbiddenResponse = decorator('ApiForbiddenResponse');
export const ApiNotFoundResponse = decorator('ApiNotFoundResponse');
export const ApiOkResponse = decorator('ApiOkResponse');
export const ApiOperation = decorator('ApiOperation');
export const ApiParam = decorator('ApiParam');
export const ApiProperty = decorator('ApiProperty');
export const ApiQuery = decorator('ApiQuery');
export const ApiSchema = decorator('ApiSchema');
export const ApiServiceUnavailableResponse = decorator('ApiServiceUnavailableResponse');
export const ApiTags = decorator('ApiTags');
export const ApiUnauthorizedResponse = decorator('ApiUnauthorizedResponse');
