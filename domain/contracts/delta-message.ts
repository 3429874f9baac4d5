// A live token delta, as the model activity publishes it (activities/model/delta-publisher.ts) and the API's SSE
// streams read it (api/event-notifier.ts). Live only: never journaled, never replayed.

export interface DeltaMessage {
  session_id: string;
  /** The id the finished `agent.message` / `agent.thinking` event will have. */
  event_id: string;
  event_type: 'agent.message' | 'agent.thinking';
  /** The content block the text belongs to. */
  index: number;
  text: string;
}
