// Process configuration: JSON settings and comma lists are checked once at start; a bad value refuses to start.
import { expect, it } from 'vitest';
import { loadConfig } from '../../domain/config.ts';
import { defaultPriceTable } from '../../domain/model-prices.ts';

it('reads session timings as JSON over the defaults and refuses unknown or invalid ones', () => {
  expect(loadConfig({}).AGENTS_SESSION_SETTINGS).toEqual({});
  const config = loadConfig({ AGENTS_SESSION_SETTINGS: '{"sandboxHeartbeatTimeoutMs": 5000, "modelMaxAttempts": 20}' });
  expect(config.AGENTS_SESSION_SETTINGS).toEqual({ sandboxHeartbeatTimeoutMs: 5000, modelMaxAttempts: 20 });
  expect(() => loadConfig({ AGENTS_SESSION_SETTINGS: '{"sandboxHeartbeatTimeout": 5000}' })).toThrow(/session timings/);
  expect(() => loadConfig({ AGENTS_SESSION_SETTINGS: '{"toolTimeoutMs": -1}' })).toThrow(/session timings/);
  expect(() => loadConfig({ AGENTS_SESSION_SETTINGS: 'not json' })).toThrow(/session timings/);
});

it('reads the price table and comma lists', () => {
  expect(loadConfig({}).AGENTS_MODEL_PRICES).toEqual(defaultPriceTable);
  expect(() => loadConfig({ AGENTS_MODEL_PRICES: '[1]' })).toThrow(/price table/);
  expect(
    loadConfig({ AGENTS_PRIVATE_NETWORK_ALLOWLIST: ' 10.0.0.0/8, ,127.0.0.0/8' }).AGENTS_PRIVATE_NETWORK_ALLOWLIST,
  ).toEqual(['10.0.0.0/8', '127.0.0.0/8']);
  expect(loadConfig({}).AGENTS_PROVIDER_ALLOWED_HOSTS).toEqual([]);
  expect(loadConfig({}).AGENTS_IDEMPOTENCY_LEASE_S).toBe(60);
});
