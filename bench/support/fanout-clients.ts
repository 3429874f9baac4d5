// P8's SSE clients, in a process of their own so their parsing never competes with the measured API in one event
// loop: `clients` streams on each session (no deltas), every frame timed on arrival. Delivery = arrival (wall clock)
// minus the event's `processed_at` (the workflow's clock when it journaled the event, so it includes the journal
// write, the NOTIFY, the API's re-read and the fan-out); spread = arrival minus the first arrival of the same event
// at any client of its session (the fan-out alone, one clock). Controlled over stdin, one word per line: `reset`
// (drops the samples so far), `report` (prints stats of the samples since the last reset as one JSON line), `exit`.
// Usage: node --import tsx bench/support/fanout-clients.ts <base url> <api key> <clients per session> <ids,comma>
import { createInterface } from 'node:readline';
import { stats } from './results.ts';
import { openSseStream } from './sse-client.ts';

const [baseURL = '', apiKey = '', perSessionArg = '10', idsArg = ''] = process.argv.slice(2);
const sessionIds = idsArg.split(',').filter(Boolean);
let delivery: number[] = [];
let spread: number[] = [];
let firstArrival = new Map<string, number>();
let frames = 0;
let failures = 0;
// A stream refused or cut counts as a failure (and is reported), never a crash of the clients.
process.on('unhandledRejection', () => failures++);

const streams = sessionIds.flatMap((sessionId) =>
  Array.from({ length: Number(perSessionArg) }, () =>
    openSseStream(`${baseURL}/v1/sessions/${sessionId}/events/stream`, { 'x-api-key': apiKey }, (frame) => {
      const arrived = Date.now();
      let event: { id?: string; processed_at?: string | null };
      try {
        event = JSON.parse(frame.data) as typeof event;
      } catch {
        return;
      }
      frames++;
      if (!event.processed_at || !event.id) return;
      delivery.push(arrived - Date.parse(event.processed_at));
      const first = firstArrival.get(event.id);
      if (first === undefined) firstArrival.set(event.id, arrived);
      else spread.push(arrived - first);
    }),
  ),
);
let opened = 0;
await Promise.all(
  streams.map(async (stream) => {
    try {
      await stream.opened;
      opened++;
    } catch {
      failures++;
    }
  }),
);
process.stdout.write(`${JSON.stringify({ opened, failures })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const word = line.trim();
  if (word === 'reset') {
    delivery = [];
    spread = [];
    firstArrival = new Map();
    frames = 0;
  } else if (word === 'report') {
    process.stdout.write(`${JSON.stringify({ frames, failures, delivery: stats(delivery), spread: stats(spread) })}\n`);
  } else if (word === 'exit') break;
}
await Promise.all(streams.map((stream) => stream.close()));
process.exit(0);
