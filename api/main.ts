// The API process: reads configuration once, connects to PostgreSQL and Temporal (with the platform's payload codec),
// listens on API_HOST:API_PORT, and shuts down cleanly on SIGTERM/SIGINT.
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../db/pool.ts';
import { loadConfig } from '../domain/config.ts';
import { createPlatformDataConverter } from '../codec/data-converter.ts';
import { startPlatformCodecServer } from './codec-endpoint.ts';
import { createApiLogger } from './logger.ts';
import { createApi } from './server.ts';

// eslint-disable-next-line no-restricted-syntax -- the process entry point reads its environment once
const config = loadConfig(process.env);
const logger = createApiLogger(config);
const pool = createPool({ url: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE, log: logger });
// Connection.lazy: the API starts (and answers 503) even while Temporal is still coming up.
const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
const temporalClient = new Client({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  dataConverter: createPlatformDataConverter(config, pool),
});
const app = await createApi({ config, pool, temporalClient, logger });
await app.listen({ host: config.API_HOST, port: config.API_PORT });
const codecServer = await startPlatformCodecServer(config, pool, logger);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  void (async () => {
    await app.close();
    await codecServer?.close();
    await connection.close();
    await pool.end();
    process.exit(0);
  })();
};
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
