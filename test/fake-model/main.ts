// Runs the fake model server as its own process (the no-API-key dev stack): `tsx test/fake-model/main.ts --port 8090`.
import { startFakeModelServer } from './server.ts';

function portFromArguments(argv: string[]): number {
  const index = argv.indexOf('--port');
  if (index === -1) return 8090;
  const port = Number(argv[index + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port expects a port number, got ${argv[index + 1]}`);
  return port;
}

function hostFromArguments(argv: string[]): string {
  const index = argv.indexOf('--host');
  return index === -1 ? '127.0.0.1' : (argv[index + 1] ?? '127.0.0.1');
}

const server = await startFakeModelServer({
  port: portFromArguments(process.argv),
  host: hostFromArguments(process.argv),
});
console.log(`fake model server listening on ${server.url}`);

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  console.log(`fake model server stopping (${signal})`);
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('fake model server did not close cleanly', error);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
