import type * as Swagger from '@nestjs/swagger';

/**
 * `@nestjs/swagger` when the app has it, otherwise nothing: the module describes its endpoints for OpenAPI without
 * making every app install Swagger. Only a missing package is tolerated; any other load error is thrown.
 */
const swagger: typeof Swagger | undefined = await import('@nestjs/swagger').catch((error: unknown) => {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ERR_MODULE_NOT_FOUND' && message?.includes("'@nestjs/swagger'")) return undefined;
  throw error;
});

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
