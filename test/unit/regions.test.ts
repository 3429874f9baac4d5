// Region placement rules: where a new session is placed (api/session-region.ts) and where a placed session's sandbox
// goes when its region's fleet is gone (domain/regions.ts); the queue names a region's fleet polls.
import { describe, expect, it } from 'vitest';
import { sessionRegion } from '../../api/session-region.ts';
import { loadConfig } from '../../domain/config.ts';
import { chooseRegion } from '../../domain/regions.ts';
import { placedQueue, taskQueues } from '../../domain/task-queues.ts';

describe('placing a new session', () => {
  const config = { AGENTS_REGION: 'eu', AGENTS_REGIONS: ['eu', 'us'] };

  it('takes the request metadata, else the API region, else the first configured one', () => {
    expect(sessionRegion(config, { region: 'us' }, false)).toBe('us');
    expect(sessionRegion(config, {}, false)).toBe('eu');
    expect(sessionRegion({ AGENTS_REGION: undefined, AGENTS_REGIONS: ['us', 'eu'] }, undefined, false)).toBe('us');
  });

  it('refuses an unknown region with a 400; without regions, metadata.region is plain metadata', () => {
    expect(() => sessionRegion(config, { region: 'mars' }, false)).toThrow(/unknown region "mars"; known: eu, us/);
    expect(sessionRegion({ AGENTS_REGION: undefined, AGENTS_REGIONS: [] }, { region: 'mars' }, false)).toBeUndefined();
  });

  it("leaves a code-defined agent's session on its operator's queue", () => {
    expect(sessionRegion(config, { region: 'us' }, true)).toBeUndefined();
  });

  it('reads and checks the region settings', () => {
    const parsed = loadConfig({ AGENTS_REGION: 'eu', AGENTS_REGIONS: 'eu, us' });
    expect([parsed.AGENTS_REGION, parsed.AGENTS_REGIONS]).toEqual(['eu', ['eu', 'us']]);
    expect(() => loadConfig({ AGENTS_REGION: 'Not A Region' })).toThrow();
  });
});

describe("moving a session's sandbox", () => {
  it('stays while its region has a live sandbox worker', () => {
    expect(chooseRegion('eu', 'us', ['eu', 'us'])).toBe('eu');
  });

  it("moves to the adopting worker's region, else the first live one; with none live, stays", () => {
    expect(chooseRegion('eu', 'us', ['ap', 'us'])).toBe('us');
    expect(chooseRegion('eu', 'eu', ['ap', 'us'])).toBe('ap');
    expect(chooseRegion('eu', 'us', [])).toBe('eu');
  });
});

describe('region queues', () => {
  it("are the family's queue with the region's name; without a region, the shared queue", () => {
    expect(placedQueue({ taskQueuePrefix: 't1', region: 'eu' }, taskQueues.session)).toBe('t1-agents-session-eu');
    expect(placedQueue({ taskQueuePrefix: '' }, taskQueues.sandbox)).toBe('agents-sandbox');
  });
});
