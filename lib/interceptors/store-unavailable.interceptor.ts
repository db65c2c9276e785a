import {
  type CallHandler,
  HttpException,
  Injectable,
  Logger,
  type NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common';
import { catchError, type Observable, throwError } from 'rxjs';
import { LOGGER_CONTEXT } from '../device-tracker.constants.js';
import { storeErrorMessage, storeErrorText } from '../persistence/store-error.js';

/**
 * On the devices endpoints, an error that is not an HTTP answer comes from the database (lost connection, timeout):
 * the client gets a 503 it can retry rather than a 500, and the cause goes to the log.
 */
@Injectable()
export class StoreUnavailableInterceptor implements NestInterceptor {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (error instanceof HttpException) return throwError(() => error);
        this.logger.error(
          `The devices store failed: ${storeErrorMessage(error)}`,
          storeErrorText((error as Error).stack ?? ''),
        );
        return throwError(
          () => new ServiceUnavailableException('Devices cannot be read or changed right now; try again shortly'),
        );
      }),
    );
  }
}
