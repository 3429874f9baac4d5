// Builds the model transcript from the session's event log. The log is the conversation: model calls carry a position
// in it rather than the messages themselves, which keeps workflow history linear in the conversation's size.
import type { SessionEvent, TextContent, UserContent } from './events.ts';
import type { AssistantContentBlock, ModelMessage, TextBlock, UserContentBlock } from './model.ts';
import { outcomeTaskText, revisionRequest } from './outcomes.ts';

/** What a compacted transcript starts with: the summary of the events it no longer carries. */
export const summaryPreamble = (summary: string): string =>
  `<summary_of_earlier_conversation>\n${summary}\n</summary_of_earlier_conversation>`;

const textOf = (content: UserContent[] | undefined): TextBlock[] =>
  (content ?? []).map((block): TextBlock =>
    block.type === 'text' ? { type: 'text', text: block.text } : { type: 'text', text: `[${block.type} attached]` },
  );

const nonEmpty = (blocks: TextBlock[], fallback: string): TextBlock[] =>
  blocks.some((block) => block.text.length > 0) ? blocks : [{ type: 'text', text: fallback }];

/**
 * Events → alternating user/assistant messages. Tool calls use their event id as the tool_use id, so results pair
 * with calls whatever ids the provider first gave. A call that never got a result (the turn was interrupted) gets an
 * error result, so every provider accepts the transcript.
 */
export function buildTranscript(events: SessionEvent[], options: { summary?: string } = {}): ModelMessage[] {
  const messages: ModelMessage[] = [];
  if (options.summary !== undefined) {
    messages.push({ role: 'user', content: [{ type: 'text', text: summaryPreamble(options.summary) }] });
  }
  const openCalls = new Set<string>();

  const pushUser = (blocks: UserContentBlock[]) => {
    const last = messages.at(-1);
    if (last?.role === 'user') last.content.push(...blocks);
    else messages.push({ role: 'user', content: blocks });
  };
  const pushAssistant = (blocks: AssistantContentBlock[]) => {
    // Calls of an earlier model turn that got no result are closed before the next model turn starts.
    if (messages.at(-1)?.role !== 'assistant') closeOpenCalls();
    const last = messages.at(-1);
    if (last?.role === 'assistant') last.content.push(...blocks);
    else messages.push({ role: 'assistant', content: blocks });
  };
  const closeOpenCalls = () => {
    for (const id of openCalls) {
      pushUser([
        { type: 'tool_result', toolUseId: id, isError: true, content: [{ type: 'text', text: 'Interrupted.' }] },
      ]);
    }
    openCalls.clear();
  };
  const closeCall = (id: string, isError: boolean | undefined, content: UserContent[] | undefined) => {
    if (!openCalls.delete(id)) return;
    pushUser([
      {
        type: 'tool_result',
        toolUseId: id,
        isError: isError ?? false,
        content: nonEmpty(textOf(content), '(no output)'),
      },
    ]);
  };

  for (const event of events) {
    switch (event.type) {
      case 'user.message':
        closeOpenCalls();
        pushUser(nonEmpty(textOf(event.content), '(empty message)'));
        break;
      case 'user.define_outcome':
        closeOpenCalls();
        pushUser([{ type: 'text', text: outcomeTaskText(event.description, event.rubric.content) }]);
        break;
      case 'system.message':
        closeOpenCalls();
        pushUser(event.content.map((block): TextBlock => ({ type: 'text', text: `<system>${block.text}</system>` })));
        break;
      case 'agent.thread_message_received':
        // A thread's turn starts with the message another thread sent it. On the sending side the reply arrives
        // inside the delegating call, whose tool result carries it: not a message of its own there.
        if (openCalls.size === 0) pushUser(nonEmpty(textOf(event.content), '(empty message)'));
        break;
      case 'span.outcome_evaluation_end': {
        const text = revisionRequest(event.result, event.iteration, event.explanation);
        if (text) pushUser([{ type: 'text', text }]);
        break;
      }
      case 'agent.message':
        pushAssistant(event.content.map((block: TextContent): TextBlock => ({ type: 'text', text: block.text })));
        break;
      case 'agent.tool_use':
      case 'agent.custom_tool_use':
        pushAssistant([{ type: 'tool_use', id: event.id, name: event.name, input: event.input }]);
        openCalls.add(event.id);
        break;
      case 'agent.mcp_tool_use':
        pushAssistant([{ type: 'tool_use', id: event.id, name: event.tool_name ?? event.name, input: event.input }]);
        openCalls.add(event.id);
        break;
      case 'agent.mcp_tool_result':
        closeCall(event.mcp_tool_use_id, event.is_error, event.content);
        break;
      case 'agent.tool_result':
        closeCall(event.tool_use_id, event.is_error, event.content);
        break;
      case 'user.custom_tool_result':
      case 'user.tool_result':
        closeCall(
          event.type === 'user.tool_result' ? event.tool_use_id : event.custom_tool_use_id,
          event.is_error,
          event.content,
        );
        break;
      default:
        break;
    }
  }
  closeOpenCalls();
  return messages;
}

const clip = (text: string, max: number): string =>
  text.length <= max
    ? text
    : `${text.slice(0, max / 2)}\n[… ${text.length - max} characters left out …]\n${text.slice(-max / 2)}`;

/** A transcript as plain text, for a model that reads it rather than continues it (the grader, the summariser). */
export function transcriptText(messages: ModelMessage[], maxBlockChars = 20_000): string {
  const lines: string[] = [];
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type === 'text')
        lines.push(`${message.role === 'user' ? 'User' : 'Agent'}: ${clip(block.text, maxBlockChars)}`);
      else if (block.type === 'tool_use')
        lines.push(`Agent called ${block.name}: ${clip(JSON.stringify(block.input), maxBlockChars)}`);
      else {
        const text = block.content.map((part) => part.text).join('');
        lines.push(`Tool result${block.isError ? ' (error)' : ''}: ${clip(text, maxBlockChars)}`);
      }
    }
  }
  return lines.join('\n\n');
}
