// Worker versioning (README "Worker versioning"): sessions start on session workers of version v1 of a Worker
// Deployment; v2 — whose workflow code cannot replay v1 histories (a timer before the loop, no patched()) — is started,
// ramped and made current with the deploy command. The v1 sessions get more messages and finish their turns on v1
// (continue-as-new included), new sessions run on v2, v1 drains once its sessions end and is retired.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { platformFailureConverterPath } from '../../codec/data-converter.ts';
import { workflowBundlerOptions } from '../../workers/workflow-bundler.ts';
import { freePort, type ManagedProcess } from '../../scripts/services/process.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/services/temporal.ts';
import { projectRoot, readToolsEnv } from '../../scripts/services/tools-env.ts';
import { describeDeployment, type DeploymentState } from '../../scripts/services/worker-deployment.ts';
import { buildIdOfBundle } from '../../workers/worker-versioning.ts';
import { startTestPlatform, testDataConverter, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

const runDir = mkdtempSync(join(tmpdir(), 'agents-versioning-'));
const v2BundlePath = join(runDir, 'workflow-bundle-v2.js');
let temporal: TemporalDevServer;
let platform: TestPlatform;
let connection: Connection;
const processes: ManagedProcess[] = [];

beforeAll(async () => {
  // A server of its own: drainage is refreshed every second and a stopped worker's poller is forgotten after one
  // (the defaults are minutes), so the test sees v1 drain and can retire it.
  temporal = await startTemporalDevServer({
    bin: readToolsEnv().temporalBin,
    port: await freePort(),
    logFile: join(runDir, 'temporal.log'),
    dynamicConfig: {
      'matching.wv.VersionDrainageStatusRefreshInterval': '"1s"',
      'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '"1s"',
      'matching.PollerHistoryTTL': '"1s"',
    },
  });
  platform = await startTestPlatform({ label: 'versioning', workers: [], temporalAddress: temporal.address });
  connection = await Connection.connect({ address: temporal.address });
  // v2: the deliberately incompatible session workflow of the replay gate's own test.
  const v2 = await bundleWorkflowCode({
    workflowsPath: join(projectRoot, 'test', 'fixtures', 'nondeterministic', 'index.ts'),
    failureConverterPath: platformFailureConverterPath,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    ...workflowBundlerOptions,
  });
  writeFileSync(v2BundlePath, v2.code);
  processes.push(await start('model', {}));
}, 180_000);
afterAll(async () => {
  await Promise.all(processes.map((child) => child.stop('SIGKILL')));
  await connection?.close();
  await platform?.stop();
  await temporal?.process.stop();
  rmSync(runDir, { recursive: true, force: true });
});

const deploymentName = () => `${platform.prefix}-sessions`;
const start = (family: 'session' | 'model', env: Record<string, string>) =>
  startWorkerProcess(family, {
    prefix: platform.prefix,
    fakeModelUrl: platform.fakeModel.url,
    extraEnv: { TEMPORAL_ADDRESS: temporal.address, AGENTS_WORKER_DEPLOYMENT: deploymentName(), ...env },
  });

/** Runs the deploy command (npm run deploy:version) against this test's server; returns the deployment it prints. */
async function deploy(...args: string[]): Promise<DeploymentState> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(projectRoot, 'scripts', 'deploy-version.ts'), ...args],
    {
      cwd: projectRoot,
      env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, AGENTS_WORKER_DEPLOYMENT: deploymentName() },
    },
  );
  return JSON.parse(stdout.slice(stdout.lastIndexOf('\n{\n') + 1)) as DeploymentState;
}

const pinnedBuildId = async (session: WorkflowSession) => {
  const handle = platform.client.workflow.getHandle(session.handle.workflowId); // the latest run
  const { raw } = await handle.describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return { buildId: info?.deploymentVersion?.buildId, behavior: info?.behavior };
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

it('v1 sessions finish on v1 while new sessions run on an incompatible v2; v1 drains and is retired', async () => {
  const model = `${platform.prefix}-model`;
  platform.fakeModel.setScript(
    model,
    Array.from({ length: 12 }, (_, i) => ({ text: `answer ${i + 1}` })),
  );
  const agent = agentSnapshot({ model: { id: model } });
  // Every turn ends in a continue-as-new: the new run must stay on the session's version too.
  const settings = fastSettings(platform.prefix, { continueAsNewEveryTurns: 1 });

  // v1: the run's workflow bundle, build id derived from it.
  const v1BuildId = buildIdOfBundle(readFileSync(inject('workflowBundlePath'), 'utf8'));
  const v1Worker = await start('session', {});
  processes.push(v1Worker);
  expect((await deploy('--build-id', v1BuildId)).currentBuildId).toBe(v1BuildId);
  const old = [new WorkflowSession(platform, agent, settings), new WorkflowSession(platform, agent, settings)];
  for (const session of old) {
    await session.start();
    await session.message('first');
    await session.waitForTurnEnd(1);
  }

  // v2 cannot replay a v1 session: without pinning, v1 sessions would fail on it.
  const v2Bundle = { codePath: v2BundlePath };
  const { workflowId, firstExecutionRunId } = old[0]!.handle as WorkflowHandleWithFirstExecutionRunId;
  const v1History = await platform.client.workflow.getHandle(workflowId, firstExecutionRunId).fetchHistory(); // its first turn
  await expect(
    Worker.runReplayHistory({ workflowBundle: v2Bundle, dataConverter: testDataConverter(platform.pool) }, v1History),
  ).rejects.toBeInstanceOf(DeterminismViolationError);

  processes.push(await start('session', { AGENTS_WORKFLOW_BUNDLE_PATH: v2BundlePath, AGENTS_WORKER_BUILD_ID: 'v2' }));
  const ramped = await deploy('--build-id', 'v2', '--ramp', '25');
  expect(ramped).toMatchObject({ currentBuildId: v1BuildId, rampingBuildId: 'v2', rampPercentage: 25 });
  expect((await deploy('--build-id', 'v2')).currentBuildId).toBe('v2');

  // v1 sessions: more turns, on v1.
  for (const session of old) {
    await session.message('second');
    const events = await session.waitForTurnEnd(2);
    expect(events.filter((event) => event.type === 'agent.message')).toHaveLength(2);
    expect(await pinnedBuildId(session)).toEqual({ buildId: v1BuildId, behavior: 1 });
  }
  // New sessions: v2.
  const fresh = await new WorkflowSession(platform, agent, settings).start();
  await fresh.message('hello v2');
  await fresh.waitForTurnEnd(1);
  expect((await pinnedBuildId(fresh)).buildId).toBe('v2');

  // v1 drains when its sessions end; its workers stop; the deploy command retires it.
  const draining = await deploy('--status');
  expect(draining.versions.find((version) => version.buildId === v1BuildId)?.status).toBe('draining');
  for (const session of old) await session.terminate();
  await until('v1 drained', async () => {
    const state = await describeDeployment({ connection, namespace: 'default', deploymentName: deploymentName() });
    return state.versions.find((version) => version.buildId === v1BuildId)?.status === 'drained' ? true : undefined;
  });
  await v1Worker.stop('SIGTERM');
  const retired = await until('v1 retired', async () => {
    const state = await deploy('--retire');
    return state.versions.some((version) => version.buildId === v1BuildId) ? undefined : state;
  });
  expect(retired.versions.map((version) => version.buildId)).toEqual(['v2']);

  // v2 sessions go on without v1.
  await fresh.message('still there');
  await fresh.waitForTurnEnd(2);
  await fresh.terminate();
}, 300_000);
