import { setTimeout as sleep } from 'node:timers/promises';

/** Holds each call until `count` calls have arrived (or 500 ms have passed), so that they go on together. */
export function rendezvous(count: number): () => Promise<unknown> {
  let arrived = 0;
  let release: (() => void) | undefined;
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return () => {
    if (++arrived === count) release?.();
    return Promise.race([all, sleep(500)]);
  };
}
