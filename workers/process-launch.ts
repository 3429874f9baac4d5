// How each worker family's process is started: the Node flags and environment that must be in place before the
// process starts (V8 sizes a heap when the isolate is created, glibc reads its tunables at start-up), so they cannot
// be set from the worker's own code. The dev stack, the test harness, package.json and docker-compose.yml all start
// workers this way (test/unit/compose.test.ts checks the last two against this table).
//
// Session workers hold many idle sessions and churn through short workflow tasks. An evicted idle session leaves
// nothing behind in JS, but with V8's and glibc's defaults the process keeps its garbage's high-water mark resident
// (bench/results, P4, has the profile). Three settings bound that:
// - a 1 MB young-generation semi-space (V8 grows it up to 16 MB, in each of the two isolates: main and workflow thread);
// - old-generation growth of 20 % over the live size after a full GC (V8's dynamic factor lets a fast-allocating
//   isolate grow to several times its live size before collecting);
// - at most 2 glibc malloc arenas (the default, 8 per core, keeps freed native memory of Temporal's core spread over
//   many fragmented arenas).
export type WorkerFamily = 'session' | 'model' | 'sandbox' | 'automation' | 'mcp';

export interface WorkerLaunch {
  nodeFlags: string[];
  env: Record<string, string>;
}

export const workerLaunch: Record<WorkerFamily, WorkerLaunch> = {
  session: { nodeFlags: ['--max-semi-space-size=1', '--heap-growing-percent=20'], env: { MALLOC_ARENA_MAX: '2' } },
  model: { nodeFlags: [], env: {} },
  sandbox: { nodeFlags: [], env: {} },
  automation: { nodeFlags: [], env: {} },
  mcp: { nodeFlags: [], env: {} },
};

/** The `node` arguments that start a worker family's entry point (TypeScript through tsx). */
export function workerNodeArgs(family: WorkerFamily, entryPoint: string): string[] {
  return [...workerLaunch[family].nodeFlags, '--import', 'tsx', entryPoint];
}

/** Whether this process was started with its family's launch settings (the worker logs a warning when not). */
export function missingLaunchSettings(
  family: WorkerFamily,
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const { nodeFlags, env: wanted } = workerLaunch[family];
  const nodeOptions = env.NODE_OPTIONS?.split(/\s+/) ?? [];
  return [
    ...nodeFlags.filter((flag) => !execArgv.includes(flag) && !nodeOptions.includes(flag)),
    ...Object.entries(wanted)
      .filter(([name, value]) => env[name] !== value)
      .map(([name, value]) => `${name}=${value}`),
  ];
}
