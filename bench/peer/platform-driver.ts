// Our side of bench/scenarios/peer-langgraph.bench.ts, driven as a user would: the official Anthropic SDK
// (`client.beta.*`) against the in-process API — one agent per session (the fake model's script is chosen by the model
// id), its model over the fake model's OpenAI-compatible endpoint (`openai-chat`), bash alone enabled, and one
// session event stream (`event_deltas[]=agent.message`) per session, opened once, that times every event it yields.
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents';
import type { BetaManagedAgentsStreamSessionEvents as StreamEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { ApiHarness } from '../../test/support/api-harness.ts';

/** When each part of one turn arrived (performance.now()); the same shape as the peer's run marks. */
export interface TurnMarks {
  started: number;
  /** Ours: the POST returned; the peer: its `metadata` frame (the run was picked up and started). */
  accepted?: number;
  firstToken?: number;
  /** No text delta arrived before the whole message (firstToken is then the message's arrival). */
  noDelta?: boolean;
  /** Each `agent.tool_result` event. */
  toolResults: number[];
  ended: number;
  answer: string;
  error?: string;
}

export class OurSession {
  private turn?: { marks: TurnMarks; done: () => void };
  private reading?: Promise<void>;
  private abort?: () => void;

  private readonly client: Anthropic;
  readonly id: string;
  readonly model: string;

  private constructor(client: Anthropic, id: string, model: string) {
    this.client = client;
    this.id = id;
    this.model = model;
  }

  static async create(client: Anthropic, environmentId: string, model: string): Promise<OurSession> {
    const agent = await client.beta.agents.create({
      name: model,
      model: { id: model, provider: 'openai-chat' } as unknown as AgentCreateParams['model'],
      tools: [
        {
          type: 'agent_toolset_20260401',
          default_config: { enabled: false },
          configs: [{ name: 'bash', enabled: true, permission_policy: { type: 'always_allow' } }],
        },
      ],
    });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environmentId });
    const ours = new OurSession(client, session.id, model);
    await ours.open();
    return ours;
  }

  private async open(): Promise<void> {
    const stream = await this.client.beta.sessions.events.stream(this.id, { event_deltas: ['agent.message'] });
    this.abort = () => stream.controller.abort();
    this.reading = (async () => {
      try {
        for await (const event of stream) this.observe(event, performance.now());
      } catch (error) {
        if (!stream.controller.signal.aborted) throw error;
      }
    })();
  }

  private observe(event: StreamEvent, at: number): void {
    const turn = this.turn;
    if (!turn) return;
    const { marks } = turn;
    if (event.type === 'event_delta' && marks.firstToken === undefined) marks.firstToken = at;
    else if (event.type === 'agent.tool_result') marks.toolResults.push(at);
    else if (event.type === 'agent.message') {
      // Deltas are best-effort: a turn whose text came without one counts from its message.
      if (marks.firstToken === undefined) {
        marks.firstToken = at;
        marks.noDelta = true;
      }
      marks.answer = event.content.map((block) => ('text' in block ? block.text : '')).join('');
    } else if (event.type === 'session.error') marks.error = JSON.stringify(event.error);
    else if (event.type === 'session.status_idle') {
      marks.ended = at;
      if (event.stop_reason.type !== 'end_turn') marks.error ??= `idle: ${event.stop_reason.type}`;
      this.turn = undefined;
      turn.done();
    }
  }

  /** One user message, from the POST to the `session.status_idle` event on the stream. */
  async runTurn(text: string): Promise<TurnMarks> {
    const marks: TurnMarks = { started: performance.now(), toolResults: [], ended: NaN, answer: '' };
    const finished = new Promise<void>((resolve) => (this.turn = { marks, done: resolve }));
    await this.client.beta.sessions.events.send(this.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
    });
    marks.accepted = performance.now();
    await finished;
    return marks;
  }

  async close(): Promise<void> {
    this.abort?.();
    await this.reading;
  }
}

export async function ourClient(harness: ApiHarness): Promise<{ client: Anthropic; environmentId: string }> {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const environment = await client.beta.environments.create({
    name: `peer-${harness.platform.prefix}`,
    config: { type: 'cloud', networking: { type: 'unrestricted' } },
  });
  return { client, environmentId: environment.id };
}
