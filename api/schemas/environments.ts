// Environment schemas: Anthropic's `cloud` config (networking, packages) plus this platform's `sandbox` extension
// (image and limits of the session's container), and Anthropic's `self_hosted` config (no options).
import { z } from 'zod';
import { allowedHost, metadataPatchSchema, metadataSchema } from './common.ts';

const unrestrictedNetwork = z.object({ type: z.literal('unrestricted') });
const limitedNetwork = z.object({
  type: z.literal('limited'),
  allowed_hosts: z.array(allowedHost).max(256).nullish(),
  allow_package_managers: z.boolean().nullish(),
  allow_mcp_servers: z.boolean().nullish(),
});

const packageList = z.array(z.string().min(1).max(256)).max(256).nullish();
const packagesSchema = z.object({
  type: z.literal('packages').optional(),
  apt: packageList,
  cargo: packageList,
  gem: packageList,
  go: packageList,
  npm: packageList,
  pip: packageList,
});

/** Extension: the container sessions of this environment run their sandboxed tools in. */
const sandboxSchema = z.object({
  image: z.string().min(1).max(512).optional(),
  memory_mb: z.number().int().min(64).max(65_536).optional(),
  cpus: z.number().min(0.1).max(64).optional(),
  pids_limit: z.number().int().min(16).max(65_536).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4096)).optional(),
});

const cloudConfigSchema = z.object({
  type: z.literal('cloud'),
  networking: z.discriminatedUnion('type', [unrestrictedNetwork, limitedNetwork]).nullish(),
  packages: packagesSchema.nullish(),
  sandbox: sandboxSchema.optional(),
});

/** Tools run by a runner the customer operates, which polls the environment's work queue (README "Self-hosted"). */
const selfHostedConfigSchema = z.object({ type: z.literal('self_hosted') });

export const environmentConfigSchema = z.discriminatedUnion('type', [cloudConfigSchema, selfHostedConfigSchema]);

export type EnvironmentConfigBody = z.infer<typeof cloudConfigSchema>;

export const environmentCreateSchema = z.object({
  name: z.string().min(1).max(256),
  description: z.string().max(2048).nullish(),
  config: environmentConfigSchema.nullish(),
  metadata: metadataSchema.optional(),
});

export const environmentUpdateSchema = z.object({
  name: z.string().min(1).max(256).nullish(),
  description: z.string().max(2048).nullish(),
  config: environmentConfigSchema.nullish(),
  metadata: metadataPatchSchema.nullish(),
});

export const environmentSchema = z
  .object({
    id: z.string(),
    type: z.literal('environment'),
    name: z.string(),
    description: z.string().nullable(),
    config: z.looseObject({ type: z.string() }),
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'Environment' });
