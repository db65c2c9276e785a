import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps the warnings and the log lines, each as `[context] message`: who logged what. */
export class LogCollector implements LoggerService {
  readonly warnings: string[] = [];
  readonly logs: string[] = [];
  log(message: unknown, context?: string) {
    this.logs.push(`[${context}] ${String(message)}`);
  }
  error() {}
  debug() {}
  verbose() {}
  warn(message: unknown, context?: string) {
    this.warnings.push(`[${context}] ${String(message)}`);
  }
}
