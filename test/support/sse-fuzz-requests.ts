// Requests for fuzzing the SSE stream (test/fuzz/sse.test.ts): each part (who asks, which session, method, cursors,
// deltas, unknown parameters, Accept) is drawn at random, valid or malformed, and says whether the server must accept
// it ('ok'), must refuse it with a 4xx ('reject'), or may do either ('either').
import type { Random } from './sse-fuzz-clients.ts';

export interface FuzzContext {
  sessions: { main: string; archived: string; deleted: string; others: string };
  ownKey: string;
  otherKey: string;
  /** The main session's last seq: valid cursors are drawn around it. */
  lastSeq: number;
}

type Verdict = 'ok' | 'reject' | 'either';
export interface Generated {
  method: string;
  target: Buffer;
  headers: [string, Buffer][];
  verdicts: Record<string, Verdict>;
  label: string;
}

export const seqPattern = /^\d{1,15}$/;
const bytes = (text: string) => Buffer.from(text, 'utf8');

/** A cursor value: [text, is it a valid seq]. */
function cursorText(random: Random, last: number): string {
  if (random.chance(0.4)) return String(random.int(0, last + 3));
  return random.pick([
    () => String(random.int(0, last + 3)),
    () => String(random.int(0, last + 3)),
    () => `-${random.int(0, 50)}`,
    () => '9223372036854775807',
    () => '9223372036854775808',
    () => '99999999999999999999999999',
    () => '1'.repeat(random.int(16, 40)),
    () => '999999999999999',
    () => `${random.int(0, 9)}.${random.int(0, 9)}`,
    () => '1e3',
    () => '0x1f',
    () => '+5',
    () => ' 7',
    () => '8 ',
    () => 'NaN',
    () => 'Infinity',
    () => 'abc',
    () => '',
    () => '٣', // an Arabic-Indic digit: a digit to Unicode, not a seq
    () => '５',
    () => '🦊',
    () => `1\u00002`,
    () => '\u0000',
    () => 'x'.repeat(random.int(1_000, 6_000)),
    () => '7'.repeat(random.int(1_000, 3_000)),
  ])();
}

const encodeQuery = (value: string) => encodeURIComponent(value);

/** One request to the stream endpoint, with the verdict each of its parts calls for. */
export function generateRequest(random: Random, context: FuzzContext): Generated {
  const { sessions } = context;
  const cursor = () => cursorText(random, context.lastSeq);
  const verdicts: Record<string, Verdict> = {};
  const headers: [string, Buffer][] = [];
  const query: string[] = [];
  const labels: string[] = [];

  // Who asks, and for which session.
  const target = random.pick([
    'main',
    'main',
    'main',
    'main',
    'main',
    'main',
    'archived',
    'deleted',
    'others',
    'unknown',
    'malformed',
    'too-long',
    'bad-escape',
    'nul',
    'unicode',
    'empty',
    'uppercase',
  ] as const);
  const key = random.pick(['own', 'own', 'own', 'own', 'own', 'own', 'other', 'none', 'wrong'] as const);
  labels.push(`${target} as ${key}`);
  const owner = target === 'others' ? 'other' : 'own';
  let id: string;
  if (target === 'main' || target === 'archived' || target === 'deleted' || target === 'others') id = sessions[target];
  else if (target === 'unknown') id = `sesn_${random.int(0, 1e9).toString(36)}`;
  else if (target === 'malformed') id = encodeURIComponent(random.pick(["'; drop table sessions;--", '"', '<>', '..']));
  else if (target === 'too-long') id = `sesn_${'a'.repeat(random.int(100, 400))}`;
  else if (target === 'bad-escape') id = `sesn_%ZZ${random.int(0, 9)}`;
  else if (target === 'nul') id = `sesn_%00${random.int(0, 9)}`;
  else if (target === 'unicode') id = `sesn_ü${random.pick(['🦊', 'é', '中'])}`;
  else if (target === 'empty') id = '';
  else id = sessions.main.toUpperCase();
  const sessionOk = (target === 'main' || target === 'archived' || target === 'others') && key === owner;
  verdicts.session = sessionOk ? 'ok' : 'reject';
  if (key === 'own') headers.push(['x-api-key', bytes(context.ownKey)]);
  else if (key === 'other') headers.push(['x-api-key', bytes(context.otherKey)]);
  else if (key === 'wrong') headers.push(['x-api-key', bytes(`sk-agents-${random.int(0, 1e9)}`)]);

  const method = random.chance(0.85) ? 'GET' : random.pick(['HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
  verdicts.method = method === 'GET' || method === 'HEAD' ? 'ok' : 'reject';
  if (method !== 'GET') labels.push(method);

  if (random.chance(0.4)) {
    const values = random.chance(0.15) ? [cursor(), cursor()] : [cursor()];
    for (const value of values) headers.push(['last-event-id', bytes(value)]);
    // Node trims the header's surrounding blanks, treats an empty one as absent and joins repeated ones with ", ".
    const seen = values.join(', ').replace(/^[ \t]+|[ \t]+$/g, '');
    verdicts.lastEventId =
      values.some((value) => value.includes('\u0000')) || seen.length > 8_000
        ? 'reject'
        : seen === '' || seqPattern.test(seen)
          ? 'ok'
          : 'reject';
    labels.push(`last-event-id=${JSON.stringify(seen.slice(0, 30))}`);
  }
  if (random.chance(0.4)) {
    const value = cursor();
    query.push(`after=${encodeQuery(value)}`);
    if (random.chance(0.1)) query.push(`after=${random.int(0, 5)}`);
    verdicts.after =
      query.filter((part) => part.startsWith('after=')).length === 1 && seqPattern.test(value) ? 'ok' : 'reject';
    labels.push(`after=${JSON.stringify(value.slice(0, 30))}`);
  }
  if (random.chance(0.3)) {
    const name = random.pick(['event_deltas[]', 'event_deltas%5B%5D', 'event_deltas']);
    const shape = random.pick(['valid', 'valid', 'duplicate', 'unknown', 'empty', 'long', 'huge'] as const);
    const valid = ['agent.message', 'agent.thinking'];
    const items =
      shape === 'valid'
        ? [random.pick(valid)]
        : shape === 'duplicate'
          ? Array.from({ length: random.int(2, 6) }, () => random.pick(valid))
          : shape === 'unknown'
            ? [random.pick(valid), random.pick(['agent.tool_use', 'nope', 'AGENT.MESSAGE', '🦊', 'x'.repeat(300)])]
            : shape === 'empty'
              ? ['']
              : Array.from({ length: shape === 'long' ? 200 : 3_000 }, () => random.pick(valid));
    for (const item of items) query.push(`${name}=${encodeQuery(item)}`);
    verdicts.deltas = shape === 'valid' || shape === 'duplicate' || shape === 'long' ? 'ok' : 'reject';
    labels.push(`deltas ${shape}`);
  }
  if (random.chance(0.25)) {
    const name = random.pick(['foo', '__proto__', 'constructor', 'limit', 'page', 'after[]', 'types[]', '🦊', '']);
    query.push(`${encodeQuery(name)}=${encodeQuery(cursor().slice(0, 200))}`);
    labels.push(`unknown param ${JSON.stringify(name)}`);
  }
  if (random.chance(0.3)) {
    const accept = random.pick(['text/event-stream', 'application/json', '*/*', 'text/html', 'image/png;q=0.1', 'ü']);
    headers.push(['accept', bytes(accept)]);
    labels.push(`accept ${accept}`);
  }
  let path = `/v1/sessions/${id}/events/stream`;
  if (query.length > 0) path += `?${query.join('&')}`;
  if (path.length > 14_000) verdicts.size = 'reject';
  return { method, target: bytes(path), headers, verdicts, label: labels.join(', ') };
}
