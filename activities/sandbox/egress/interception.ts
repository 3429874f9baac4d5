// The substituting hop: a request from the sandbox to a host some credential applies to is read whole, its
// placeholders replaced by secrets (headers and/or body, per credential), sent upstream over a connection the address
// guard checked, and the upstream's answer sent back with any secret turned back into its placeholder. Used for
// plain-HTTP requests and, behind TLS interception, for HTTPS ones.
import type { LookupFunction } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { restorePlaceholders, substituteBody, substituteHeaders, type Substitution } from './substitution.ts';

/** Requests and responses larger than this are refused (413 / 502): substitution needs the whole body. */
export const maxSubstitutedBodyBytes = 16 * 1024 * 1024;

export interface UpstreamTarget {
  protocol: 'http:' | 'https:';
  host: string;
  port: number;
  /** Path and query, as the client sent them. */
  path: string;
}

export interface UpstreamOptions {
  lookup: LookupFunction;
  /** Extra CA certificates trusted for upstream TLS (besides Node's roots). */
  upstreamCaCertificates?: Buffer;
}

export interface SubstitutedResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Credentials whose secret went into the request. */
  used: Set<string>;
}

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export async function readBody(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buffer.length;
    if (size > limit) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Sends the request upstream with secrets substituted; the response comes back whole, secrets masked. */
export async function forwardWithSubstitution(
  request: http.IncomingMessage,
  target: UpstreamTarget,
  substitutions: Substitution[],
  options: UpstreamOptions,
): Promise<SubstitutedResponse> {
  const body = await readBody(request, maxSubstitutedBodyBytes);
  if (body === undefined) {
    return { statusCode: 413, headers: {}, body: Buffer.from('egress proxy: request body too large'), used: new Set() };
  }
  const cleaned = Object.fromEntries(
    Object.entries(request.headers).filter(([name]) => !hopByHop.has(name.toLowerCase())),
  );
  const { headers, used } = substituteHeaders(cleaned, substitutions);
  const outgoingBody = substituteBody(body, substitutions, used);
  headers['content-length'] = String(outgoingBody.length);
  // The answer is searched for secrets, so it must come back readable.
  headers['accept-encoding'] = 'identity';
  headers.host = request.headers.host ?? target.host;
  const response = await sendUpstream(target, request.method ?? 'GET', headers, outgoingBody, options);
  const responseBody = await readBody(response, maxSubstitutedBodyBytes);
  if (responseBody === undefined) {
    return { statusCode: 502, headers: {}, body: Buffer.from('egress proxy: response too large'), used };
  }
  const responseHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined || hopByHop.has(name) || name === 'content-length') continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    responseHeaders[name] = restorePlaceholders(Buffer.from(text, 'latin1'), substitutions).toString('latin1');
  }
  return {
    statusCode: response.statusCode ?? 502,
    headers: responseHeaders,
    body: restorePlaceholders(responseBody, substitutions),
    used,
  };
}

function sendUpstream(
  target: UpstreamTarget,
  method: string,
  headers: http.OutgoingHttpHeaders,
  body: Buffer,
  options: UpstreamOptions,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const common = { host: target.host, port: target.port, path: target.path, method, headers, lookup: options.lookup };
    const request =
      target.protocol === 'https:'
        ? https.request({
            ...common,
            agent: false,
            servername: isIP(target.host) ? undefined : target.host,
            ca: options.upstreamCaCertificates
              ? [...tls.rootCertificates, options.upstreamCaCertificates.toString('utf8')]
              : undefined,
          })
        : http.request({ ...common, agent: false });
    request.once('response', resolve);
    request.once('error', reject);
    request.end(body);
  });
}

/** Writes a substituted response to the sandbox's side. */
export function writeSubstitutedResponse(response: http.ServerResponse, result: SubstitutedResponse): void {
  response.writeHead(result.statusCode, { ...result.headers, 'content-length': String(result.body.length) });
  response.end(result.body);
}
