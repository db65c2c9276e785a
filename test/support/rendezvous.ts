/**
 * Holds each call until `count` calls have arrived, so that they go on together. No time limit: a call that never
 * comes means the race was not staged, and the test fails on its timeout rather than passing without it.
 */
export function rendezvous(count: number): () => Promise<void> {
  let arrived = 0;
  let release: (() => void) | undefined;
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return () => {
    if (++arrived === count) release?.();
    return all;
  };
}
