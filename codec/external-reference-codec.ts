// Resolves external-storage reference payloads through the configured drivers. The SDK's client and worker do this on
// their own; this codec exists for the codec server, whose callers (Temporal UI, `temporal workflow show`) only ever
// see the reference as it sits in history.
import {
  type ExternalStorage,
  type Payload,
  type PayloadCodec,
  StorageDriverClaim,
  ValueError,
} from '@temporalio/common';

const referenceEncoding = 'json/protobuf';
const referenceMessageType = 'temporal.api.sdk.v1.ExternalStorageReference';

export class ExternalReferenceCodec implements PayloadCodec {
  private readonly externalStorage: ExternalStorage;

  constructor(externalStorage: ExternalStorage) {
    this.externalStorage = externalStorage;
  }

  /** Encoding leaves payloads inline: inputs typed into the UI are small, and the SDK offloads on its own side. */
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const reference = parseReference(payload);
        if (!reference) return payload;
        const driver = this.externalStorage.getDriver(reference.driverName);
        if (!driver) throw new ValueError(`No storage driver named "${reference.driverName}" is configured`);
        const [resolved] = await driver.retrieve({}, [new StorageDriverClaim(reference.claimData)]);
        if (!resolved) throw new ValueError(`Storage driver "${reference.driverName}" returned no payload`);
        return resolved;
      }),
    );
  }
}

interface StorageReference {
  driverName: string;
  claimData: Record<string, string>;
}

function parseReference(payload: Payload): StorageReference | undefined {
  if (metadataString(payload, 'encoding') !== referenceEncoding) return undefined;
  if (metadataString(payload, 'messageType') !== referenceMessageType) return undefined;
  const parsed = JSON.parse(
    Buffer.from(payload.data ?? new Uint8Array()).toString('utf8'),
  ) as Partial<StorageReference>;
  if (typeof parsed.driverName !== 'string' || parsed.driverName.length === 0) {
    throw new ValueError('External storage reference has no driverName');
  }
  return { driverName: parsed.driverName, claimData: parsed.claimData ?? {} };
}

function metadataString(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}
