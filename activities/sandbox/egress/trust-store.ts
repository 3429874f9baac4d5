// The deployment CA in an `egress` sandbox's trust store. The root filesystem is read-only, so /etc/ssl/certs is a
// volume of the container's own, which Docker seeds from the image; the CA is appended to the system bundle there (and
// kept alone beside it for Node's NODE_EXTRA_CA_CERTS). Written through the archive API, as root: the sandbox's user
// can read the files and cannot change them.
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { statusOf } from '../docker-errors.ts';

export const trustStoreDir = '/etc/ssl/certs';
export const trustStoreFiles = {
  /** Debian's system bundle (OpenSSL's default CAfile: curl, git, Python, wget). */
  bundle: `${trustStoreDir}/ca-certificates.crt`,
  ca: `${trustStoreDir}/agents-egress-ca.pem`,
} as const;
const maxBundleBytes = 4 * 1024 * 1024;

async function readFileFromArchive(container: Docker.Container, path: string): Promise<Buffer | undefined> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await container.getArchive({ path });
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
  const extract = tar.extract();
  stream.pipe(extract);
  let found: Buffer | undefined;
  for await (const entry of extract) {
    if (found === undefined && entry.header.type === 'file') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry) {
        size += (chunk as Buffer).length;
        if (size > maxBundleBytes) throw new Error(`${path} is larger than ${maxBundleBytes} bytes`);
        chunks.push(chunk as Buffer);
      }
      found = Buffer.concat(chunks);
    } else {
      entry.resume();
    }
  }
  return found;
}

/** Adds the CA once: a re-attach (after a worker restart) finds it there; a fresh container skips the look. */
export async function installTrustStore(
  container: Docker.Container,
  caCertificatePem: string,
  options: { fresh: boolean },
): Promise<void> {
  if (!options.fresh && (await readFileFromArchive(container, trustStoreFiles.ca))) return;
  const system = (await readFileFromArchive(container, trustStoreFiles.bundle)) ?? Buffer.alloc(0);
  const ca = Buffer.from(caCertificatePem.endsWith('\n') ? caCertificatePem : `${caCertificatePem}\n`);
  const separator = system.length > 0 && system[system.length - 1] !== 0x0a ? Buffer.from('\n') : Buffer.alloc(0);
  const bundle = Buffer.concat([system, separator, ca]);
  const pack = tar.pack();
  const header = { uid: 0, gid: 0, mode: 0o644, mtime: new Date() };
  pack.entry({ ...header, name: 'ca-certificates.crt', size: bundle.length }, bundle);
  pack.entry({ ...header, name: 'agents-egress-ca.pem', size: ca.length }, ca);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  await container.putArchive(Buffer.concat(chunks), { path: trustStoreDir });
}
