// The contract of a backend-tool activity: what the session sends, what the operator's activity returns.
export interface BackendToolInput {
  sessionId: string;
  tenantId: string;
  /** The `agent.tool_use` event id: a natural idempotency key for side effects. */
  toolUseId: string;
  name: string;
  input: Record<string, unknown>;
}

export interface BackendToolOutput {
  content: string;
  is_error?: boolean;
}
