// Rolls out a session-worker version (README "Worker versioning"). Start the new version's session workers first
// (AGENTS_WORKER_DEPLOYMENT set, AGENTS_WORKER_BUILD_ID or the bundle hash as build id), then:
//   npm run deploy:version -- --build-id <id>             make it current: new sessions start on it
//   npm run deploy:version -- --build-id <id> --ramp 10   send 10 % of new sessions to it, the rest stay on current
//   npm run deploy:version -- --status                    routing and every version's drainage
//   npm run deploy:version -- --retire                    delete drained versions (stop their workers first)
// Reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and AGENTS_WORKER_DEPLOYMENT (or --deployment) like the workers do.
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../domain/config.ts';
import {
  describeDeployment,
  retireDrainedVersions,
  setCurrentVersion,
  setRampingVersion,
  waitForVersion,
  type DeploymentTarget,
} from './services/worker-deployment.ts';

const { values } = parseArgs({
  options: {
    'build-id': { type: 'string' },
    deployment: { type: 'string' },
    ramp: { type: 'string' },
    status: { type: 'boolean', default: false },
    retire: { type: 'boolean', default: false },
  },
});
const config = loadConfig(process.env);
const deploymentName = values.deployment ?? config.AGENTS_WORKER_DEPLOYMENT;
if (!deploymentName) throw new Error('no deployment: set AGENTS_WORKER_DEPLOYMENT or pass --deployment');
const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
const target: DeploymentTarget = { connection, namespace: config.TEMPORAL_NAMESPACE, deploymentName };
try {
  const buildId = values['build-id'];
  if (buildId) {
    await waitForVersion(target, buildId);
    if (values.ramp !== undefined) await setRampingVersion(target, buildId, Number(values.ramp));
    else await setCurrentVersion(target, buildId);
  }
  if (values.retire) console.log(JSON.stringify({ retired: await retireDrainedVersions(target) }));
  console.log(JSON.stringify(await describeDeployment(target), null, 2));
} finally {
  await connection.close();
}
