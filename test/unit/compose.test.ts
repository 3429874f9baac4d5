// docker-compose.yml, checked without running it (test/deploy/compose-e2e.test.ts runs it): the compose tool accepts
// it, every service the platform needs is there, every platform command exists, and its Temporal services run the
// cluster profile's server configuration.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeConfigDir, composeTemporalConfig } from '../../scripts/images/temporal-config.ts';
import { temporalServerConfig } from '../../scripts/services/temporal-server-config.ts';
import { projectRoot } from '../../scripts/services/tools-env.ts';
import { workerLaunch, workerNodeArgs, type WorkerFamily } from '../../workers/process-launch.ts';

const secrets = {
  POSTGRES_PASSWORD: 'compose-test',
  AGENTS_PAYLOAD_KEYS: 'k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  AGENTS_VAULT_KEY: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
};

function composeCommand(): string[] | undefined {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(candidate[0]!, [...candidate.slice(1), 'version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function renderedConfig(env: Record<string, string>): string {
  const command = composeCommand();
  if (!command)
    throw new Error('neither `docker compose` nor `docker-compose` is installed (npm run setup installs one)');
  return execFileSync(command[0]!, [...command.slice(1), '-f', join(projectRoot, 'docker-compose.yml'), 'config'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('docker-compose.yml', () => {
  it('is valid and runs every platform service from a command that exists', () => {
    const config = parse(renderedConfig(secrets)) as {
      services: Record<string, { command?: string[] | string; image?: string; environment?: Record<string, string> }>;
    };
    const services = Object.keys(config.services);
    expect(services).toEqual(
      expect.arrayContaining([
        'postgres',
        'temporal-schema',
        'temporal',
        'temporal-history-1',
        'temporal-history-2',
        'temporal-matching',
        'temporal-worker',
        'temporal-setup',
        'migrate',
        'api',
        'session-worker',
        'model-worker',
        'sandbox-worker',
        'mcp-worker',
      ]),
    );
    for (const [name, service] of Object.entries(config.services)) {
      if (service.image !== 'temporal-agents:latest') continue;
      const command = Array.isArray(service.command) ? service.command : [];
      const script = command.find((part) => part.endsWith('.ts'));
      expect(script, `${name} runs a project script`).toBeDefined();
      expect(existsSync(join(projectRoot, script!)), `${name}: ${script} exists`).toBe(true);
    }
    expect(config.services.temporal?.environment?.POSTGRES_ADDRESS).toBe('postgres:5432');
    expect(config.services['api']?.environment?.DATABASE_URL).toContain('@postgres:5432/');
  });

  it('starts every worker family with its launch settings (workers/process-launch.ts), as package.json does', () => {
    const config = parse(renderedConfig(secrets)) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
    };
    const scripts = (
      JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const [family, launch] of Object.entries(workerLaunch)) {
      const service = config.services[`${family}-worker`];
      expect(service?.command?.slice(0, -3), `${family}-worker's node flags`).toEqual(['node', ...launch.nodeFlags]);
      expect(service?.environment, `${family}-worker's environment`).toMatchObject(launch.env);
      const script = scripts[`worker:${family}`] ?? '';
      const expected = [
        ...Object.entries(launch.env).map(([name, value]) => `${name}=${value}`),
        'node',
        ...workerNodeArgs(family as WorkerFamily, `workers/${family}-worker.ts`),
      ].join(' ');
      expect(script, `npm run worker:${family}`).toBe(expected);
    }
  });

  it("runs Temporal with the cluster profile's server configuration", () => {
    // Template expressions (filled in when a container starts) become markers naming their variable.
    const rendered = composeTemporalConfig().replace(/\{\{ env "([A-Z_]+)"[^}]*\}\}/g, (_m, name: string) =>
      JSON.stringify(`env:${name}`),
    );
    expect(rendered.startsWith('# enable-template\n')).toBe(true);
    expect(parse(rendered)).toEqual(
      temporalServerConfig({
        postgres: { address: 'env:POSTGRES_ADDRESS', user: 'env:POSTGRES_USER', password: 'env:POSTGRES_PASSWORD' },
        services: {
          frontend: { grpcPort: 7233, membershipPort: 6933, httpPort: 7243 },
          history: { grpcPort: 7234, membershipPort: 6934 },
          matching: { grpcPort: 7235, membershipPort: 6935 },
          worker: { grpcPort: 7239, membershipPort: 6939 },
        },
        bindOnIP: '0.0.0.0',
        broadcastAddress: 'env:TEMPORAL_BROADCAST_ADDRESS',
        frontendAddress: 'env:TEMPORAL_FRONTEND_ADDRESS',
        dynamicConfigPath: `${composeConfigDir}/dynamicconfig.yaml`,
      }),
    );
  });

  it('refuses to render without the required secrets', () => {
    expect(() => renderedConfig({ POSTGRES_PASSWORD: '', AGENTS_PAYLOAD_KEYS: '', AGENTS_VAULT_KEY: '' })).toThrow();
  });
});
