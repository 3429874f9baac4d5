// Payload encryption per tenant: a payload owned by a tenant's workflow (its SerializationContext names the workflow,
// and the workflow's row names the tenant) is encrypted under that tenant's data key (codec/tenant-keyring.ts), with
// the key id, the tenant and the wrapped key in its metadata. Payloads of workflows without a tenant (and every payload
// written before this) use the platform key (encryption-codec.ts), which still decodes them.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type Payload, type PayloadCodec, type SerializationContext, ValueError } from '@temporalio/common';
import proto from '@temporalio/proto';
import { PayloadAccessDenied, type CodecAccess } from './codec-access.ts';
import { encryptedEncoding, encryptionKeyIdMetadataKey, type EncryptionCodec } from './encryption-codec.ts';
import { hintedTenant } from './tenant-hint.ts';
import type { DataKey, TenantKeyring } from './tenant-keyring.ts';

// @temporalio/proto is CommonJS: Node's ESM loader sees only its default export.
const { temporal } = proto;
const PayloadProto = temporal.api.common.v1.Payload;

export const encryptionTenantMetadataKey = 'encryption-tenant';
export const wrappedKeyMetadataKey = 'encryption-wrapped-key';
export const wrappingKeyIdMetadataKey = 'encryption-wrapping-key-id';
const ivBytes = 12;
const tagBytes = 16;

export interface TenantEncryptionCodecOptions {
  /** The platform-key codec: payloads without a tenant, and every payload from before per-tenant keys. */
  platform: EncryptionCodec;
  keyring: TenantKeyring;
  /** The tenant owning a workflow, or undefined (then the platform key is used). */
  tenantOfWorkflow: (workflowId: string) => Promise<string | undefined>;
  /** Whose payloads this codec may decode (default: all); a tenant caller also encodes under its own key. */
  access?: CodecAccess;
}

export class TenantEncryptionCodec implements PayloadCodec {
  private readonly options: TenantEncryptionCodecOptions;
  private readonly workflowTenants: Map<string, string>;

  constructor(options: TenantEncryptionCodecOptions, workflowTenants = new Map<string, string>()) {
    this.options = options;
    this.workflowTenants = workflowTenants;
  }

  /** The same codec for a codec-server caller: decoding refuses payloads it is not entitled to. */
  forAccess(access: CodecAccess): TenantEncryptionCodec {
    return new TenantEncryptionCodec({ ...this.options, access }, this.workflowTenants);
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    let dataKey: DataKey | undefined;
    try {
      const tenantId = await this.tenantOf(context);
      if (tenantId !== undefined) dataKey = await this.options.keyring.currentKey(tenantId);
    } catch {
      // PostgreSQL out of reach (the workflow's tenant or its data key cannot be looked up): the payload goes under
      // the platform key — still encrypted, decodable by an operator only — rather than failing the worker, which
      // the SDK would otherwise shut down over a failed completion. Nothing is cached, so the next payload tries again.
      dataKey = undefined;
    }
    if (!dataKey) return this.options.platform.encode(payloads);
    const key = dataKey;
    return payloads.map((payload) => encrypt(payload, key));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    const access = this.options.access ?? { kind: 'all' };
    return Promise.all(
      payloads.map(async (payload) => {
        const tenantId = metadataString(payload, encryptionTenantMetadataKey);
        if (tenantId === undefined) {
          if (access.kind === 'tenant' && metadataString(payload, 'encoding') === encryptedEncoding) {
            throw new PayloadAccessDenied('this payload is under the platform key: only an operator may decode it');
          }
          return (await this.options.platform.decode([payload]))[0]!;
        }
        if (access.kind === 'tenant' && access.tenantId !== tenantId) {
          throw new PayloadAccessDenied("this payload belongs to another tenant: a tenant's key decodes only its own");
        }
        return decrypt(payload, this.dataKeyOf(payload, tenantId));
      }),
    );
  }

  private async tenantOf(context: SerializationContext | undefined): Promise<string | undefined> {
    if (this.options.access?.kind === 'tenant') return this.options.access.tenantId;
    const workflowId = context?.workflowId;
    if (!workflowId) return undefined;
    const known = this.workflowTenants.get(workflowId);
    if (known !== undefined) return known;
    // The API starting a session: its row is not committed, so the lookup could not see it — and it would wait for a
    // pool connection while the API's transaction holds one (with as many starts as connections, none would return).
    const hinted = hintedTenant();
    if (hinted !== undefined) return hinted;
    const tenantId = await this.options.tenantOfWorkflow(workflowId);
    if (tenantId === undefined) return undefined;
    if (this.workflowTenants.size >= 50_000)
      this.workflowTenants.delete(this.workflowTenants.keys().next().value ?? '');
    this.workflowTenants.set(workflowId, tenantId);
    return tenantId;
  }

  private dataKeyOf(payload: Payload, tenantId: string): DataKey {
    const id = metadataString(payload, encryptionKeyIdMetadataKey);
    const wrappingKeyId = metadataString(payload, wrappingKeyIdMetadataKey);
    const wrappedKey = payload.metadata?.[wrappedKeyMetadataKey];
    if (!id || !wrappingKeyId || !wrappedKey) throw new ValueError('Tenant-encrypted payload lacks its key metadata');
    return this.options.keyring.unwrap({ id, tenantId, wrappingKeyId, wrappedKey: Buffer.from(wrappedKey) });
  }
}

function encrypt(payload: Payload, dataKey: DataKey): Payload {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', dataKey.key, iv, { authTagLength: tagBytes });
  cipher.setAAD(payloadAad(dataKey.id, dataKey.tenantId));
  const ciphertext = Buffer.concat([cipher.update(PayloadProto.encode(payload).finish()), cipher.final()]);
  return {
    metadata: {
      encoding: Buffer.from(encryptedEncoding, 'utf8'),
      [encryptionKeyIdMetadataKey]: Buffer.from(dataKey.id, 'utf8'),
      [encryptionTenantMetadataKey]: Buffer.from(dataKey.tenantId, 'utf8'),
      [wrappedKeyMetadataKey]: dataKey.wrappedKey,
      [wrappingKeyIdMetadataKey]: Buffer.from(dataKey.wrappingKeyId, 'utf8'),
    },
    data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
  };
}

function decrypt(payload: Payload, dataKey: DataKey): Payload {
  const data = Buffer.from(payload.data ?? new Uint8Array());
  if (data.byteLength < ivBytes + tagBytes) throw new ValueError('Encrypted payload is too short');
  const decipher = createDecipheriv('aes-256-gcm', dataKey.key, data.subarray(0, ivBytes), { authTagLength: tagBytes });
  decipher.setAAD(payloadAad(dataKey.id, dataKey.tenantId));
  decipher.setAuthTag(data.subarray(data.byteLength - tagBytes));
  try {
    return PayloadProto.decode(
      Buffer.concat([decipher.update(data.subarray(ivBytes, data.byteLength - tagBytes)), decipher.final()]),
    );
  } catch {
    throw new ValueError(`Encrypted payload failed authentication with data key "${dataKey.id}" (corrupt or tampered)`);
  }
}

const payloadAad = (dataKeyId: string, tenantId: string): Buffer =>
  Buffer.from(`${dataKeyId}\u0000${tenantId}`, 'utf8');

function metadataString(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}
