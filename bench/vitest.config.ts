import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Benchmarks reuse the test harness (one Temporal dev server + PostgreSQL per run, in-process workers, the fake model
// server) but run one file at a time so scenarios never compete for the 2 cores. Started by bench/run.ts.
export default defineConfig({
  root: join(import.meta.dirname, '..'),
  test: {
    include: ['bench/scenarios/*.bench.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
  },
});
