// Sandbox claim latency: a warm-pool claim (rename + unpause a paused container) against a cold create (volume,
// container, start), each measured until the container answers a trivial exec. Runs against the local Docker engine.
// Usage: node --import tsx bench/sandbox-claim.ts [--reps 30] [--image agents-sandbox:latest]
// Writes bench/results/sandbox-claim.json and the "Sandbox claim" section of bench/results/README.md. Started by
// bench/run.ts as P3 (`npm run bench -- p3`).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { DockerSandbox } from '../activities/sandbox/docker-sandbox.ts';
import { sandboxContainerOptions } from '../activities/sandbox/container-spec.ts';
import { runProcess } from '../activities/sandbox/docker-stream.ts';
import { WarmPool } from '../activities/sandbox/warm-pool.ts';
import { defaultSandboxSpec, managedLabel, type SandboxOwner } from '../domain/sandbox.ts';
import { removeContainersLabelled } from '../scripts/services/docker.ts';
import { machineFacts, stats, writeResult, type Stats } from './support/results.ts';

const { values: flags } = parseArgs({
  options: {
    reps: { type: 'string', default: '30' },
    image: { type: 'string', default: process.env.AGENTS_SANDBOX_IMAGE ?? 'agents-sandbox:latest' },
  },
});
const reps = Number(flags.reps);
const image = flags.image;
const benchLabel = 'io.temporal-agents.bench';
const runId = randomBytes(3).toString('hex');
const targets = { warmP50Ms: 50, coldP50Ms: 600 };

const docker = new Docker();
const sandbox = new DockerSandbox(docker, { extraLabels: { [benchLabel]: runId } });
const spec = defaultSandboxSpec(image);

const now = () => performance.now();
const ownerFor = (i: number): SandboxOwner => ({ tenantId: 'tnt_bench', sessionId: `sesn_bench_${runId}_${i}` });
/** "Ready to exec": the container runs a process and reports its exit. */
const execTrue = async (containerId: string) => {
  const result = await runProcess(docker.getContainer(containerId), { argv: ['true'], maxBytes: 1024 });
  if (result.exitCode !== 0) throw new Error(`exec in ${containerId} failed`);
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

async function measureWarm(): Promise<Samples & { execOnly: number[] }> {
  const pool = new WarmPool(sandbox, { spec, min: 1, max: 2 });
  const samples: Samples & { execOnly: number[] } = { running: [], firstExec: [], execOnly: [] };
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
      const execStarted = now();
      await execTrue(id);
      samples.execOnly.push(now() - execStarted);
      await sandbox.destroy(id);
    }
  } finally {
    await pool.stop();
  }
  return samples;
}

/** Where a cold create's time goes: the same Docker calls as DockerSandbox.create, timed one by one. */
async function profileCold(count: number): Promise<Record<string, Stats>> {
  const steps: Record<string, number[]> = { createVolume: [], createContainer: [], start: [], firstExec: [] };
  for (let i = 0; i < count; i++) {
    const name = `sandbox-bench.${runId}.${i}`;
    const labels = { [managedLabel]: 'true', [benchLabel]: runId };
    let mark = now();
    const lap = (step: string) => {
      const next = now();
      steps[step]?.push(next - mark);
      mark = next;
    };
    await docker.createVolume({ Name: `${name}-workspace`, Labels: labels });
    lap('createVolume');
    const container = await docker.createContainer(
      sandboxContainerOptions({ name, spec, labels, volumeName: `${name}-workspace`, tmpSizeMb: 256 }),
    );
    lap('createContainer');
    await container.start();
    lap('start');
    await execTrue(container.id);
    lap('firstExec');
    await container.remove({ force: true, v: true });
    await docker.getVolume(`${name}-workspace`).remove();
  }
  return Object.fromEntries(Object.entries(steps).map(([step, samples]) => [step, stats(samples)]));
}

/** Where a warm claim's time goes: rename, inspect + unpause (what WarmPool.take does), first exec. */
async function profileWarm(count: number): Promise<Record<string, Stats>> {
  const steps: Record<string, number[]> = { rename: [], inspectAndUnpause: [], firstExec: [] };
  for (let i = 0; i < count; i++) {
    const id = await sandbox.create(spec);
    await sandbox.pause(id);
    let mark = now();
    const lap = (step: string) => {
      const next = now();
      steps[step]?.push(next - mark);
      mark = next;
    };
    await docker.getContainer(id).rename({ name: `sandbox.tnt_bench.sesn_profile_${runId}_${i}.x` });
    lap('rename');
    await sandbox.unpause(id);
    lap('inspectAndUnpause');
    await execTrue(id);
    lap('firstExec');
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
    '## Sandbox claim (warm pool vs cold create)',
    '',
    `Image \`${result.image}\`. Machine: ${result.machine.nproc} cores (${result.machine.cpuModel}), ${result.machine.memoryGiB} GiB RAM, ` +
      `Docker ${result.machine.dockerVersion} (API ${result.machine.dockerApiVersion}, ` +
      `${result.machine.storageDriver}, cgroup v${result.machine.cgroupVersion}), Node ${result.machine.node}.`,
    '',
    '"Running" stops the clock when the claim (or create) returns a running container, i.e. when createSandbox could',
    'return its lease; "+ first exec" stops it when that container has answered a trivial `docker exec` (`true`).',
    'Containers are removed between samples, off the clock; the pool refills off the clock too.',
    '',
    '| ms | n | p50 | p95 | min | max |',
    '| --- | --- | --- | --- | --- | --- |',
    row('warm claim, running', result.warm.running),
    row('warm claim + first exec', result.warm.firstExec),
    row('cold create, running', result.cold.running),
    row('cold create + first exec', result.cold.firstExec),
    row('exec alone (already running)', result.execOnly),
    '',
    `Cold / warm p50: **${result.ratio.running}×** until running, **${result.ratio.firstExec}×** to the first exec.`,
    `Targets (DESIGN.md, p50): warm ≤ ${targets.warmP50Ms} ms — ` +
      `${verdict(result.warm.running.p50, targets.warmP50Ms)} until running, ` +
      `${verdict(result.warm.firstExec.p50, targets.warmP50Ms)} with the first exec; cold ≤ ${targets.coldP50Ms} ms — ` +
      `${verdict(result.cold.running.p50, targets.coldP50Ms)} / ${verdict(result.cold.firstExec.p50, targets.coldP50Ms)}.`,
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
  warm: { running: Stats; firstExec: Stats };
  cold: { running: Stats; firstExec: Stats };
  execOnly: Stats;
  ratio: { running: number; firstExec: number };
  targets: typeof targets;
  profileReps: number;
  profile: { cold: Record<string, Stats>; warm: Record<string, Stats> };
}

async function main(): Promise<void> {
  await docker.getImage(image).inspect();
  const machine = await dockerFacts();
  // One untimed round first: the image's layers and the daemon's caches are warm for both measurements alike.
  await sandbox.destroy(await sandbox.create(spec));
  try {
    const warm = await measureWarm();
    const cold = await measureCold();
    const profileReps = 10;
    const profile = { cold: await profileCold(profileReps), warm: await profileWarm(profileReps) };
    const result: BenchResult = {
      image,
      reps,
      machine,
      warm: { running: stats(warm.running), firstExec: stats(warm.firstExec) },
      cold: { running: stats(cold.running), firstExec: stats(cold.firstExec) },
      execOnly: stats(warm.execOnly),
      ratio: { running: 0, firstExec: 0 },
      targets,
      profileReps,
      profile,
    };
    const ratio = (cold: Stats, warm: Stats) => Math.round((cold.p50 / warm.p50) * 10) / 10;
    result.ratio = {
      running: ratio(result.cold.running, result.warm.running),
      firstExec: ratio(result.cold.firstExec, result.warm.firstExec),
    };
    writeResult('sandbox-claim', result, markdownLines(result), 'node --import tsx bench/run.ts p3');
  } finally {
    await removeContainersLabelled({ [benchLabel]: runId }, docker);
  }
}

await main();
