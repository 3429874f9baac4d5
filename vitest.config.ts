import { defineConfig } from 'vitest/config';

// Integration tests share one Temporal dev server and one PostgreSQL cluster per run (test/support/global-setup.ts);
// each test file uses its own task queues. Forks, not threads: Temporal's native worker runtime wants a process.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
