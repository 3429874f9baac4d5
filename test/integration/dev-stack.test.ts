// The README's dev command, started as a user would (`npm run up`, here with its own data folder and ports): every
// component answers, the demo session runs through the API in a Docker sandbox, a crashed worker is started again
// (with a visible line) while the rest stays up, and Ctrl-C leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, portIsFree, startProcess, waitUntil, type ManagedProcess } from '../../scripts/services/process.ts';
import { temporalAnswers } from '../../scripts/services/temporal.ts';
import { projectRoot } from '../../scripts/services/tools-env.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'agents-dev-stack-'));
let stack: ManagedProcess | undefined;

afterAll(async () => {
  await stack?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the dev stack (npm run up)', () => {
  it(
    'brings every component up, runs the demo, restarts a crashed worker, and stops cleanly',
    { timeout: 300_000 },
    async () => {
      execFileSync('chmod', ['755', dataDir]); // the postgres system user must reach its data folder
      const ports = {
        temporal: await freePort(),
        ui: (await portIsFree(8233)) ? 8233 : await freePort(),
        postgres: await freePort(),
        api: await freePort(),
        codec: await freePort(),
        fakeModel: await freePort(),
      };
      const logFile = join(dataDir, 'up.log');
      stack = startProcess('npm run up', 'npm', ['run', 'up'], {
        cwd: projectRoot,
        logFile,
        env: {
          ...process.env,
          AGENTS_DATA_DIR: dataDir,
          AGENTS_DEV_TEMPORAL_PORT: String(ports.temporal),
          AGENTS_DEV_UI_PORT: String(ports.ui),
          AGENTS_DEV_PG_PORT: String(ports.postgres),
          API_PORT: String(ports.api),
          AGENTS_CODEC_PORT: String(ports.codec),
          AGENTS_DEV_FAKE_MODEL_PORT: String(ports.fakeModel),
          ANTHROPIC_API_KEY: '',
          OPENAI_API_KEY: '',
          DATABASE_URL: '',
        },
      });
      const log = () => readFileSync(logFile, 'utf8');

      // Up: the API answers last, after Temporal, PostgreSQL, the fake model and the workers.
      await waitUntil('the dev stack', async () => log().includes('API   '), { process: stack, timeoutMs: 240_000 });
      expect(await temporalAnswers(`127.0.0.1:${ports.temporal}`)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
      const health = await fetch(`http://127.0.0.1:${ports.api}/health`);
      expect(health.status).toBe(200);
      const decode = await fetch(`http://127.0.0.1:${ports.codec}/default/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ payloads: [] }),
      });
      expect(decode.status).toBe(200);
      const client = new pg.Client({ connectionString: `postgres://agents@127.0.0.1:${ports.postgres}/agents` });
      await client.connect();
      const migrations = await client.query<{ n: number }>('select count(*)::int as n from pgmigrations');
      expect(migrations.rows[0]?.n).toBeGreaterThan(0);
      await client.end();

      // The demo: a session through the API whose bash tool ran in a container from the sandbox image.
      await waitUntil('the demo', async () => log().includes('stack is up'), { process: stack, timeoutMs: 240_000 });
      const output = log();
      expect(output).toContain('demo: agent.tool_use: bash');
      expect(output).toContain('hello from agent in /workspace');
      expect(output).toContain('session.status_idle (end_turn)');

      // A crashed worker is started again, with a line saying so; the API stays up meanwhile.
      const modelPid = Number(/model \(pid (\d+)\)/.exec(output)?.[1]);
      expect(modelPid).toBeGreaterThan(0);
      process.kill(modelPid, 'SIGKILL');
      await waitUntil('the restart', async () => /model-worker restarted \(pid \d+\)/.test(log()), {
        timeoutMs: 60_000,
      });
      expect(log()).toMatch(/model-worker exited \(SIGKILL\); restarting it/);
      expect(log()).not.toContain('stopping…');
      expect((await fetch(`http://127.0.0.1:${ports.api}/health`)).status).toBe(200);

      // Ctrl-C: the terminal signals the whole foreground process group.
      await stack.stop('SIGINT', 60_000);
      expect(log()).toContain('[dev]\x1b[0m stopped');

      // Down: nothing listens any more and no sandbox container is left.
      for (const port of Object.values(ports)) expect(await portIsFree(port), `port ${port} is free`).toBe(true);
      const docker = new Docker();
      const leftovers = await docker.listContainers({ all: true, filters: { label: ['io.temporal-agents.host'] } });
      expect(leftovers.filter((info) => info.Labels['io.temporal-agents.host']?.startsWith('dev-'))).toEqual([]);
      expect(inject('sandboxImage')).toBeTruthy();
    },
  );
});
