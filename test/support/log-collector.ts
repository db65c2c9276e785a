import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line, as `[context] message`, by level: who logged what, and how loudly. */
export class LogCollector implements LoggerService {
  readonly lines = { log: [] as string[], warn: [] as string[], debug: [] as string[], error: [] as string[] };

  log(message: unknown, context?: string) {
    this.lines.log.push(`[${context}] ${String(message)}`);
  }

  warn(message: unknown, context?: string) {
    this.lines.warn.push(`[${context}] ${String(message)}`);
  }

  debug(message: unknown, context?: string) {
    this.lines.debug.push(`[${context}] ${String(message)}`);
  }

  /** Nest logs errors as `(message, stack, context)`: the context comes last. */
  error(message: unknown, ...rest: unknown[]) {
    this.lines.error.push(`[${String(rest.at(-1))}] ${String(message)}`);
  }

  verbose() {}

  all(): string[] {
    return Object.values(this.lines).flat();
  }

  clear() {
    for (const lines of Object.values(this.lines)) lines.length = 0;
  }
}
