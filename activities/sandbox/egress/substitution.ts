// Placeholder ⇄ secret substitution for `environment_variable` credentials: into outbound headers and bodies (per the
// credential's injection_location) on the way out, and back to the placeholder in what comes back, so the secret never
// enters the sandbox even when an upstream echoes it. Byte-exact: bodies are handled as latin1 strings, where every
// byte is one character.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** One credential as the proxy holds it: the only place outside the vault where the secret is in memory. */
export interface Substitution {
  credentialId: string;
  vaultId: string;
  /** The environment variable the sandbox sees the placeholder in. */
  secretName: string;
  placeholder: string;
  secret: string;
  /** The credential's `networking.allowed_hosts`; undefined for `unrestricted` (any host the environment allows). */
  hosts: string[] | undefined;
  header: boolean;
  body: boolean;
}

const asLatin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

function replaceAll(text: string, from: string, to: string): string {
  return from === '' ? text : text.split(from).join(to);
}

/** Headers with placeholders replaced by secrets, for the credentials that allow header injection; and which did. */
export function substituteHeaders(
  headers: IncomingHttpHeaders,
  substitutions: Substitution[],
): { headers: OutgoingHttpHeaders; used: Set<string> } {
  const used = new Set<string>();
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const replace = (text: string) => {
      let out = text;
      for (const substitution of substitutions) {
        if (!substitution.header || !out.includes(substitution.placeholder)) continue;
        out = replaceAll(out, substitution.placeholder, substitution.secret);
        used.add(substitution.credentialId);
      }
      return out;
    };
    result[name] = Array.isArray(value) ? value.map(replace) : replace(value);
  }
  return { headers: result, used };
}

/** The body with placeholders replaced by secrets, for the credentials that allow body injection. */
export function substituteBody(body: Buffer, substitutions: Substitution[], used: Set<string>): Buffer {
  let text = body.toString('latin1');
  let changed = false;
  for (const substitution of substitutions) {
    const placeholder = asLatin1(substitution.placeholder);
    if (!substitution.body || !text.includes(placeholder)) continue;
    text = replaceAll(text, placeholder, asLatin1(substitution.secret));
    used.add(substitution.credentialId);
    changed = true;
  }
  return changed ? Buffer.from(text, 'latin1') : body;
}

/** Secrets turned back into their placeholders (responses going into the sandbox). */
export function restorePlaceholders(data: Buffer, substitutions: Substitution[]): Buffer {
  let text = data.toString('latin1');
  let changed = false;
  for (const substitution of substitutions) {
    const secret = asLatin1(substitution.secret);
    if (!text.includes(secret)) continue;
    text = replaceAll(text, secret, asLatin1(substitution.placeholder));
    changed = true;
  }
  return changed ? Buffer.from(text, 'latin1') : data;
}

export function restorePlaceholdersInText(text: string, substitutions: Substitution[]): string {
  return substitutions.reduce(
    (out, substitution) => replaceAll(out, substitution.secret, substitution.placeholder),
    text,
  );
}

/** Tool output with any secret replaced by a marker: a backstop for secrets that reach the sandbox some other way. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = replaceAll(out, secret, '[redacted]');
  }
  return out;
}
