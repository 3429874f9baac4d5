// What every route needs, built once by createApi.
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import type { SecretBox } from '../db/repositories/secret-box.ts';
import type { PlatformConfig } from '../domain/config.ts';
import type { SessionSettings } from '../domain/session.ts';
import type { UrlGuard } from '../net/url-guard.ts';
import type { DeploymentRunnerDeps, PlatformEventSink } from './deployment-runner.ts';
import type { DeploymentSchedules } from './deployment-schedules.ts';
import type { EventNotifier } from './event-notifier.ts';
import type { Quotas } from './quotas.ts';
import type { SessionDriver } from './session-driver.ts';
import type { WorkTokens } from './work-tokens.ts';

export interface ApiContext {
  config: PlatformConfig;
  pool: pg.Pool;
  /** Quotas and rate limits (api/quotas.ts). */
  quotas: Quotas;
  driver: SessionDriver;
  notifier: EventNotifier;
  secretBox: SecretBox;
  /** Checks every URL a tenant supplies (AGENTS_PRIVATE_NETWORK_ALLOWLIST). */
  urlGuard: UrlGuard;
  /** Issues and checks the sessions tokens of self-hosted work items. */
  workTokens: WorkTokens;
  /** Settings every new session starts with. */
  sessionSettings: SessionSettings;
  /** SSE heartbeat interval. */
  heartbeatMs: number;
  /** Deployments' Temporal Schedules. */
  schedules: DeploymentSchedules;
  /** What a deployment firing needs (the run endpoint and trigger URL run it in the API process). */
  runner: DeploymentRunnerDeps;
  /** Announces a platform event to the tenant's webhook endpoints. */
  emit: PlatformEventSink;
  /** Closers of the open SSE streams: shutdown ends them (Fastify's close waits for open connections). */
  openStreams: Set<() => void>;
}

export type ZodApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;
