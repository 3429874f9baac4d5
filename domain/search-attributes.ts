import { defineSearchAttributeKey } from '@temporalio/common';

// The custom search attributes every session workflow carries; registered on the Temporal namespace at startup
// (`temporal server start-dev --search-attribute`, or `temporal operator search-attribute create` in production).
export const sessionSearchAttributes = {
  SessionStatus: 'Keyword',
  AgentId: 'Keyword',
  TenantId: 'Keyword',
  EnvironmentId: 'Keyword',
} as const;

export type SessionSearchAttributeName = keyof typeof sessionSearchAttributes;

export const sessionStatusKey = defineSearchAttributeKey('SessionStatus', 'KEYWORD');
export const agentIdKey = defineSearchAttributeKey('AgentId', 'KEYWORD');
export const tenantIdKey = defineSearchAttributeKey('TenantId', 'KEYWORD');
export const environmentIdKey = defineSearchAttributeKey('EnvironmentId', 'KEYWORD');
