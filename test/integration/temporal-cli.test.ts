// Any Temporal client can drive a session: here the `temporal` CLI starts one, sends it a message, reads its state and
// ends it — exactly the commands the README documents — with the platform's codec server encrypting what it sends.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCodecServer, type RunningCodecServer } from '../../codec/codec-server.ts';
import { createCodecServerCodec } from '../../codec/data-converter.ts';
import { developmentPayloadKeys, parsePayloadKeys } from '../../domain/config.ts';
import { makeId, sessionWorkflowId } from '../../domain/ids.ts';
import { readToolsEnv } from '../../scripts/services/tools-env.ts';
import { codecAuthorizer } from '../../api/codec-endpoint.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { readEvents } from '../../db/repositories/session-events.ts';

let platform: TestPlatform;
let codec: RunningCodecServer;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'cli', workers: ['session', 'model'] });
  const { keys, currentKeyId } = parsePayloadKeys(developmentPayloadKeys);
  codec = await startCodecServer({
    port: 0,
    codec: createCodecServerCodec({ pool: platform.pool, keys, currentKeyId }),
    allowedOrigins: [],
    authorize: codecAuthorizer('cli-test-token'),
  });
});
afterAll(async () => {
  await codec?.close();
  await platform?.stop();
});

// Asynchronous on purpose: the codec server the CLI calls runs in this process and must keep answering.
const execFileAsync = promisify(execFile);

async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    readToolsEnv().temporalBin,
    [
      ...args,
      '--address',
      inject('temporalAddress'),
      '--codec-endpoint',
      codec.url,
      '--codec-auth',
      'Bearer cli-test-token',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return stdout;
}

describe('driving a session with the temporal CLI', () => {
  it('starts a session, sends a message, queries its state and reads the answer', async () => {
    const model = `${platform.prefix}-cli`;
    platform.fakeModel.setScript(model, [{ text: 'Hello from the CLI session.' }]);
    const sessionId = makeId('session', randomUUID());
    const workflowId = sessionWorkflowId(sessionId);
    const input = {
      sessionId,
      tenantId: 'tnt_cli',
      agent: { id: 'agent_cli', model: { id: model } },
      settings: { taskQueuePrefix: platform.prefix },
    };
    await temporal(
      'workflow',
      'start',
      '--type',
      'sessionWorkflow',
      '--task-queue',
      `${platform.prefix}-agents-session`,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify(input),
      '--search-attribute',
      'SessionStatus="idle"',
      '--search-attribute',
      'TenantId="tnt_cli"',
    );
    await temporal(
      'workflow',
      'signal',
      '--workflow-id',
      workflowId,
      '--name',
      'userEvents',
      '--input',
      JSON.stringify([{ id: 'sevt_cli_1', type: 'user.message', content: [{ type: 'text', text: 'hi' }] }]),
    );
    let state: { status: string; stats: { turns: number } } | undefined;
    for (let i = 0; i < 100; i++) {
      const output = JSON.parse(
        await temporal('workflow', 'query', '--workflow-id', workflowId, '--type', 'sessionState', '--output', 'json'),
      ) as {
        queryResult: [{ status: string; stats: { turns: number } }];
      };
      state = output.queryResult[0];
      if (state.stats.turns === 1 && state.status === 'idle') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(state).toMatchObject({ status: 'idle', stats: { turns: 1 } });
    const events = (await readEvents(platform.pool, sessionId)).map(({ event }) => event);
    expect(events.find((event) => event.type === 'agent.message')).toMatchObject({
      content: [{ type: 'text', text: 'Hello from the CLI session.' }],
    });
    expect(
      await temporal('workflow', 'list', '--query', `WorkflowId = '${workflowId}' AND SessionStatus = 'idle'`),
    ).toContain(workflowId);
    await temporal(
      'workflow',
      'signal',
      '--workflow-id',
      workflowId,
      '--name',
      'terminateSession',
      '--input',
      '{"reason":"terminated"}',
    );
    const result = await temporal('workflow', 'result', '--workflow-id', workflowId);
    expect(result).toMatch(/COMPLETED/i);
  });
});
