// Placing a new session in a region (README "Regions"): the client's `metadata.region` if it names a known region,
// else the API's own region (AGENTS_REGION), else the first configured one. Without regions configured, sessions use
// the shared queues and `metadata.region` is plain metadata.
import type { PlatformConfig } from '../domain/config.ts';
import { regionMetadataKey } from '../domain/regions.ts';
import { invalidRequest } from './errors.ts';

export function sessionRegion(
  config: Pick<PlatformConfig, 'AGENTS_REGION' | 'AGENTS_REGIONS'>,
  metadata: Record<string, string> | undefined,
  runsOnOperatorQueue: boolean,
): string | undefined {
  const known = [...new Set([...(config.AGENTS_REGION ? [config.AGENTS_REGION] : []), ...config.AGENTS_REGIONS])];
  // A code-defined agent's session runs on its operator's own queue, outside any region.
  if (known.length === 0 || runsOnOperatorQueue) return undefined;
  const asked = metadata?.[regionMetadataKey];
  if (asked === undefined) return config.AGENTS_REGION ?? known[0];
  if (!known.includes(asked)) {
    throw invalidRequest(
      `metadata.${regionMetadataKey}: unknown region ${JSON.stringify(asked)}; known: ${known.join(', ')}`,
    );
  }
  return asked;
}
