import { describe, expect, it, vi } from 'vitest';
import type { RevocationListener } from '../interfaces/revocation-notifier.interface.js';
import { InMemoryRevocationNotifier } from './in-memory-revocation-notifier.js';

function listener() {
  return {
    revoked: vi.fn<RevocationListener['revoked']>(),
    resync: vi.fn<RevocationListener['resync']>(),
  } satisfies RevocationListener;
}

describe('InMemoryRevocationNotifier', () => {
  it('delivers a publication to every subscribed listener', async () => {
    const notifier = new InMemoryRevocationNotifier();
    const first = listener();
    const second = listener();
    await notifier.subscribe(first);
    await notifier.subscribe(second);

    await notifier.publish(['s1', 's2']);

    expect(first.revoked).toHaveBeenCalledExactlyOnceWith(['s1', 's2']);
    expect(second.revoked).toHaveBeenCalledExactlyOnceWith(['s1', 's2']);
  });

  it('delivers before publish resolves, so the logout is honoured as soon as it returns', async () => {
    const notifier = new InMemoryRevocationNotifier();
    const subscriber = listener();
    await notifier.subscribe(subscriber);

    const publishing = notifier.publish(['s1']);
    expect(subscriber.revoked).toHaveBeenCalledWith(['s1']);
    await expect(publishing).resolves.toBeUndefined();
  });

  it('delivers each publication in order', async () => {
    const notifier = new InMemoryRevocationNotifier();
    const subscriber = listener();
    await notifier.subscribe(subscriber);

    await notifier.publish(['s1']);
    await notifier.publish(['s2', 's3']);

    expect(subscriber.revoked.mock.calls).toEqual([[['s1']], [['s2', 's3']]]);
  });

  it('publishes to nobody without error before anyone subscribed', async () => {
    const notifier = new InMemoryRevocationNotifier();
    await expect(notifier.publish(['s1'])).resolves.toBeUndefined();
    const late = listener();
    await notifier.subscribe(late);
    expect(late.revoked).not.toHaveBeenCalled();
  });

  it('never asks its listeners to resync: it cannot miss an announcement', async () => {
    const notifier = new InMemoryRevocationNotifier();
    const subscriber = listener();
    await notifier.subscribe(subscriber);
    await notifier.publish(['s1']);
    expect(subscriber.resync).not.toHaveBeenCalled();
  });

  it('is always listening, before subscribe, after it and after close', async () => {
    const notifier = new InMemoryRevocationNotifier();
    expect(notifier.isListening()).toBe(true);
    await notifier.subscribe(listener());
    expect(notifier.isListening()).toBe(true);
    await notifier.close();
    expect(notifier.isListening()).toBe(true);
  });

  it('drops its listeners on close', async () => {
    const notifier = new InMemoryRevocationNotifier();
    const subscriber = listener();
    await notifier.subscribe(subscriber);
    await notifier.close();

    await notifier.publish(['s1']);

    expect(subscriber.revoked).not.toHaveBeenCalled();
  });

  it('keeps separate instances separate', async () => {
    const one = new InMemoryRevocationNotifier();
    const other = new InMemoryRevocationNotifier();
    const subscriber = listener();
    await one.subscribe(subscriber);

    await other.publish(['s1']);

    expect(subscriber.revoked).not.toHaveBeenCalled();
  });
});
