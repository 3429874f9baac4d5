// What the openai_agents harness needs from the session it runs in (workflows/session-runtime.ts provides it).
import type { ModelUsage } from '../../domain/model.ts';
import type { EventJournal } from '../event-journal.ts';
import type { ModelCallContext } from '../model-call.ts';
import type { SessionRuntime } from '../session-runtime.ts';

export interface OpenAiAgentsHost extends ModelCallContext {
  journal: EventJournal;
  addUsage(usage: ModelUsage): void;
  /** The session's input, sandbox lease, counters, threads, MCP tools, actions awaiting the client, usage. */
  session: Pick<
    SessionRuntime,
    'input' | 'sandbox' | 'stats' | 'threads' | 'mcp' | 'pending' | 'usage' | 'advisorHost'
  >;
}
