// A tenant flooding the API from its own process (so its clients' CPU is not the measured process's): N loops POST
// the same request as fast as answers come back while switched on. Controlled over stdin, one word per line:
// `on`, `off`, `report` (prints the counts as one JSON line), `exit`.
// Usage: node --import tsx test/support/flooder-process.ts <url> <api key> <json body> <loops>
import { createInterface } from 'node:readline';

const [url = '', apiKey = '', body = '{}', loopsArg = '8'] = process.argv.slice(2);
const counts = { ok: 0, limited: 0, other: 0, limitedWithoutRetryAfter: 0, wrongShape: 0 };
let flooding = false;
let exiting = false;

async function loop(): Promise<void> {
  while (!exiting) {
    if (!flooding) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
        body,
      });
      if (response.status === 200) counts.ok++;
      else if (response.status === 429) {
        counts.limited++;
        if (!(Number(response.headers.get('retry-after')) >= 1)) counts.limitedWithoutRetryAfter++;
        const answer = (await response.json()) as { type?: string; error?: { type?: string } };
        if (answer.type !== 'error' || answer.error?.type !== 'rate_limit_error') counts.wrongShape++;
      } else counts.other++;
      if (!response.bodyUsed) await response.body?.cancel();
    } catch {
      counts.other++;
    }
    // Let the control channel in between requests (a refused connection fails without touching the event loop's I/O).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const loops = Array.from({ length: Number(loopsArg) }, () => loop());
for await (const line of createInterface({ input: process.stdin })) {
  const word = line.trim();
  if (word === 'on') flooding = true;
  else if (word === 'off') flooding = false;
  else if (word === 'report') process.stdout.write(`${JSON.stringify(counts)}\n`);
  else if (word === 'exit') break;
}
exiting = true;
await Promise.all(loops);
process.exit(0); // stdin (the parent's pipe) would keep the process alive
