// Sandbox claim latency (P3′): a warm-pool claim (rename a running container, its agent checked meanwhile) against a
// cold create (volume, container, start), each measured until the container has answered its first command (a `bash` tool call through the
// in-sandbox exec agent), and the tool round trip in a running sandbox. Runs against the local Docker engine.
// Usage: node --import tsx bench/sandbox-claim.ts [--reps 30] [--image <tag>] (default: the image .tools/env names)
// Writes bench/results/sandbox-claim.json and the "Sandbox claim" section of bench/results/README.md. Started by
// bench/run.ts as P3 (`npm run bench -- p3`).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { agentGreets } from '../activities/sandbox/agent-client.ts';
import { agentHostFor } from '../activities/sandbox/agent-host.ts';
import { DockerSandbox } from '../activities/sandbox/docker-sandbox.ts';
import { sandboxContainerOptions } from '../activities/sandbox/container-spec.ts';
import { runProcess } from '../activities/sandbox/docker-stream.ts';
import { runSandboxTool } from '../activities/sandbox/tools.ts';
import { WarmPool } from '../activities/sandbox/warm-pool.ts';
import { defaultSandboxSpec, managedLabel, type SandboxOwner } from '../domain/sandbox.ts';
import { removeContainersLabelled } from '../scripts/services/docker.ts';
import { readToolsEnv } from '../scripts/services/tools-env.ts';
import { machineFacts, stats, writeResult, type Stats } from './support/results.ts';

const { values: flags } = parseArgs({
  options: {
    reps: { type: 'string', default: '30' },
    // The image setup.sh built for this tree (the tests use the same), not whatever `latest` points to now.
    image: { type: 'string', default: process.env.AGENTS_SANDBOX_IMAGE ?? readToolsEnv().sandboxImage },
  },
});
const reps = Number(flags.reps);
const image = flags.image;
const benchLabel = 'io.temporal-agents.bench';
const runId = randomBytes(3).toString('hex');
/** P3′ (issue 19), p50: the tool round trip, and claim or create until the first command has answered. */
const targets = { toolP50Ms: 5, warmFirstCommandP50Ms: 20, coldFirstCommandP50Ms: 150 };
const round1 = (value: number) => Math.round(value * 10) / 10;
const toolReps = Number(process.env.BENCH_P3_TOOL_REPS ?? 200);

const docker = new Docker();
const sandbox = new DockerSandbox(docker, { extraLabels: { [benchLabel]: runId } });
const spec = defaultSandboxSpec(image);

const now = () => performance.now();
const ownerFor = (i: number): SandboxOwner => ({ tenantId: 'tnt_bench', sessionId: `sesn_bench_${runId}_${i}` });
/** A plain `docker exec` of `true` (the fallback path, and the whole path before the agent). */
const dockerExecTrue = async (containerId: string) => {
  const result = await runProcess(docker.getContainer(containerId), { argv: ['true'], maxBytes: 1024 });
  if (result.exitCode !== 0) throw new Error(`exec in ${containerId} failed`);
};
let toolCalls = 0;
/** The first command: what the runTool activity does for `bash: true` (runSandboxTool, through the exec agent). */
const execTrue = async (containerId: string) => {
  const toolUseId = `toolu_bench_${runId}_${toolCalls++}`;
  const outcome = await runSandboxTool({ sandbox, containerId, toolUseId, env: {} }, 'bash', { command: 'true' });
  if (outcome.isError) throw new Error(`bash in ${containerId} failed: ${outcome.content}`);
};

interface Samples {
  /** Until createSandbox could return the lease: the container is running. */
  running: number[];
  /** Until the container has answered its first exec. */
  firstExec: number[];
}

async function measureCold(): Promise<Samples> {
  const samples: Samples = { running: [], firstExec: [] };
  for (let i = 0; i < reps; i++) {
    const started = now();
    const id = await sandbox.create(spec, ownerFor(i));
    samples.running.push(now() - started);
    await execTrue(id);
    samples.firstExec.push(now() - started);
    await sandbox.destroy(id);
  }
  return samples;
}

/** Tool calls in one running sandbox: through the agent (the default path) and, for comparison, a bare docker exec. */
async function measureToolRoundTrip(): Promise<{ tool: number[]; dockerExec: number[]; agentRun: number[] }> {
  const id = await sandbox.create(spec, ownerFor(5000));
  const samples = { tool: [] as number[], dockerExec: [] as number[], agentRun: [] as number[] };
  try {
    for (let i = 0; i < 10; i++) await execTrue(id);
    for (let i = 0; i < toolReps; i++) {
      let started = now();
      await execTrue(id);
      samples.tool.push(now() - started);
      started = now();
      await sandbox.runProcess(id, { argv: ['true'], maxBytes: 1024 });
      samples.agentRun.push(now() - started);
      if (i % 4 !== 0) continue;
      started = now();
      await dockerExecTrue(id);
      samples.dockerExec.push(now() - started);
    }
  } finally {
    await sandbox.destroy(id);
  }
  return samples;
}

async function measureWarm(): Promise<Samples> {
  const pool = new WarmPool(sandbox, { spec, min: 1, max: 2 });
  const samples: Samples = { running: [], firstExec: [] };
  try {
    for (let i = 0; i < reps; i++) {
      // Refilling is background work in the worker; here it finishes before the clock starts, so it never competes.
      await pool.refill();
      const started = now();
      const id = await pool.claim(ownerFor(1000 + i));
      if (!id) throw new Error('the warm pool had nothing ready');
      samples.running.push(now() - started);
      await execTrue(id);
      samples.firstExec.push(now() - started);
      await sandbox.destroy(id);
    }
  } finally {
    await pool.stop();
  }
  return samples;
}

/** Where a cold create's time goes: the same Docker calls as DockerSandbox.create, timed one by one. */
async function profileCold(count: number): Promise<Record<string, Stats>> {
  const steps: Record<string, number[]> = {
    agentFolder: [],
    createContainer: [],
    start: [],
    firstCommand: [],
  };
  const agents = agentHostFor(docker);
  for (let i = 0; i < count; i++) {
    const name = `sandbox-bench.${runId}.${i}`;
    const labels = { [managedLabel]: 'true', [benchLabel]: runId };
    let mark = now();
    const lap = (step: string) => {
      const next = now();
      steps[step]?.push(next - mark);
      mark = next;
    };
    const agent = await agents.prepare();
    lap('agentFolder');
    const container = await docker.createContainer(
      sandboxContainerOptions({
        name,
        spec,
        labels: { ...labels, ...agent.labels },
        volumeName: `${name}-workspace`,
        tmpSizeMb: 256,
        agent,
      }),
    );
    lap('createContainer');
    await container.start();
    agents.started(container.id, agent.dir);
    lap('start');
    await execTrue(container.id);
    lap('firstCommand');
    await container.remove({ force: true, v: true });
    await docker.getVolume(`${name}-workspace`).remove();
    await agents.remove(container.id, agent.labels);
  }
  return Object.fromEntries(Object.entries(steps).map(([step, samples]) => [step, stats(samples)]));
}

/** Where a warm claim's time goes: rename and agent greeting side by side (as WarmPool.take), first command. */
async function profileWarm(count: number): Promise<Record<string, Stats>> {
  const steps: Record<string, number[]> = { renameAndGreeting: [], firstCommand: [] };
  for (let i = 0; i < count; i++) {
    const id = await sandbox.create(spec);
    const socket = await sandbox.agentSocket(id);
    let mark = now();
    const lap = (step: string) => {
      const next = now();
      steps[step]?.push(next - mark);
      mark = next;
    };
    await Promise.all([
      docker.getContainer(id).rename({ name: `sandbox.tnt_bench.sesn_profile_${runId}_${i}.x` }),
      socket ? agentGreets(socket, 500) : Promise.resolve(false),
    ]);
    lap('renameAndGreeting');
    await execTrue(id);
    lap('firstCommand');
    await sandbox.destroy(id);
  }
  return Object.fromEntries(Object.entries(steps).map(([step, samples]) => [step, stats(samples)]));
}

/** Docker facts besides the machine's: the figures depend on the engine, its storage driver and cgroups. */
async function dockerFacts() {
  const version = await docker.version();
  const info = (await docker.info()) as { Driver?: string; CgroupVersion?: string };
  return {
    ...machineFacts(),
    dockerVersion: version.Version,
    dockerApiVersion: version.ApiVersion,
    storageDriver: info.Driver ?? 'unknown',
    cgroupVersion: info.CgroupVersion ?? 'unknown',
  };
}

function markdownLines(result: BenchResult): string[] {
  const row = (name: string, s: Stats) => `| ${name} | ${s.n} | ${s.p50} | ${s.p95} | ${s.min} | ${s.max} |`;
  const profileRows = (profile: Record<string, Stats>) =>
    Object.entries(profile).map(([step, s]) => `| ${step} | ${s.p50} | ${s.p95} |`);
  const verdict = (p50: number, target: number) => (p50 <= target ? 'met' : 'missed');
  return [
    '## P3′: sandbox tool round trip, and claim or create to the first command',
    '',
    `Image \`${result.image}\`. Machine: ${result.machine.nproc} cores (${result.machine.cpuModel}), ${result.machine.memoryGiB} GiB RAM, ` +
      `Docker ${result.machine.dockerVersion} (API ${result.machine.dockerApiVersion}, ` +
      `${result.machine.storageDriver}, cgroup v${result.machine.cgroupVersion}), Node ${result.machine.node}.`,
    '',
    'A command is what the runTool activity runs for a `bash` tool call (`runSandboxTool` with `true`, a new tool-use id',
    'each time, so at-most-once markers are written), through the in-sandbox exec agent over its Unix socket; "bare',
    'docker exec" is a plain `docker exec true` in the same container, the path every command took before the agent.',
    '"Running" stops the clock when the claim (or create) returns a running container (createSandbox could return its',
    'lease); "+ first command" when that container has answered its first `bash` call. Containers are removed between',
    'samples, off the clock; the pool refills off the clock too.',
    '',
    '| ms | n | p50 | p95 | min | max |',
    '| --- | --- | --- | --- | --- | --- |',
    row('**bash tool round trip, running sandbox**', result.tool),
    row('agent round trip alone: `true` without a shell or markers', result.agentRun),
    row('bare docker exec, running sandbox', result.dockerExec),
    row('warm claim, running', result.warm.running),
    row('**warm claim + first command**', result.warm.firstExec),
    row('cold create, running', result.cold.running),
    row('**cold create + first command**', result.cold.firstExec),
    '',
    `Load average (1 min) ${result.loadAverage.start} at the start, ${result.loadAverage.end} at the end, on ` +
      `${result.machine.nproc} cores: other jobs share the machine, and every figure above is inflated accordingly ` +
      '(compare the bare docker exec row with an earlier run on a quieter machine: 51.6 ms p50).',
    '',
    `Targets (issue 19, p50): tool round trip ≤ ${targets.toolP50Ms} ms — ${verdict(result.tool.p50, targets.toolP50Ms)}; ` +
      `warm claim to first command ≤ ${targets.warmFirstCommandP50Ms} ms — ` +
      `${verdict(result.warm.firstExec.p50, targets.warmFirstCommandP50Ms)}; cold create to first command ≤ ` +
      `${targets.coldFirstCommandP50Ms} ms — ${verdict(result.cold.firstExec.p50, targets.coldFirstCommandP50Ms)}.`,
    '',
    `Where the time goes (${result.profileReps} samples each, ms):`,
    '',
    '| cold step | p50 | p95 |',
    '| --- | --- | --- |',
    ...profileRows(result.profile.cold),
    '',
    '| warm step | p50 | p95 |',
    '| --- | --- | --- |',
    ...profileRows(result.profile.warm),
  ];
}

interface BenchResult {
  image: string;
  reps: number;
  machine: Awaited<ReturnType<typeof dockerFacts>>;
  tool: Stats;
  agentRun: Stats;
  dockerExec: Stats;
  warm: { running: Stats; firstExec: Stats };
  cold: { running: Stats; firstExec: Stats };
  /** Load average over 1 minute at the start and the end of the run (the machine is shared). */
  loadAverage: { start: number; end: number };
  targets: typeof targets;
  profileReps: number;
  profile: { cold: Record<string, Stats>; warm: Record<string, Stats> };
}

async function main(): Promise<void> {
  await docker.getImage(image).inspect();
  const machine = await dockerFacts();
  // One untimed round first: the image's layers and the daemon's caches are warm for both measurements alike.
  await sandbox.destroy(await sandbox.create(spec));
  const loadStart = loadavg()[0] ?? 0;
  try {
    const roundTrip = await measureToolRoundTrip();
    const warm = await measureWarm();
    const cold = await measureCold();
    const profileReps = 10;
    const profile = { cold: await profileCold(profileReps), warm: await profileWarm(profileReps) };
    const result: BenchResult = {
      image,
      reps,
      machine,
      tool: stats(roundTrip.tool),
      agentRun: stats(roundTrip.agentRun),
      dockerExec: stats(roundTrip.dockerExec),
      warm: { running: stats(warm.running), firstExec: stats(warm.firstExec) },
      cold: { running: stats(cold.running), firstExec: stats(cold.firstExec) },
      loadAverage: { start: round1(loadStart), end: round1(loadavg()[0] ?? 0) },
      targets,
      profileReps,
      profile,
    };
    writeResult('sandbox-claim', result, markdownLines(result), 'node --import tsx bench/run.ts p3');
  } finally {
    await removeContainersLabelled({ [benchLabel]: runId }, docker);
  }
}

await main();
