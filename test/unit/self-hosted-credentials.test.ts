// The reach of a self-hosted runner's credentials (api/principal.ts) and the sessions token's integrity
// (api/work-tokens.ts), route by route.
import { describe, expect, it } from 'vitest';
import { permits, type Principal } from '../../api/principal.ts';
import { WorkTokens } from '../../api/work-tokens.ts';
import { developmentVaultKey } from '../../domain/config.ts';

const environmentKey: Principal = { kind: 'environment_key', environmentId: 'env_a', keyId: 'envkey_1' };
const token: Principal = { kind: 'work_token', environmentId: 'env_a', workId: 'work_1', sessionId: 'sesn_1' };
const work = '/v1/environments/:environment_id/work';

describe('permits', () => {
  it.each([
    [environmentKey, 'GET', `${work}/poll`, { environment_id: 'env_a' }, true],
    [environmentKey, 'GET', work, { environment_id: 'env_a' }, true],
    [environmentKey, 'POST', `${work}/:work_id/ack`, { environment_id: 'env_a', work_id: 'work_9' }, true],
    [environmentKey, 'GET', `${work}/poll`, { environment_id: 'env_b' }, false],
    [environmentKey, 'GET', `${work}/stats`, { environment_id: 'env_a' }, false],
    [environmentKey, 'GET', '/v1/sessions/:session_id', { session_id: 'sesn_1' }, false],
    [token, 'GET', '/v1/sessions/:session_id', { session_id: 'sesn_1' }, true],
    [token, 'HEAD', '/v1/sessions/:session_id/events/stream', { session_id: 'sesn_1' }, true],
    [token, 'POST', '/v1/sessions/:session_id/events', { session_id: 'sesn_1' }, true],
    [token, 'GET', '/v1/sessions/:session_id', { session_id: 'sesn_2' }, false],
    [token, 'POST', '/v1/sessions/:session_id/archive', { session_id: 'sesn_1' }, false],
    [token, 'DELETE', '/v1/sessions/:session_id', { session_id: 'sesn_1' }, false],
    [token, 'POST', `${work}/:work_id/heartbeat`, { environment_id: 'env_a', work_id: 'work_1' }, true],
    [token, 'POST', `${work}/:work_id/heartbeat`, { environment_id: 'env_a', work_id: 'work_2' }, false],
    [token, 'GET', `${work}/poll`, { environment_id: 'env_a' }, false],
    [token, 'GET', '/v1/agents', {}, false],
    [token, 'GET', undefined, {}, false],
  ] as const)('%o %s %s %o → %s', (principal, method, url, params, expected) => {
    expect(permits(principal, method, url, params)).toBe(expected);
  });
});

describe('WorkTokens', () => {
  const tokens = new WorkTokens(developmentVaultKey);

  it('issues a token only it recognises, for the work id it names', () => {
    const issued = tokens.tokenFor('work_abc');
    expect(tokens.workIdOf(issued)).toBe('work_abc');
    expect(tokens.workIdOf(issued.replace('work_abc', 'work_abd'))).toBeUndefined();
    expect(tokens.workIdOf(`${issued.slice(0, -1)}${issued.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(new WorkTokens(Buffer.alloc(32, 7).toString('base64')).workIdOf(issued)).toBeUndefined();
    expect(tokens.workIdOf('sk-agents-abc')).toBeUndefined();
  });

  it('wraps it in the secret the runner decodes: base64url JSON with sessions_token and api_base_url', () => {
    const secret = tokens.secretFor('work_abc', 'http://127.0.0.1:8080');
    expect(JSON.parse(Buffer.from(secret, 'base64url').toString('utf8'))).toEqual({
      sessions_token: tokens.tokenFor('work_abc'),
      api_base_url: 'http://127.0.0.1:8080',
    });
  });
});
