// P7's baseline: the same work as a platform level, done in this process with no orchestration at all. N loops at
// once, each with a container of its own (created first, like the platform's first step does), then `steps` times: a
// streamed call to the fake model (same SDK, same server, same first-token delay) answering with a tool call, and that
// bash command through the same DockerSandbox.exec (the in-sandbox exec agent), then the final answer.
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import { DockerSandbox } from '../../activities/sandbox/docker-sandbox.ts';
import { defaultSandboxSpec } from '../../domain/sandbox.ts';
import type { FakeModelServer } from '../../test/fake-model/server.ts';

export interface InProcessLevel {
  wallSeconds: number;
  /** Step latencies as the platform's are measured: turn start → first tool result (container creation included), then each tool result → the next, the last → the final answer. */
  steps: number[];
  errors: number;
}

interface Options {
  fakeModel: FakeModelServer;
  image: string;
  labels: Record<string, string>;
  prefix: string;
  sessions: number;
  steps: number;
  modelLatencyMs: number;
}

/** Runs one level; containers are removed afterwards, off the clock. */
export async function runInProcessLevel(options: Options): Promise<InProcessLevel> {
  const anthropic = new Anthropic({ apiKey: 'bench', baseURL: options.fakeModel.url, maxRetries: 0 });
  const sandbox = new DockerSandbox(new Docker(), { extraLabels: options.labels });
  const containers: string[] = [];
  const samples: number[] = [];
  let errors = 0;
  const loop = async (index: number) => {
    const model = `${options.prefix}-p7-inprocess-${options.sessions}-${index}`;
    options.fakeModel.setScript(model, [
      ...Array.from({ length: options.steps }, (_, step) => ({
        firstTokenDelayMs: options.modelLatencyMs,
        toolCalls: [{ name: 'bash', input: { command: `echo step-${step} >> steps.txt` } }],
      })),
      { firstTokenDelayMs: options.modelLatencyMs, text: 'done' },
    ]);
    let mark = performance.now();
    const containerId = await sandbox.create(defaultSandboxSpec(options.image));
    containers.push(containerId);
    for (let step = 0; step <= options.steps; step++) {
      const command = await modelCall(anthropic, model);
      if (command === undefined) break;
      const result = await sandbox.exec(containerId, {
        command,
        timeoutMs: 120_000,
        maxOutputBytes: 30_000,
        execId: `p7-${index}-${step}-${randomUUID().slice(0, 8)}`,
      });
      if (result.exitCode !== 0) errors++;
      const now = performance.now();
      samples.push(now - mark);
      mark = now;
    }
    samples.push(performance.now() - mark);
  };
  const started = performance.now();
  const outcomes = await Promise.allSettled(Array.from({ length: options.sessions }, (_, index) => loop(index)));
  const wallSeconds = (performance.now() - started) / 1000;
  errors += outcomes.filter((outcome) => outcome.status === 'rejected').length;
  await Promise.all(containers.map((id) => sandbox.destroy(id).catch(() => undefined)));
  return { wallSeconds, steps: samples, errors };
}

/** One streamed model call; the bash command it asks for, or undefined for a final answer. */
async function modelCall(anthropic: Anthropic, model: string): Promise<string | undefined> {
  const stream = await anthropic.messages.create({
    model,
    max_tokens: 4096,
    stream: true,
    messages: [{ role: 'user', content: 'run the steps' }],
    tools: [{ name: 'bash', description: 'bash', input_schema: { type: 'object', properties: {} } }],
  });
  let json = '';
  let toolUse = false;
  for await (const event of stream) {
    if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') toolUse = true;
    if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta')
      json += event.delta.partial_json;
  }
  if (!toolUse) return undefined;
  const input = JSON.parse(json || '{}') as { command?: string };
  return input.command ?? 'true';
}
