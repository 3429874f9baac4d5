// The P5 baseline: a plain Temporal workflow with two activities, nothing of the platform in it.
import { proxyActivities } from '@temporalio/workflow';
import type { createPlainActivities } from './plain-activities.ts';

const { firstStep, secondStep } = proxyActivities<ReturnType<typeof createPlainActivities>>({
  startToCloseTimeout: '30 seconds',
});

export async function plainTwoActivityWorkflow(input: string): Promise<string> {
  const first = await firstStep(input);
  return secondStep(first);
}
