// The environment behind a self-hosted route: it must exist in the caller's tenant and be `self_hosted`.
import type pg from 'pg';
import type { EnvironmentRecord } from '../../db/repositories/environments.ts';
import { invalidRequest } from '../errors.ts';
import { environments } from '../resources.ts';

export async function requireSelfHostedEnvironment(
  pool: pg.Pool,
  tenantId: string,
  environmentId: string,
): Promise<EnvironmentRecord> {
  const environment = await environments.require(pool, tenantId, { environment_id: environmentId });
  if (environment.config.type !== 'self_hosted') {
    throw invalidRequest(`environment ${environmentId} is not self_hosted: it has no work queue and no keys`);
  }
  return environment;
}
