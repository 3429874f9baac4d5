// Registers the Temporal namespace the platform uses and its search attributes, then waits until it takes workflows
// (the compose deployment's temporal-setup job; idempotent). Usage: TEMPORAL_ADDRESS=… npx tsx scripts/register-namespace.ts
import { loadConfig } from '../domain/config.ts';
import { prepareNamespace } from './services/temporal-namespace.ts';

const config = loadConfig(process.env);
await prepareNamespace(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
console.log(`namespace ${config.TEMPORAL_NAMESPACE} ready on ${config.TEMPORAL_ADDRESS}`);
