// Per-provider limits in a model worker: one provider at its concurrency limit makes its next call wait, while the
// other provider's calls go ahead; the per-second cap delays starts; an abort leaves the queue.
import { describe, expect, it } from 'vitest';
import { ProviderLimiter } from '../../activities/model/provider-limits.ts';

const settled = async <T>(promise: Promise<T>): Promise<boolean> => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  return done;
};

describe('ProviderLimiter', () => {
  it('limits calls in flight per provider, not across providers', async () => {
    const limiter = new ProviderLimiter({ maxConcurrent: 1, maxPerSecond: 1_000 });
    const first = await limiter.acquire('anthropic');
    const second = limiter.acquire('anthropic');
    expect(await settled(second)).toBe(false);
    const openai = await limiter.acquire('openai-chat'); // another provider is not held up
    const responses = limiter.acquire('openai-responses'); // both OpenAI protocols share OpenAI's limit
    expect(await settled(responses)).toBe(false);
    first();
    expect(await settled(second)).toBe(true);
    openai();
    expect(await settled(responses)).toBe(true);
    (await second)();
    (await responses)();
  });

  it('caps starts per second', async () => {
    const limiter = new ProviderLimiter({ maxConcurrent: 10, maxPerSecond: 2 });
    (await limiter.acquire('anthropic'))();
    (await limiter.acquire('anthropic'))();
    const third = limiter.acquire('anthropic');
    expect(await settled(third)).toBe(false); // a third start within the same second waits for the window
    (await third)();
  });

  it('drops a waiting call when its activity is cancelled', async () => {
    const limiter = new ProviderLimiter({ maxConcurrent: 1, maxPerSecond: 1_000 });
    const held = await limiter.acquire('anthropic');
    const controller = new AbortController();
    const waiting = limiter.acquire('anthropic', controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    held();
    (await limiter.acquire('anthropic'))(); // the slot is free again
  });
});
