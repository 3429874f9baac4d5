// The official SDK's self-hosted environment runner, unmodified, as a process of the test's:
// `client.beta.environments.work.worker({ environmentId, environmentKey, workdir }).run()` against the API under test.
// SIGTERM aborts it (the runner force-stops the item it holds); SIGKILL of its process group is a crash.
import Anthropic from '@anthropic-ai/sdk';

const { RUNNER_BASE_URL, RUNNER_ENVIRONMENT_ID, RUNNER_ENVIRONMENT_KEY, RUNNER_WORKDIR } = process.env;
if (!RUNNER_BASE_URL || !RUNNER_ENVIRONMENT_ID || !RUNNER_ENVIRONMENT_KEY || !RUNNER_WORKDIR) {
  throw new Error('RUNNER_BASE_URL, RUNNER_ENVIRONMENT_ID, RUNNER_ENVIRONMENT_KEY and RUNNER_WORKDIR are required');
}
// The runner never sends this key: it scopes every call to the environment key or the item's sessions token.
const client = new Anthropic({ baseURL: RUNNER_BASE_URL, apiKey: 'unused-by-the-runner', logLevel: 'info' });
const controller = new AbortController();
process.on('SIGTERM', () => controller.abort());
console.log('runner started');
await client.beta.environments.work
  .worker({ environmentId: RUNNER_ENVIRONMENT_ID, environmentKey: RUNNER_ENVIRONMENT_KEY, workdir: RUNNER_WORKDIR })
  .run(controller.signal)
  .catch((error: unknown) => {
    if (!controller.signal.aborted) throw error;
  });
console.log('runner stopped');
