// Process configuration: every environment variable the platform reads, validated once at start (zod). Entry points
// call loadConfig(process.env); nothing else reads the environment. See README "Configuration".
import { z } from 'zod';
import { defaultPriceTable, priceTableSchema } from './model-prices.ts';
import { regionNamePattern } from './regions.ts';

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));
/** A comma-separated list; blanks dropped, an empty string is no entries. */
const commaList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
  );

/** A JSON value checked by `schema`; `fallback` when unset. */
function jsonSetting<Schema extends z.ZodType>(schema: Schema, fallback: z.output<Schema>, message: string) {
  return z
    .string()
    .optional()
    .transform((value, context): z.output<Schema> => {
      if (!value) return fallback;
      try {
        return schema.parse(JSON.parse(value));
      } catch {
        context.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
    });
}

const sessionTimingsSchema = z
  .object({
    idlePauseMs: z.number().int().positive(),
    idleSnapshotMs: z.number().int().positive(),
    modelMaxAttempts: z.number().int().positive(),
    modelRetryInitialMs: z.number().int().positive(),
    modelRetryMaxMs: z.number().int().positive(),
    modelTimeoutMs: z.number().int().positive(),
    modelHeartbeatTimeoutMs: z.number().int().positive(),
    sandboxHostTimeoutMs: z.number().int().positive(),
    sandboxHeartbeatTimeoutMs: z.number().int().positive(),
    toolTimeoutMs: z.number().int().positive(),
    continueAsNewEveryTurns: z.number().int().min(0),
    mcpToolTimeoutMs: z.number().int().positive(),
    modelRegionWaitMs: z.number().int().positive(),
  })
  .partial()
  .strict();
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** `key=value[,key=value…]` → a record; an empty string is no labels. */
const labelList = z
  .string()
  .regex(/^([A-Za-z0-9._/-]+=[^,=]*(,[A-Za-z0-9._/-]+=[^,=]*)*)?$/, 'expected key=value[,key=value…]')
  .transform((value) =>
    Object.fromEntries(
      value
        .split(',')
        .filter((entry) => entry !== '')
        .map((entry) => entry.split('=') as [string, string]),
    ),
  );

/** `keyId:base64Key[,keyId:base64Key…]` — the first key encrypts, all decrypt (rotation). */
const payloadKeys = z
  .string()
  .regex(/^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$/, 'expected keyId:base64[,keyId:base64…]');

export const configSchema = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /** Prefix for every task queue (several deployments, or test runs, in one namespace). */
  AGENTS_TASK_QUEUE_PREFIX: z.string().default(''),
  /**
   * Regions (README "Regions"). A worker's AGENTS_REGION is the fleet it belongs to (it polls that region's queues);
   * the API's is the default region of new sessions. Unset: no regions, the shared queues.
   */
  AGENTS_REGION: optionalString.pipe(z.string().regex(regionNamePattern, 'a short lower-case name').optional()),
  /** The regions there are: the API accepts these in a session's `metadata.region`; session workers adopt their queues. */
  AGENTS_REGIONS: commaList.pipe(z.array(z.string().regex(regionNamePattern, 'short lower-case names'))),
  /** How often each regional worker process records that it is alive. */
  AGENTS_REGION_HEARTBEAT_MS: positiveInt(5_000),
  /** A region none of whose workers of a kind was heard from for this long is taken for gone. */
  AGENTS_REGION_STALE_MS: positiveInt(30_000),
  DATABASE_URL: z.string().default('postgres://agents@127.0.0.1:55432/agents'),
  DATABASE_POOL_SIZE: positiveInt(10),
  /** Payload encryption keys for Temporal history and the blob store. Required outside development. */
  AGENTS_PAYLOAD_KEYS: payloadKeys.optional(),
  /** Payloads at least this large leave history for the Postgres blob store (bytes). */
  AGENTS_CLAIM_CHECK_THRESHOLD: positiveInt(32 * 1024),
  /** How long a process encrypts with a tenant's current data key before re-reading it (a rotation's reach). */
  AGENTS_TENANT_KEY_REFRESH_SECONDS: positiveInt(60),
  /** Key that encrypts vault credentials at rest (base64, 32 bytes). */
  AGENTS_VAULT_KEY: optionalString,
  /** More vault keys (base64, comma-separated) that open sealed secrets but never seal: a rotation's other key. */
  AGENTS_VAULT_EXTRA_KEYS: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalString,
  /**
   * Non-public address ranges (CIDRs, comma-separated) that tenant-supplied URLs — model base_url, MCP servers,
   * webhooks, repositories — may reach. Empty: only public unicast addresses (see README "Credentials and MCP").
   */
  AGENTS_PRIVATE_NETWORK_ALLOWLIST: commaList,
  /**
   * Hosts that github_repository resources may be cloned from (comma-separated, exact host names; default github.com).
   * The URL guard (AGENTS_PRIVATE_NETWORK_ALLOWLIST) applies on top (see README "Repositories in the sandbox").
   */
  AGENTS_REPOSITORY_HOSTS: z
    .string()
    .default('github.com')
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim().toLowerCase())
        .filter((entry) => entry !== ''),
    ),
  /** A model server for providers without a key (the fake model server in development and tests). */
  AGENTS_FAKE_MODEL_URL: optionalString,
  /** A workflow bundle built ahead of time (bundleWorkflowCode); otherwise session workers bundle at start. */
  AGENTS_WORKFLOW_BUNDLE_PATH: optionalString,
  /** Sessions a session worker keeps in memory (Temporal's workflow cache); an evicted idle session replays on its
   * next event. Unset: the SDK's default, sized from the machine's memory. */
  AGENTS_SESSION_CACHE_SIZE: z.coerce.number().int().min(0).optional(),
  /**
   * Worker versioning: the Worker Deployment the session workers are versions of (README "Worker versioning"). Unset:
   * session workers are unversioned and every session replays on the newest code.
   */
  AGENTS_WORKER_DEPLOYMENT: optionalString,
  /** This session worker's build id within the deployment; unset: derived from its workflow bundle (a hash). */
  AGENTS_WORKER_BUILD_ID: optionalString,
  AGENTS_MODEL_MAX_CONCURRENCY: positiveInt(20),
  /** Model calls started per second across all model workers of the queue. */
  AGENTS_MODEL_MAX_PER_SECOND: z.coerce.number().positive().default(50),
  /**
   * The model gateway (README "Model gateway"): the model worker listens here for harnesses inside sandboxes. Unset
   * port: no gateway. AGENTS_MODEL_GATEWAY_URL is its address as sandboxes reach it through their egress proxy
   * (its host is added to the allowed hosts of such sessions); default http://<host>:<port>.
   */
  AGENTS_MODEL_GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  AGENTS_MODEL_GATEWAY_HOST: z.string().default('127.0.0.1'),
  AGENTS_MODEL_GATEWAY_URL: optionalString,
  /** Model requests per session per minute through the gateway (0: unlimited). */
  AGENTS_MODEL_GATEWAY_REQUESTS_PER_MINUTE: nonNegativeInt(120),
  /** Per provider, in one model worker: calls in flight and calls started per second (Anthropic and OpenAI apart). */
  AGENTS_ANTHROPIC_MAX_CONCURRENCY: positiveInt(20),
  AGENTS_ANTHROPIC_MAX_PER_SECOND: positiveInt(20),
  AGENTS_OPENAI_MAX_CONCURRENCY: positiveInt(20),
  AGENTS_OPENAI_MAX_PER_SECOND: positiveInt(20),
  /** This Docker host's id: its sandbox worker polls `agents-sandbox-host-<id>`. */
  AGENTS_SANDBOX_HOST_ID: optionalString,
  AGENTS_SANDBOX_IMAGE: z.string().default('agents-sandbox:latest'),
  AGENTS_SANDBOX_MAX_CONCURRENCY: positiveInt(20),
  /** Labels added to every container this sandbox worker creates, `key=value[,key=value…]` (tests mark their run). */
  AGENTS_SANDBOX_EXTRA_LABELS: labelList.default({}),
  /** Containers of the default image and limits kept ready on this host, so a claim skips the cold start. */
  AGENTS_SANDBOX_WARM_POOL_MIN: nonNegativeInt(0),
  /** Never more pooled containers (ready or being created) than this. */
  AGENTS_SANDBOX_WARM_POOL_MAX: nonNegativeInt(10),
  /** Other specs (environments with packages) last created cold on this host that keep one container ready each. */
  AGENTS_SANDBOX_ENVIRONMENT_POOLS: nonNegativeInt(0),
  /** How often the sandbox worker removes containers whose session is closed or gone (ms; 0 turns the reaper off). */
  AGENTS_SANDBOX_REAPER_INTERVAL_MS: nonNegativeInt(60_000),
  /** How long one sandbox operation waits for an unreachable Docker daemon (a restart) before failing retryably. */
  AGENTS_SANDBOX_DOCKER_OUTAGE_WAIT_MS: nonNegativeInt(60_000),
  /**
   * Host folder for the sandboxes' exec agents (one bind-mounted folder with a Unix socket per container); unset: the
   * system temp folder's `agents-sandbox-agent`. `off` runs every command through `docker exec` (needed when the
   * Docker engine is on another machine, which cannot bind-mount this host's folders).
   */
  AGENTS_SANDBOX_AGENT_DIR: optionalString,
  /** Folder of the egress proxy's per-sandbox Unix sockets (keep it short: socket paths are limited to 107 bytes). */
  AGENTS_EGRESS_SOCKET_DIR: z.string().default('/run/agents-egress'),
  /** A PEM bundle the egress proxy trusts for upstream TLS on hosts it intercepts (besides the public roots). */
  AGENTS_EGRESS_UPSTREAM_CA_FILE: optionalString,
  /**
   * A PEM bundle trusted while building environment images (apt/pip/npm packages), for hosts that reach the package
   * registries through a TLS-intercepting proxy. Used only during the build.
   */
  AGENTS_SANDBOX_BUILD_CA_FILE: optionalString,
  /** Port of the codec server for Temporal UI and CLI (runs in the API process; 0 disables it). */
  AGENTS_CODEC_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  /** Bearer token the codec server requires; unset, it answers loopback callers only (development). */
  AGENTS_CODEC_TOKEN: optionalString,
  /** Bearer token the API's /metrics requires; unset, it answers loopback callers only. */
  AGENTS_METRICS_TOKEN: optionalString,
  /** Port of a worker process's Prometheus endpoint (Temporal's runtime metrics at /metrics; 0 disables it). */
  AGENTS_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Address that endpoint binds to (0.0.0.0 in containers, so a scraper can reach it). */
  AGENTS_METRICS_HOST: z.string().default('127.0.0.1'),
  /** Lease of a self-hosted environment's work item: a runner that does not heartbeat within it loses the item to the
   * next poll (seconds; the runner heartbeats every half of it). */
  AGENTS_WORK_LEASE_TTL_SECONDS: positiveInt(90),
  /** Provider mode (workers/provider-worker.ts): the control plane whose self-hosted environment this host serves. */
  AGENTS_PROVIDER_API_URL: optionalString,
  AGENTS_PROVIDER_ENVIRONMENT_ID: optionalString,
  /** The environment key the provider polls with (a secret: give it through the environment, never a file in git). */
  AGENTS_PROVIDER_ENVIRONMENT_KEY: optionalString,
  /** Hosts the provider's sandboxes may reach through its egress proxy (comma-separated, `*.example.com` for
   * subdomains); empty: no network at all. */
  AGENTS_PROVIDER_ALLOWED_HOSTS: commaList,
  /** Firings a deployment's schedule missed while Temporal or the workers were down are taken late if not older than
   * this (ms); older ones are dropped. */
  AGENTS_DEPLOYMENT_CATCHUP_WINDOW_MS: positiveInt(10 * 60_000),
  /** Tests and demos only: accept a 6-field cron with a leading seconds field, so a schedule fires within seconds. */
  AGENTS_DEPLOYMENT_SECONDS_CRON: z
    .enum(['true', 'false', ''])
    .default('false')
    .transform((value) => value === 'true'),
  /** Webhook deliveries: the first retry after this (ms), doubling up to the maximum, so many attempts in all (the
   * defaults spread 15 attempts over about 9 hours). */
  AGENTS_WEBHOOK_RETRY_INITIAL_MS: positiveInt(30_000),
  AGENTS_WEBHOOK_RETRY_MAX_MS: positiveInt(3_600_000),
  AGENTS_WEBHOOK_MAX_ATTEMPTS: positiveInt(15),
  /** One delivery attempt's HTTP timeout (ms). */
  AGENTS_WEBHOOK_ATTEMPT_TIMEOUT_MS: positiveInt(10_000),
  /** Consecutive failed attempts after which an endpoint is disabled (and a webhook_endpoint.disabled event sent). */
  AGENTS_WEBHOOK_DISABLE_AFTER_FAILURES: positiveInt(100),
  /** How long a rotated-out signing secret keeps signing beside the new one (ms). */
  AGENTS_WEBHOOK_SECRET_GRACE_MS: nonNegativeInt(24 * 3_600_000),
  /** How often an automation worker starts the deliveries whose emitter could not reach Temporal (ms). */
  AGENTS_WEBHOOK_SWEEP_INTERVAL_MS: positiveInt(10_000),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Largest request body the API accepts (bytes); larger ones get 413. */
  API_BODY_LIMIT_BYTES: positiveInt(8 * 1024 * 1024),
  /** Temporal UI's base URL, for links from the API. */
  TEMPORAL_UI_URL: z.string().default('http://127.0.0.1:8233'),
  /** An OTLP/HTTP collector (e.g. http://otel-collector:4318): workers then export OpenTelemetry spans to it. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString,
  /** Default quotas per tenant (0: unlimited); a tenant's own limits (set through /v1/admin/…) override them. */
  AGENTS_TENANT_REQUESTS_PER_SECOND: nonNegativeInt(200),
  AGENTS_TENANT_MAX_RUNNING_SESSIONS: nonNegativeInt(100),
  AGENTS_TENANT_MODEL_TOKENS_PER_DAY: nonNegativeInt(0),
  AGENTS_TENANT_MAX_LIVE_SANDBOXES: nonNegativeInt(0),
  /** Default requests per second per API key, on top of its tenant's limit (0: only the tenant's). */
  AGENTS_KEY_REQUESTS_PER_SECOND: nonNegativeInt(0),
  /** Seconds after which an Idempotency-Key claim still without an answer (its API process died) may be retried. */
  AGENTS_IDEMPOTENCY_LEASE_S: positiveInt(60),
  /** The usage ledger's price table, JSON `{"<model id or prefix>": {"input": usd per Mtok, "output": …,
   * "cache_read"?: …, "cache_creation"?: …}}`; replaces the built-in one (domain/model-prices.ts). */
  AGENTS_MODEL_PRICES: jsonSetting(priceTableSchema, defaultPriceTable, 'expected a JSON price table'),
  /** Session timings for new sessions, JSON `{"sandboxHeartbeatTimeoutMs": 10000, …}` over the defaults
   * (domain/session.ts SessionSettings: idle pause/snapshot, model retries and timeouts, sandbox host and heartbeat
   * timeouts, tool timeout). */
  AGENTS_SESSION_SETTINGS: jsonSetting(
    sessionTimingsSchema,
    {},
    'expected a JSON object of session timings (milliseconds)',
  ),
  /** Context compaction: past this share of the model's context window, older turns are summarised (0 < share ≤ 1). */
  AGENTS_COMPACTION_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.8),
  /** Overrides the per-model context window table (domain/compaction.ts) for every model, in tokens. */
  AGENTS_CONTEXT_WINDOW_TOKENS: z.coerce.number().int().positive().optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type PlatformConfig = z.infer<typeof configSchema>;

export function loadConfig(env: Record<string, string | undefined>): PlatformConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** Development-only payload key, used when AGENTS_PAYLOAD_KEYS is unset (the dev stack and tests). Never in production. */
export const developmentPayloadKeys = 'dev:ZGV2LXBheWxvYWQta2V5LW5ldmVyLWluLXByb2QtMDE=';

/** Development-only vault key, used when AGENTS_VAULT_KEY is unset (the dev stack and tests). Never in production. */
export const developmentVaultKey = 'ZGV2LXZhdWx0LWtleS1uZXZlci1pbi1wcm9kLTAwMDE=';

export function parsePayloadKeys(value: string): { keys: Map<string, Uint8Array>; currentKeyId: string } {
  const keys = new Map<string, Uint8Array>();
  let currentKeyId = '';
  for (const entry of value.split(',')) {
    const [keyId = '', base64 = ''] = entry.split(':');
    const key = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    if (key.length !== 32) throw new Error(`payload key ${keyId} must be 32 bytes (base64 of 32 bytes)`);
    keys.set(keyId, key);
    currentKeyId ||= keyId;
  }
  return { keys, currentKeyId };
}

/** The session settings that come from configuration (merged over the defaults by whoever starts sessions). */
export const sessionSettingsFromConfig = (config: PlatformConfig) => ({
  taskQueuePrefix: config.AGENTS_TASK_QUEUE_PREFIX,
  compactionThreshold: config.AGENTS_COMPACTION_THRESHOLD,
  ...(config.AGENTS_CONTEXT_WINDOW_TOKENS ? { contextWindowTokens: config.AGENTS_CONTEXT_WINDOW_TOKENS } : {}),
});

/** The platform's default limits (domain/tenant-limits.ts), from configuration. */
export const limitDefaults = (config: PlatformConfig) => ({
  tenant: {
    requests_per_second: config.AGENTS_TENANT_REQUESTS_PER_SECOND,
    max_running_sessions: config.AGENTS_TENANT_MAX_RUNNING_SESSIONS,
    model_tokens_per_day: config.AGENTS_TENANT_MODEL_TOKENS_PER_DAY,
    max_live_sandboxes: config.AGENTS_TENANT_MAX_LIVE_SANDBOXES,
  },
  key: { requests_per_second: config.AGENTS_KEY_REQUESTS_PER_SECOND },
});

/** The model gateway as sandboxes reach it (README "Model gateway"), or undefined when there is none. */
export function modelGatewayUrl(config: PlatformConfig): string | undefined {
  if (config.AGENTS_MODEL_GATEWAY_URL) return config.AGENTS_MODEL_GATEWAY_URL;
  const port = config.AGENTS_MODEL_GATEWAY_PORT;
  return port === undefined ? undefined : `http://${config.AGENTS_MODEL_GATEWAY_HOST}:${port}`;
}
