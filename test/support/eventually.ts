import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` every `everyMs` until it passes or `timeoutMs` has gone by; returns whether it passed. For effects
 * that land after the answer (announcements, background writes), not for timing.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 5000, everyMs = 20 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}
