// A webhook receiver of the test's own: a real HTTP server on loopback that verifies every delivery with the official
// SDK's `client.beta.webhooks.unwrap()` and the endpoint's signing secret, fails the first `failFirst` requests with a
// 503, and records what it accepted per `webhook-id`.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import type { BetaWebhookEvent } from '@anthropic-ai/sdk/resources/beta/webhooks';

export interface ReceivedDelivery {
  webhookId: string;
  event: BetaWebhookEvent;
}

export interface WebhookReceiver {
  url: string;
  /** Set once the endpoint exists (its secret is known only then). */
  secret: string;
  failFirst: number;
  /** When set, requests are held open (never answered) — a delivery in flight. */
  hold: boolean;
  requests: number;
  /** Requests whose signature did not verify. */
  unverified: number;
  /** Accepted (2xx) deliveries, in arrival order; a repeated webhook-id is kept (the test counts them). */
  accepted: ReceivedDelivery[];
  /** webhook-ids seen on refused attempts. */
  refusedIds: string[];
  close(): Promise<void>;
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

export async function startWebhookReceiver(failFirst = 0): Promise<WebhookReceiver> {
  const sdk = new Anthropic({ apiKey: 'unused' });
  const receiver: WebhookReceiver = {
    url: '',
    secret: '',
    failFirst,
    hold: false,
    requests: 0,
    unverified: 0,
    accepted: [],
    refusedIds: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((request, response) => {
    void readBody(request).then((body) => {
      receiver.requests += 1;
      if (receiver.hold) return; // never answered: the attempt times out (or its worker dies)
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(',') : (value ?? ''),
        ]),
      );
      let event: BetaWebhookEvent;
      try {
        event = sdk.beta.webhooks.unwrap(body, { headers, key: receiver.secret });
      } catch {
        receiver.unverified += 1;
        response.writeHead(400).end();
        return;
      }
      const webhookId = headers['webhook-id'] ?? '';
      if (receiver.requests <= receiver.failFirst) {
        receiver.refusedIds.push(webhookId);
        response.writeHead(503).end('try later');
        return;
      }
      receiver.accepted.push({ webhookId, event });
      response.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
