// The one data converter shared by every worker and client: payloads are compressed when that shrinks them
// (compression-codec.ts; before encryption, which leaves nothing to compress), then encrypted (AES-256-GCM: a tenant's workflows
// under its own data key, the rest under the platform key; see tenant-encryption-codec.ts), then any
// encrypted payload at or above the threshold is moved to Postgres `payload_blobs`, leaving a small reference in history.
// Encryption comes first, so the blob store only ever sees ciphertext.
//
// Two interchangeable ways to move large payloads, both onto the same content-addressed blob store:
// - 'external-storage' (default): SDK 1.24's experimental `DataConverter.externalStorage` with a Postgres driver —
//   Temporal's own mechanism. It needs one protobufjs 8 shared by @temporalio/common and @temporalio/proto, which is
//   why package.json pins protobufjs 8 at the top level (otherwise dockerode's protobufjs 7 is hoisted and encoding the
//   reference payload throws "type must be a Type").
// - 'claim-check': our ClaimCheckCodec as the last payload codec; a fallback should the experimental API change.
import { fileURLToPath } from 'node:url';
import { type DataConverter, ExternalStorage, type Payload, type PayloadCodec } from '@temporalio/common';
import type { Pool } from 'pg';
import { developmentPayloadKeys, parsePayloadKeys, type PlatformConfig } from '../domain/config.ts';
import { ClaimCheckCodec } from './claim-check-codec.ts';
import type { CodecAccess } from './codec-access.ts';
import { CompressionCodec } from './compression-codec.ts';
import { EncryptionCodec } from './encryption-codec.ts';
import { ExternalReferenceCodec } from './external-reference-codec.ts';
import { PostgresBlobStore } from './postgres-blob-store.ts';
import { PostgresStorageDriver } from './postgres-storage-driver.ts';
import { TenantEncryptionCodec } from './tenant-encryption-codec.ts';
import { TenantKeyring } from './tenant-keyring.ts';
import { tenantOfWorkflow } from '../db/repositories/tenant-data-keys.ts';

export const defaultClaimCheckThresholdBytes = 32 * 1024;

/** Workflow bundles built ahead of time (bundleWorkflowCode) must name the same failure converter. */
export const platformFailureConverterPath = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

export interface PayloadProtectionConfig {
  pool: Pick<Pool, 'query'>;
  /** keyId → 32-byte AES-256 key; see decodeBase64Keys for keys kept as base64 in configuration. */
  keys: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;
  currentKeyId: string;
  /** Encoded payloads of at least this many bytes go to payload_blobs (default 32 KiB). */
  claimCheckThresholdBytes?: number;
  /** Read-cache size of the blob store (default 32 MiB). */
  blobCacheMaxBytes?: number;
  /** How large payloads leave history (default 'external-storage', Temporal's own; see the top of this file). */
  largePayloads?: 'claim-check' | 'external-storage';
  /** How long a process keeps using a tenant's current data key before re-reading it (default 60 s). */
  tenantKeyRefreshMs?: number;
}

/** The codec server's codec: decodes everything, or, for one caller, only what that caller is entitled to. */
export interface CodecServerCodec extends PayloadCodec {
  forAccess(access: CodecAccess): PayloadCodec;
}

/**
 * Builds the DataConverter for `Worker.create({ dataConverter })` and `new Client({ dataConverter })`. Build it once per
 * process and share it, so client and worker share one blob cache. Replaying histories (Worker.runReplayHistories)
 * needs it too, with the same keys and database: history holds only ciphertext and references.
 */
export function createDataConverter(config: PayloadProtectionConfig): DataConverter {
  const blobStore = createBlobStore(config);
  const encryption = createEncryptionCodec(config);
  const failureConverterPath = platformFailureConverterPath;
  if ((config.largePayloads ?? 'external-storage') === 'external-storage') {
    return {
      payloadCodecs: [new CompressionCodec(), encryption],
      externalStorage: createExternalStorage(config, blobStore),
      failureConverterPath,
    };
  }
  return {
    payloadCodecs: [new CompressionCodec(), encryption, createClaimCheckCodec(config, blobStore)],
    failureConverterPath,
  };
}

/**
 * The codec the codec server runs for Temporal UI / CLI: decode resolves blob references of either kind, decrypts, then
 * decompresses; encode mirrors the workers' codecs.
 */
export function createCodecServerCodec(config: PayloadProtectionConfig): CodecServerCodec {
  const blobStore = createBlobStore(config);
  const encryption = createEncryptionCodec(config);
  const chainFor = (codec: PayloadCodec) =>
    chainCodecs([
      new CompressionCodec(),
      codec,
      createClaimCheckCodec(config, blobStore),
      new ExternalReferenceCodec(createExternalStorage(config, blobStore)),
    ]);
  return { ...chainFor(encryption), forAccess: (access) => chainFor(encryption.forAccess(access)) };
}

/** Applies codecs like a DataConverter does: encode in array order, decode in reverse. */
export function chainCodecs(codecs: readonly PayloadCodec[]): PayloadCodec {
  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      let result = payloads;
      for (const codec of codecs) result = await codec.encode(result);
      return result;
    },
    async decode(payloads: Payload[]): Promise<Payload[]> {
      let result = payloads;
      for (const codec of [...codecs].reverse()) result = await codec.decode(result);
      return result;
    },
  };
}

function createEncryptionCodec(config: PayloadProtectionConfig): TenantEncryptionCodec {
  return new TenantEncryptionCodec({
    platform: new EncryptionCodec({ keys: config.keys, currentKeyId: config.currentKeyId }),
    keyring: createTenantKeyring(config),
    tenantOfWorkflow: (workflowId) => tenantOfWorkflow(config.pool, workflowId),
  });
}

/** The keyring of per-tenant data keys, wrapped by the platform's payload keys (rotation: TenantKeyring.rotate). */
export function createTenantKeyring(config: PayloadProtectionConfig): TenantKeyring {
  return new TenantKeyring({
    pool: config.pool,
    platformKeys: config.keys,
    currentPlatformKeyId: config.currentKeyId,
    refreshMs: config.tenantKeyRefreshMs,
  });
}

function createBlobStore(config: PayloadProtectionConfig): PostgresBlobStore {
  return new PostgresBlobStore({ pool: config.pool, cacheMaxBytes: config.blobCacheMaxBytes });
}

function createClaimCheckCodec(config: PayloadProtectionConfig, blobStore: PostgresBlobStore): ClaimCheckCodec {
  return new ClaimCheckCodec({
    blobStore,
    thresholdBytes: config.claimCheckThresholdBytes ?? defaultClaimCheckThresholdBytes,
  });
}

function createExternalStorage(config: PayloadProtectionConfig, blobStore: PostgresBlobStore): ExternalStorage {
  return new ExternalStorage({
    drivers: [new PostgresStorageDriver(blobStore)],
    payloadSizeThreshold: config.claimCheckThresholdBytes ?? defaultClaimCheckThresholdBytes,
  });
}

/** The converter every process of the platform uses, from its configuration (keys, threshold) and database pool. */
export function createPlatformDataConverter(config: PlatformConfig, pool: Pool): DataConverter {
  return createDataConverter(platformPayloadProtection(config, pool));
}

/** The codec the platform's codec server runs, with the same keys and blob store as the workers. */
export function createPlatformCodecServerCodec(config: PlatformConfig, pool: Pool): CodecServerCodec {
  return createCodecServerCodec(platformPayloadProtection(config, pool));
}

export function platformPayloadProtection(config: PlatformConfig, pool: Pool): PayloadProtectionConfig {
  const { keys, currentKeyId } = parsePayloadKeys(config.AGENTS_PAYLOAD_KEYS ?? developmentPayloadKeys);
  return {
    pool,
    keys,
    currentKeyId,
    claimCheckThresholdBytes: config.AGENTS_CLAIM_CHECK_THRESHOLD,
    tenantKeyRefreshMs: config.AGENTS_TENANT_KEY_REFRESH_SECONDS * 1000,
  };
}
