// Reads .tools/env, which scripts/setup.sh writes: where the Temporal CLI, PostgreSQL binaries and sandbox image are.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ToolsEnv {
  temporalBin: string;
  pgBinDir: string | undefined;
  sandboxImage: string;
}

export const projectRoot = join(import.meta.dirname, '..', '..');

export function readToolsEnv(): ToolsEnv {
  const file = join(projectRoot, '.tools', 'env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: run \`npm run setup\` (or \`npm test\` / \`npm run up\`, which run it first)`);
  }
  const values = Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('=') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return {
    temporalBin: values.TEMPORAL_BIN || 'temporal',
    pgBinDir: values.PG_BIN_DIR || undefined,
    sandboxImage: values.SANDBOX_IMAGE || 'agents-sandbox:latest',
  };
}

/** Where scripts/setup/temporal-server.sh put temporal-server, temporal-sql-tool and the schema (.tools/cluster-env). */
export function readClusterServerDir(): string {
  const file = join(projectRoot, '.tools', 'cluster-env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: run \`bash scripts/setup/temporal-server.sh\` (npm run test:cluster does)`);
  }
  const line = text.split('\n').find((entry) => entry.startsWith('TEMPORAL_SERVER_DIR='));
  if (!line) throw new Error(`${file} names no TEMPORAL_SERVER_DIR`);
  return line.slice('TEMPORAL_SERVER_DIR='.length);
}
