import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps the warnings, each as `[context] message`, so a test can see who logged what. */
export class WarningCollector implements LoggerService {
  readonly warnings: string[] = [];
  log() {}
  error() {}
  debug() {}
  verbose() {}
  warn(message: unknown, context?: string) {
    this.warnings.push(`[${context}] ${String(message)}`);
  }
}
