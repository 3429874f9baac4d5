// The run workflow's one activity: a deployment's firing, done by the shared runner (api/deployment-runner.ts) that
// the worker injects — the same code that serves the run endpoint, so a scheduled session is made like any other.
import type { DeploymentRunOutcome, DeploymentRunRequest } from '../../domain/deployments.ts';

export interface DeploymentActivityDeps {
  /** Runs the firing; undefined when the deployment no longer exists. */
  runDeployment(request: DeploymentRunRequest): Promise<DeploymentRunOutcome | undefined>;
}

export function createDeploymentActivities(deps: DeploymentActivityDeps) {
  return {
    /** Records the run and creates its session; a run error is a result, only outages throw (and are retried). */
    async executeDeploymentRun(request: DeploymentRunRequest): Promise<DeploymentRunOutcome | null> {
      return (await deps.runDeployment(request)) ?? null;
    },
  };
}
