// The chaos soak: sessions with real tools run through the API while a controller SIGKILLs, one at a time and in a
// random order, each of the seven kinds of process the platform depends on — the session, model and sandbox
// workers, the API, the Temporal server, PostgreSQL and the Docker engine — restarting each after a random pause, and
// now and then cuts the session worker off from Temporal (dropped packets) for seconds. Then it checks what must
// hold: every turn ended and the session is idle; event logs gap- and duplicate-free; each message and each tool
// side effect once (an effect may be missing only where the sandbox was lost and restored from an earlier snapshot);
// every tool call one result; the usage ledger covering the events (more only for answers lost with their worker, each
// one a failed request in the log); every session deletes; no worker log with a nondeterminism error; no container or
// process left behind. A turn slower than CHAOS_SLOW_MS (120 s) has its session's events, workflow description and
// history kept in the run's diag/ folder at that moment (CHAOS_KEEP=1 keeps the folder, with every process's log);
// CHAOS_MAX_MINUTES stops the faults after that long, so a run on a slow machine still ends and reports.
// Short by default (CI: each kind once, one partition, 3 sessions). Long, with results committed:
//   CHAOS_KILLS=210 CHAOS_SESSIONS=6 FAULTS_RESULTS=1 npx vitest run test/faults/chaos-soak.test.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stats, writeResult } from '../../bench/support/results.ts';
import { usageBySession } from '../../db/repositories/session-events.ts';
import { dumpEvents, dumpSession } from '../support/chaos/diagnostics.ts';
import { Invariants } from '../support/chaos/invariants.ts';
import { persist, SessionDriver, type DrivenSession } from '../support/chaos/sessions.ts';
import { ChaosStack, chaosKinds, type ChaosKind } from '../support/chaos/stack.ts';
import { uniquePrefix } from '../support/platform.ts';

const killsWanted = Number(process.env.CHAOS_KILLS ?? chaosKinds.length);
const sessionsWanted = Number(process.env.CHAOS_SESSIONS ?? '3');
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const writeResults = process.env.FAULTS_RESULTS === '1';
/** A turn slower than this has its session's events, workflow description and history kept in the run's diag/. */
const slowMs = Number(process.env.CHAOS_SLOW_MS ?? '120000');
/** Stop injecting faults after this many minutes (0: never), so a long run on a slow machine still ends and reports. */
const faultMinutes = Number(process.env.CHAOS_MAX_MINUTES ?? '0');
const prefix = uniquePrefix('chaos');
const runDir = mkdtempSync(join(tmpdir(), 'agents-chaos-'));

/** mulberry32: a seeded generator, so a run's order of kills can be repeated with CHAOS_SEED. */
function generator(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = generator(seed);
const between = (low: number, high: number) => Math.round(low + random() * (high - low));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rounds of every kind in a shuffled order, so kinds are even and the order random. */
function killOrder(count: number): ChaosKind[] {
  const order: ChaosKind[] = [];
  while (order.length < count) {
    const round = [...chaosKinds];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    order.push(...round);
  }
  return order.slice(0, count);
}

let stack: ChaosStack | undefined;
beforeAll(async () => {
  console.log(`chaos soak: run folder ${runDir} (logs/, diag/; CHAOS_KEEP=1 keeps it)`);
  stack = await ChaosStack.start(prefix, runDir);
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  // CHAOS_KEEP=1 keeps the run's folder (its logs) for a look after a failure.
  if (process.env.CHAOS_KEEP !== '1') rmSync(runDir, { recursive: true, force: true });
});

interface KillRecord {
  kind: ChaosKind | 'partition';
  downMs: number;
  /** From the component answering again to the next event any session journaled (null: none within 60 s). */
  recoveryMs: number | null;
}

async function journaledCount(): Promise<number | undefined> {
  const result = await stack!.pool.query<{ n: string }>('select count(*) as n from session_events').catch(() => null);
  return result ? Number(result.rows[0]?.n) : undefined;
}

/** Time from now to the next journaled event anywhere (the platform making progress again). */
async function timeToNextEvent(): Promise<number | null> {
  const started = performance.now();
  let base = await journaledCount();
  while (performance.now() - started < 60_000) {
    const now = await journaledCount();
    if (base === undefined) base = now;
    else if (now !== undefined && now > base) return Math.round(performance.now() - started);
    await pause(50);
  }
  return null;
}

async function injectFaults(order: ChaosKind[], invariants: Invariants): Promise<KillRecord[]> {
  const records: KillRecord[] = [];
  const stopAt = faultMinutes > 0 ? performance.now() + faultMinutes * 60_000 : Infinity;
  for (const [index, kind] of order.entries()) {
    if (performance.now() > stopAt) break;
    await pause(between(1_000, 3_000));
    if (index % chaosKinds.length === 3) {
      const ms = between(3_000, 8_000);
      await stack!.partition(ms);
      records.push({ kind: 'partition', downMs: ms, recoveryMs: await timeToNextEvent() });
    }
    const killedAt = performance.now();
    await stack!.kill(kind);
    await pause(between(0, 3_000));
    await stack!.restart(kind);
    const downMs = Math.round(performance.now() - killedAt);
    records.push({ kind, downMs, recoveryMs: await timeToNextEvent() });
    const dead = stack!.deadProcesses();
    invariants.check(
      'no process died that was not killed',
      dead.length === 0,
      () => `after ${kind}: ${dead.join(', ')}`,
    );
  }
  return records;
}

it(
  `keeps every invariant through ${killsWanted} kills across seven kinds of process`,
  { timeout: 600_000 + killsWanted * 60_000 },
  async () => {
    const platform = stack!;
    const client = new Anthropic({ apiKey: platform.apiKey, baseURL: platform.apiUrl, maxRetries: 0 });
    const started = performance.now();
    const setupDeadline = Date.now() + 120_000;
    const agent = await persist('create the agent', setupDeadline, () =>
      client.beta.agents.create({
        name: 'chaos',
        model: `${prefix}-model`,
        tools: [{ type: 'agent_toolset_20260401' }],
      }),
    );
    const environment = await persist('create the environment', setupDeadline, () =>
      client.beta.environments.create({ name: `chaos-${prefix}` }),
    );
    const diagnostics = { pool: platform.pool, temporalAddress: platform.temporal.address, dir: join(runDir, 'diag') };
    const driver = new SessionDriver(client, platform.pool, 300_000, slowMs, (session, turn, label) =>
      dumpSession(diagnostics, session.id, `turn${turn}-${label}`),
    );
    const sessions: DrivenSession[] = [];
    for (let index = 0; index < sessionsWanted; index++) {
      sessions.push(await driver.create(agent.id, environment.id, index));
    }
    let stopped = false;
    const driving = sessions.map((session) => driver.drive(session, () => stopped).catch(() => undefined));

    const invariants = new Invariants();
    const order = killOrder(killsWanted);
    const records = await injectFaults(order, invariants).finally(() => {
      stopped = true;
    });
    await Promise.all(driving);
    const elapsedS = Math.round((performance.now() - started) / 1000);

    for (const session of sessions) await invariants.checkSession(platform.pool, session);
    const usage = await persist('read usage', Date.now() + 60_000, async () => {
      const response = await fetch(`${platform.apiUrl}/v1/usage?group_by=session`, {
        headers: { 'x-api-key': platform.apiKey },
      });
      if (!response.ok)
        throw new Anthropic.InternalServerError(response.status, undefined, undefined, response.headers);
      return (await response.json()) as { data: Array<Record<string, number | string>> };
    });
    invariants.checkLedger(
      usage.data,
      await usageBySession(
        platform.pool,
        sessions.map((session) => session.id),
      ),
    );

    for (const session of sessions) {
      if (session.stuck || session.slowTurns.length) await dumpSession(diagnostics, session.id, 'end');
      else await dumpEvents(diagnostics, session.id, 'end');
    }
    for (const session of sessions) {
      const deleted = await persist('delete a session', Date.now() + 60_000, () =>
        client.beta.sessions.delete(session.id),
      ).then(
        () => '',
        (error: unknown) => String(error),
      );
      invariants.check('every session deletes', deleted === '', () => `${session.id}: ${deleted}`);
    }
    invariants.checkWorkerLogs(join(runDir, 'logs'));
    const containersGone = Date.now() + 60_000;
    while ((await platform.dockerd.docker.listContainers({ all: true })).length > 0 && Date.now() < containersGone) {
      await pause(500);
    }
    await invariants.checkNoContainers(platform.dockerd.docker, prefix);
    await platform.stop();
    stack = undefined;
    invariants.checkNoProcesses(prefix);

    const kinds = [...chaosKinds, 'partition'] as const;
    const byKind = Object.fromEntries(
      kinds.map((kind) => {
        const mine = records.filter((record) => record.kind === kind);
        const recovered = mine.flatMap((record) => (record.recoveryMs === null ? [] : [record.recoveryMs]));
        return [
          kind,
          {
            count: mine.length,
            down_ms: stats(mine.map((record) => record.downMs)),
            recovery_ms: recovered.length ? stats(recovered) : null,
            no_event_within_60s: mine.length - recovered.length,
          },
        ];
      }),
    );
    const turns = sessions.reduce((sum, session) => sum + session.turns, 0);
    const summary = {
      seed,
      kills: records.filter((record) => record.kind !== 'partition').length,
      partitions: records.filter((record) => record.kind === 'partition').length,
      sessions: sessions.length,
      turns,
      elapsed_s: elapsedS,
      stop_reasons: invariants.stopReasons,
      slow_turns: sessions.flatMap((session) => session.slowTurns.map((slow) => ({ session: session.id, ...slow }))),
      sandbox_lost_errors: invariants.sandboxLostErrors,
      effects_lost_with_their_sandbox: invariants.lostEffects,
      ledger_tokens_beyond_the_events: invariants.ledgerSurplusTokens,
      ledger_answers_lost_and_billed: invariants.ledgerSurplusRequests,
      by_kind: byKind,
      invariants: Object.fromEntries(
        Object.entries(invariants.report).map(([name, entry]) => [
          name,
          { checked: entry.checked, violations: entry.violations.length },
        ]),
      ),
    };
    console.log(`chaos soak: ${JSON.stringify(summary)}`);
    if (writeResults) {
      const budget = faultMinutes > 0 ? ` CHAOS_MAX_MINUTES=${faultMinutes}` : '';
      const command = `CHAOS_KILLS=${killsWanted} CHAOS_SESSIONS=${sessionsWanted} CHAOS_SEED=${seed}${budget} FAULTS_RESULTS=1 npx vitest run test/faults/chaos-soak.test.ts`;
      const fmt = (value: { p50: number; p95: number; max: number } | null) =>
        value ? `${value.p50} / ${value.p95} / ${value.max}` : '–';
      writeResult(
        'faults-chaos-soak',
        { ...summary, violations: invariants.violations },
        [
          `Chaos soak: ${summary.kills} SIGKILLs (of ${killsWanted} wanted) and ${summary.partitions} partitions over ` +
            `${summary.sessions} sessions ` +
            `(${turns} turns, ${elapsedS} s); invariant violations: ${invariants.violations.length}.`,
          '',
          '| kind | kills | down ms p50 / p95 / max | restart → next event ms p50 / p95 / max |',
          '| --- | --- | --- | --- |',
          ...Object.entries(byKind).map(
            ([kind, entry]) => `| ${kind} | ${entry.count} | ${fmt(entry.down_ms)} | ${fmt(entry.recovery_ms)} |`,
          ),
          '',
          `Invariants checked: ${Object.entries(summary.invariants)
            .map(([name, entry]) => `${name} ${entry.checked}× (${entry.violations} violated)`)
            .join('; ')}. Sandboxes lost and restored: ${summary.sandbox_lost_errors}; effects lost with them: ` +
            `${summary.effects_lost_with_their_sandbox}; turns' stop reasons: ${JSON.stringify(summary.stop_reasons)}. ` +
            `Turns slower than ${slowMs / 1000} s: ${summary.slow_turns.length}` +
            `${summary.slow_turns.length ? ` (slowest ${Math.max(...summary.slow_turns.map((slow) => slow.ms))} ms)` : ''}. ` +
            `Ledger beyond the events: ${summary.ledger_answers_lost_and_billed} answers lost with their worker, ` +
            `${summary.ledger_tokens_beyond_the_events} tokens (billed: the provider answered them).`,
        ],
        command,
      );
    }
    expect(invariants.violations).toEqual([]);
    expect(summary.kills).toBe(killsWanted);
  },
);
