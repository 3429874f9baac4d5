// A worker process's part in its region's fleet (README "Regions"): it beats in region_heartbeats every few seconds;
// a session worker also adopts the session queues of regions whose session workers have all gone quiet (it polls
// them with an extra worker, so their sessions' workflow tasks run here and can move their placement), and lets
// them go when those regions beat again.
import { hostname } from 'node:os';
import type { Worker } from '@temporalio/worker';
import type pg from 'pg';
import type { Logger } from 'pino';
import { beatRegion, liveRegions } from '../db/repositories/region-heartbeats.ts';
import type { RegionWorkerKind } from '../domain/regions.ts';

export interface RegionFleetOptions {
  pool: pg.Pool;
  region: string;
  kind: RegionWorkerKind;
  intervalMs: number;
  log: Pick<Logger, 'info' | 'warn'>;
}

/** Beats for this process's region until stopped. A failed beat is logged and tried again at the next interval. */
export function startRegionHeartbeat(options: RegionFleetOptions): { stop(): void; beat(): Promise<void> } {
  const beat = { region: options.region, workerId: `${hostname()}-${process.pid}-${options.kind}`, kind: options.kind };
  const once = () =>
    beatRegion(options.pool, beat).catch((error: unknown) =>
      options.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'region heartbeat failed'),
    );
  const timer = setInterval(() => void once(), options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), beat: once };
}

export interface QueueAdoptionOptions extends Omit<RegionFleetOptions, 'kind'> {
  /** Every region there is (AGENTS_REGIONS); this process's own is never adopted. */
  regions: string[];
  staleMs: number;
  /** A session worker on the given region's session queue. */
  createWorker(region: string): Promise<Worker>;
}

/** Adopts the session queues of regions whose session workers are gone; releases them when they come back. */
export class SessionQueueAdoption {
  private readonly options: QueueAdoptionOptions;
  private readonly adopted = new Map<string, { worker: Worker; running: Promise<void> }>();
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(options: QueueAdoptionOptions) {
    this.options = options;
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.options.intervalMs);
  }

  /** Stops sweeping and drains the adopted workers. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const { worker } of this.adopted.values()) worker.shutdown();
    await Promise.all([...this.adopted.values()].map(({ running }) => running));
    this.adopted.clear();
  }

  get adoptedRegions(): string[] {
    return [...this.adopted.keys()];
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const live = new Set(await liveRegions(this.options.pool, 'session', this.options.staleMs));
      // Right after start-up the other regions may simply not have beaten yet: give them one staleness period.
      const settled = Date.now() - this.startedAt > this.options.staleMs;
      for (const region of this.options.regions) {
        if (region === this.options.region) continue;
        if (!live.has(region) && settled && !this.adopted.has(region)) await this.adopt(region);
        if (live.has(region) && this.adopted.has(region)) this.release(region);
      }
    } catch (error) {
      this.options.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'region sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private async adopt(region: string): Promise<void> {
    const worker = await this.options.createWorker(region);
    const running = worker.run().catch((error: unknown) => {
      this.options.log.warn({ region, err: error instanceof Error ? error.message : String(error) }, 'adopted worker');
    });
    this.adopted.set(region, { worker, running });
    this.options.log.info(
      { region, taskQueue: worker.options.taskQueue },
      'adopted the session queue of a gone region',
    );
  }

  private release(region: string): void {
    const entry = this.adopted.get(region);
    this.adopted.delete(region);
    entry?.worker.shutdown();
    this.options.log.info({ region }, 'released the session queue of a region that came back');
  }
}
