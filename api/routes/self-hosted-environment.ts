// The environment behind a self-hosted route: it must exist in the caller's tenant and be `self_hosted`.
import { getEnvironment, type EnvironmentRecord } from '../../db/repositories/environments.ts';
import type pg from 'pg';
import { invalidRequest, notFound } from '../errors.ts';

export async function requireSelfHostedEnvironment(
  pool: pg.Pool,
  tenantId: string,
  environmentId: string,
): Promise<EnvironmentRecord> {
  const environment = await getEnvironment(pool, tenantId, environmentId);
  if (!environment) throw notFound('environment', environmentId);
  if (environment.config.type !== 'self_hosted') {
    throw invalidRequest(`environment ${environmentId} is not self_hosted: it has no work queue and no keys`);
  }
  return environment;
}
