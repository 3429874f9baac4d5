// Environment packages: an image built FROM the sandbox base image with the environment's apt and pip packages, tagged
// by a hash of the base image and the lists, built once (concurrent requests share the build) and then a cache hit;
// sessions' containers run from it with the packages usable, and after a cold one the next session of the environment
// claims a warm container. A package no registry has fails for good, a malformed spec before any build.
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import Docker from 'dockerode';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createSandboxActivities } from '../../activities/sandbox/activities.ts';
import { DockerSandbox } from '../../activities/sandbox/docker-sandbox.ts';
import { EnvironmentPools } from '../../activities/sandbox/environment-pools.ts';
import { ensureEnvironmentImage, environmentImageTag } from '../../activities/sandbox/environment-image.ts';
import { FailureType } from '../../domain/errors.ts';
import { defaultSandboxSpec, type SandboxOwner } from '../../domain/sandbox.ts';
import type { EnvironmentPackages } from '../../domain/session.ts';
import { testContainerLabels } from '../support/platform.ts';

const docker = new Docker();
const baseImage = inject('sandboxImage');
// This machine reaches PyPI through a TLS-intercepting proxy whose CA is in the host's bundle; elsewhere it is harmless.
const hostBundle = '/etc/ssl/certs/ca-certificates.crt';
const caCertificates = existsSync(hostBundle) ? readFileSync(hostBundle) : undefined;
const packages: EnvironmentPackages = { apt: ['tree'], pip: ['six'] };
const owner: SandboxOwner = { tenantId: 'tnt_packages', sessionId: `sesn_pkg_${randomBytes(3).toString('hex')}` };

let pool: pg.Pool;
let activities: ReturnType<typeof createSandboxActivities>;
const builtImages = new Set<string>();

beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  activities = createSandboxActivities({
    docker,
    pool,
    hostQueue: 'sandbox-host-packages',
    extraLabels: testContainerLabels(),
    buildCaCertificates: caCertificates,
  });
});

afterAll(async () => {
  await activities?.destroySandbox({ owner, deleteSnapshots: true });
  for (const image of builtImages)
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  await pool?.end();
});

describe('environment images', () => {
  it('builds once (concurrent requests share the build), then hits the cache', async () => {
    // A leftover from an earlier run would make the first call a cache hit: start from no image.
    const image = await environmentImageTag(docker, baseImage, packages);
    builtImages.add(image);
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);

    const [first, second] = await Promise.all([
      ensureEnvironmentImage(docker, baseImage, packages, { caCertificates }),
      ensureEnvironmentImage(docker, baseImage, { pip: ['six'], apt: ['tree', 'tree'] }, { caCertificates }),
    ]);
    // One build, one answer: the second request (same lists, other order, a duplicate) joined the first.
    expect(second).toBe(first);
    expect(first).toEqual({ image, built: true });
    expect(first.image).toMatch(/^agents-env:[0-9a-f]{20}$/);

    expect(await activities.prepareEnvironmentImage({ baseImage, packages })).toEqual({
      image: first.image,
      built: false,
    });
    const info = await docker.getImage(first.image).inspect();
    expect(info.Config.Labels).toMatchObject({ 'io.temporal-agents.managed': 'true' });
    expect(info.Config.User).toBe((await docker.getImage(baseImage).inspect()).Config.User || '1000:1000');
  }, 180_000);

  it('runs a session container from it with the packages usable', async () => {
    const lease = await activities.createSandbox({ spec: defaultSandboxSpec(baseImage), owner, packages });
    const container = await docker.getContainer(lease.containerId).inspect();
    expect(container.Config.Image).toMatch(/^agents-env:/);
    const outcome = await activities.runTool({
      lease,
      toolUseId: 'toolu_packages',
      name: 'bash',
      input: {
        command: 'mkdir -p a/b && tree --noreport a && python3 -c "import six; print(six.PY3)" && id -u && ls /tmp',
      },
      env: {},
    });
    expect(outcome).toEqual({ content: 'a\n└── b\nTrue\n1000\n', isError: false });
  }, 180_000);

  it('keeps a warm container of the environment for its next session', async () => {
    const labels = testContainerLabels();
    const environmentPools = new EnvironmentPools(new DockerSandbox(docker, { extraLabels: labels }), { max: 2 });
    const pooled = createSandboxActivities({
      docker,
      pool,
      hostQueue: 'sandbox-host-packages',
      extraLabels: labels,
      buildCaCertificates: caCertificates,
      environmentPools,
    });
    const owners = [1, 2].map((n) => ({ ...owner, sessionId: `${owner.sessionId}_pool${n}` }));
    try {
      await pooled.createSandbox({ spec: defaultSandboxSpec(baseImage), owner: owners[0]!, packages });
      // The cold create left a pool of one for this environment behind, filled in the background.
      await vi.waitFor(() => expect(environmentPools.all[0]?.readyCount).toBe(1), { timeout: 60_000, interval: 100 });
      const claimedAt = Date.now();
      const lease = await pooled.createSandbox({ spec: defaultSandboxSpec(baseImage), owner: owners[1]!, packages });
      const container = await docker.getContainer(lease.containerId).inspect();
      expect(container.Config.Image).toMatch(/^agents-env:/);
      expect(Date.parse(container.Created)).toBeLessThan(claimedAt);
      const outcome = await pooled.runTool({
        lease,
        toolUseId: 'toolu_packages_warm',
        name: 'bash',
        input: { command: 'python3 -c "import six; print(six.PY3)" && id -u' },
        env: {},
      });
      expect(outcome).toEqual({ content: 'True\n1000\n', isError: false });
    } finally {
      await environmentPools.stop();
      for (const each of owners) await pooled.destroySandbox({ owner: each, deleteSnapshots: true });
    }
  }, 180_000);

  it('rejects a malformed package spec before building, and a package no registry has for good', async () => {
    await expect(ensureEnvironmentImage(docker, baseImage, { pip: ['--index-url=http://x'] })).rejects.toMatchObject({
      name: 'EnvironmentImageError',
      retryable: false,
    });
    const failure = await activities
      .prepareEnvironmentImage({ baseImage, packages: { apt: ['no-such-package-agents-test'] } })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: FailureType.misconfigured, nonRetryable: true });
    expect((failure as Error).message).toMatch(/Unable to locate package no-such-package-agents-test/);
  }, 180_000);
});
