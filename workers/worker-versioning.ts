// Worker versioning of the session workers (README "Worker versioning"): a session worker is one version (build id) of
// a Worker Deployment, and the sessions it starts stay pinned to it; the deploy command (scripts/deploy-version.ts)
// makes a version current, ramps it, and retires drained ones.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { platformFailureConverterPath } from '../codec/data-converter.ts';
import type { PlatformConfig } from '../domain/config.ts';
import { workflowBundlerOptions } from './workflow-bundler.ts';

/** A session worker's identity in its Worker Deployment. */
export interface SessionWorkerVersion {
  deploymentName: string;
  buildId: string;
}

/** The build id of a workflow bundle: the first 16 hex digits of its code's SHA-256. */
export function buildIdOfBundle(code: string): string {
  return `wf-${createHash('sha256').update(code).digest('hex').slice(0, 16)}`;
}

/** The workflow bundle's code: the prebuilt file, or the workflows bundled now (as `Worker.create` would). */
export async function loadWorkflowBundleCode(bundlePath: string | undefined, workflowsPath: string): Promise<string> {
  if (bundlePath) return readFile(bundlePath, 'utf8');
  const bundle = await bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: platformFailureConverterPath,
    ...workflowBundlerOptions,
  });
  return bundle.code;
}

/**
 * The version a session worker of this configuration runs as, and the bundle it must then load (the one the build id
 * was derived from); no versioning when AGENTS_WORKER_DEPLOYMENT is unset.
 */
export async function sessionWorkerVersionFromConfig(
  config: PlatformConfig,
  workflowsPath: string,
): Promise<{ version: SessionWorkerVersion; workflowBundle: { code: string } } | undefined> {
  if (!config.AGENTS_WORKER_DEPLOYMENT) return undefined;
  const code = await loadWorkflowBundleCode(config.AGENTS_WORKFLOW_BUNDLE_PATH, workflowsPath);
  return {
    version: {
      deploymentName: config.AGENTS_WORKER_DEPLOYMENT,
      buildId: config.AGENTS_WORKER_BUILD_ID ?? buildIdOfBundle(code),
    },
    workflowBundle: { code },
  };
}

/**
 * The worker options of a versioned session worker: every session it starts is PINNED to its version for the whole
 * session, continue-as-new included (the new run inherits the pinned version); a newer version gets only new sessions.
 */
export function versionedWorkerOptions(version: SessionWorkerVersion): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  return {
    workerDeploymentOptions: { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' },
  };
}
