// What the chaos soak keeps of a turn that takes too long, before the end deletes its session: the session's events,
// the workflow's description (pending activities, their attempts and last failures) and its history, written to the
// run's folder as they were at the moment (CHAOS_KEEP=1 keeps the folder, with every process's log beside them).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { readEvents } from '../../../db/repositories/session-events.ts';
import { sessionWorkflowId } from '../../../domain/ids.ts';
import { readToolsEnv } from '../../../scripts/services/tools-env.ts';

const run = promisify(execFile);

export interface DiagnosticsTarget {
  pool: pg.Pool;
  temporalAddress: string;
  dir: string;
}

async function temporal(address: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(readToolsEnv().temporalBin, [...args, '--address', address, '-o', 'json'], {
      maxBuffer: 512 * 1024 * 1024,
      timeout: 60_000,
    });
    return stdout;
  } catch (error) {
    return JSON.stringify({ error: String(error) });
  }
}

/** Writes `<session>-<label>.events.json`; never throws. */
export async function dumpEvents(target: DiagnosticsTarget, sessionId: string, label: string): Promise<void> {
  mkdirSync(target.dir, { recursive: true });
  const events = await readEvents(target.pool, sessionId).catch((error: unknown) => ({ error: String(error) }));
  writeFileSync(join(target.dir, `${sessionId}-${label}.events.json`), JSON.stringify(events, null, 1));
}

/** Writes `<session>-<label>.events.json`, `.describe.json` and `.history.json`; never throws. */
export async function dumpSession(target: DiagnosticsTarget, sessionId: string, label: string): Promise<void> {
  await dumpEvents(target, sessionId, label);
  const base = join(target.dir, `${sessionId}-${label}`);
  const workflowId = sessionWorkflowId(sessionId);
  writeFileSync(
    `${base}.describe.json`,
    await temporal(target.temporalAddress, ['workflow', 'describe', '-w', workflowId]),
  );
  writeFileSync(`${base}.history.json`, await temporal(target.temporalAddress, ['workflow', 'show', '-w', workflowId]));
}
