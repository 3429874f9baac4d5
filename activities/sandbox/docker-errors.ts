// Reading dockerode errors: the HTTP status, and the daemon's own message, which tells "no such container" apart from
// "no such file" (both are 404s; dockerode's Error.message prefixes a generic reason chosen by status alone).

export const statusOf = (error: unknown): number | undefined => (error as { statusCode?: number }).statusCode;

export function daemonMessageOf(error: unknown): string {
  const json = (error as { json?: unknown }).json;
  if (json && typeof json === 'object' && 'message' in json) return String(json.message);
  if (Buffer.isBuffer(json) || typeof json === 'string') return json.toString();
  // Streamed answers carry the daemon's message only in Error.message, after dockerode's "(HTTP code N) reason - ".
  const message = String((error as { message?: string }).message ?? '');
  const separator = message.indexOf(' - ');
  return message.startsWith('(HTTP code') && separator !== -1 ? message.slice(separator + 3) : message;
}
