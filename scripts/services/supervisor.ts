// Keeps a child process running for the dev stack: when it exits without being asked to, a visible line says so and
// it is started again after a backoff (1 s, doubling to 30 s; back to 1 s once it has stayed up a minute), instead of
// the whole stack stopping. Stopping the supervised process stops the restarts too.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess } from './process.ts';

export interface Supervised {
  name: string;
  /** The process running now (a new one after each restart). */
  current(): ManagedProcess;
  restarts(): number;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SuperviseOptions {
  say(message: string): void;
  minDelayMs?: number;
  maxDelayMs?: number;
}

const stableAfterMs = 60_000;

/** Starts the process once (its failure is the caller's), then restarts it whenever it exits on its own. */
export async function supervise(
  name: string,
  start: () => Promise<ManagedProcess>,
  options: SuperviseOptions,
): Promise<Supervised> {
  const minDelayMs = options.minDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let current = await start();
  let stopped = false;
  let restarts = 0;
  let delayMs = minDelayMs;

  const watch = (proc: ManagedProcess): void => {
    const startedAt = Date.now();
    void proc.exited.then(async (code) => {
      if (stopped) return;
      if (Date.now() - startedAt > stableAfterMs) delayMs = minDelayMs;
      options.say(`${name} exited (${code ?? proc.child.signalCode}); restarting it (log: ${proc.logFile})`);
      for (;;) {
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, maxDelayMs);
        if (stopped) return;
        try {
          current = await start();
          restarts++;
          options.say(`${name} restarted (pid ${current.child.pid})`);
          watch(current);
          return;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          options.say(`${name} did not start (${reason}); trying again in ${Math.round(delayMs / 1000)} s`);
        }
      }
    });
  };
  watch(current);

  return {
    name,
    current: () => current,
    restarts: () => restarts,
    async stop(signal, graceMs) {
      stopped = true;
      await current.stop(signal, graceMs);
    },
  };
}
