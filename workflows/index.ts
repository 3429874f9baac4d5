// The workflow bundle's entry: every workflow type a session worker registers.
export { sessionWorkflow } from './session-workflow.ts';
export { deploymentRunWorkflow } from './deployment-run-workflow.ts';
export { webhookDeliveryWorkflow } from './webhook-delivery-workflow.ts';
export { dreamWorkflow } from './dream-workflow.ts';
