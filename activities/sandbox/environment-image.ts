// Environment images: an environment's `packages: {apt, pip, npm}` installed on top of the sandbox base image, built once
// per Docker host and reused. The tag is a hash of the base image's id and the normalised package lists, so a changed
// base image or list builds a new image and an unchanged one is a cache hit; concurrent requests for one tag share one
// build. The build runs on Docker's default bridge network (the sandbox containers themselves stay offline).
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { pack } from 'tar-stream';
import type { EnvironmentImage } from '../../domain/contracts/sandbox-activity.ts';
import { ErrorCode, PlatformError } from '../../domain/errors.ts';
import { managedLabel } from '../../domain/sandbox.ts';
import type { EnvironmentPackages } from '../../domain/session.ts';
import { statusOf } from './docker-errors.ts';

export interface EnvironmentImageOptions {
  /** PEM certificates trusted during the build only (a TLS-intercepting proxy in front of the registries). */
  caCertificates?: Buffer;
  /** Called for each line the build prints, and so while it makes progress (activities heartbeat here). */
  onProgress?: (line: string) => void;
}

/** A build that failed; `retryable` is false when the package lists themselves are at fault (a name that no registry has). */
export class EnvironmentImageError extends PlatformError {
  override name = 'EnvironmentImageError';

  constructor(message: string, retryable: boolean) {
    // A package no registry has is the environment's fault: retrying cannot help.
    super(retryable ? ErrorCode.environmentImageBuildFailed : ErrorCode.misconfigured, message, { retryable });
  }
}

export const environmentImageRepository = 'agents-env';
/** Set on every environment image: the hash its tag is made of. */
export const environmentImageLabel = 'io.temporal-agents.environment-image';
/** Bump when the generated Dockerfile changes, so images built by the old recipe are not reused. */
const recipeVersion = 1;

// What a package spec may look like, per manager. Names are also shell-quoted, but a strict shape keeps options
// (`--index-url=…`) and URLs out of the build.
const packagePatterns: Record<keyof EnvironmentPackages, RegExp> = {
  apt: /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$/,
  pip: /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?((===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]+(,(===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]+)*)?$/,
  npm: /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(@[A-Za-z0-9.^~<>=*+_-]+)?$/,
};
const managers = ['apt', 'pip', 'npm'] as const;

/** Sorted, de-duplicated, validated lists; throws a non-retryable EnvironmentImageError for a malformed spec. */
export function normalizePackages(
  packages: EnvironmentPackages,
): Required<Record<keyof EnvironmentPackages, string[]>> {
  const normalized = { apt: [] as string[], pip: [] as string[], npm: [] as string[] };
  for (const manager of managers) {
    const list = [...new Set((packages[manager] ?? []).map((name) => name.trim()))].sort();
    for (const name of list) {
      if (!packagePatterns[manager].test(name)) {
        throw new EnvironmentImageError(`packages.${manager}: "${name}" is not a valid ${manager} package spec`, false);
      }
    }
    normalized[manager] = list;
  }
  return normalized;
}

export const hasPackages = (packages: EnvironmentPackages | undefined): boolean =>
  managers.some((manager) => (packages?.[manager]?.length ?? 0) > 0);

const inFlight = new WeakMap<Docker, Map<string, Promise<EnvironmentImage>>>();

/**
 * The image for these packages on top of baseImage, built on this Docker host unless already there. With no packages
 * it is the base image itself.
 */
export async function ensureEnvironmentImage(
  docker: Docker,
  baseImage: string,
  packages: EnvironmentPackages,
  options: EnvironmentImageOptions = {},
): Promise<EnvironmentImage> {
  const { image, hash, base, lists } = await resolveEnvironmentImage(docker, baseImage, packages);
  if (!base) return { image, built: false };

  let builds = inFlight.get(docker);
  if (!builds) inFlight.set(docker, (builds = new Map<string, Promise<EnvironmentImage>>()));
  const running = builds.get(image);
  if (running) return running;
  const build = (async (): Promise<EnvironmentImage> => {
    if (await imageExists(docker, image)) return { image, built: false };
    const dockerfile = environmentDockerfile(base.Id, base.Config.User || '1000:1000', lists, hash, options);
    await buildImage(docker, image, dockerfile, options);
    return { image, built: true };
  })();
  builds.set(image, build);
  try {
    return await build;
  } finally {
    builds.delete(image);
  }
}

/** The tag ensureEnvironmentImage builds for these packages (the base image itself when there are none). */
export async function environmentImageTag(
  docker: Docker,
  baseImage: string,
  packages: EnvironmentPackages,
): Promise<string> {
  return (await resolveEnvironmentImage(docker, baseImage, packages)).image;
}

async function resolveEnvironmentImage(docker: Docker, baseImage: string, packages: EnvironmentPackages) {
  const lists = normalizePackages(packages);
  if (!hasPackages(lists)) return { image: baseImage, hash: '', base: undefined, lists };
  const base = await docker
    .getImage(baseImage)
    .inspect()
    .catch((error: unknown) => {
      if (statusOf(error) === 404)
        throw new EnvironmentImageError(`base image ${baseImage} is not on this host`, false);
      throw error;
    });
  const hash = createHash('sha256')
    .update(JSON.stringify({ recipeVersion, base: base.Id, ...lists }))
    .digest('hex')
    .slice(0, 20);
  return { image: `${environmentImageRepository}:${hash}`, hash, base, lists };
}

async function imageExists(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}

const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;
const caPath = '/tmp/agents-build-ca.pem';

/** The generated Dockerfile; exported for tests and for operators who want to see what runs. */
export function environmentDockerfile(
  baseImageId: string,
  user: string,
  lists: Required<Record<keyof EnvironmentPackages, string[]>>,
  hash: string,
  options: Pick<EnvironmentImageOptions, 'caCertificates'> = {},
): string {
  const withCa = options.caCertificates !== undefined;
  const aptPackages = [
    ...lists.apt,
    // Debian's Python has no pip and its npm is a package of its own: bring them when those lists need them.
    ...(lists.pip.length > 0 ? ['python3-pip'] : []),
    ...(lists.npm.length > 0 ? ['nodejs', 'npm'] : []),
  ];
  const lines = [
    `FROM ${baseImageId}`,
    'USER root',
    'ENV DEBIAN_FRONTEND=noninteractive',
    ...(withCa ? [`COPY build-ca.pem ${caPath}`] : []),
  ];
  if (aptPackages.length > 0) {
    lines.push(
      `RUN apt-get update && apt-get install -y --no-install-recommends ${aptPackages.map(quote).join(' ')} ` +
        '&& apt-get clean && rm -rf /var/lib/apt/lists/*',
    );
  }
  if (lists.pip.length > 0) {
    // Into the system Python (Debian marks it externally managed): the image is the environment, nothing else shares it.
    lines.push(
      `RUN ${withCa ? `PIP_CERT=${caPath} ` : ''}python3 -m pip install --no-cache-dir --break-system-packages ` +
        `--root-user-action=ignore --disable-pip-version-check ${lists.pip.map(quote).join(' ')}`,
    );
  }
  if (lists.npm.length > 0) {
    lines.push(
      `RUN ${withCa ? `npm_config_cafile=${caPath} ` : ''}npm install --global --no-fund --no-audit ` +
        `${lists.npm.map(quote).join(' ')} && rm -rf /root/.npm`,
    );
  }
  if (withCa) lines.push(`RUN rm -f ${caPath}`);
  lines.push(`USER ${user}`, `LABEL ${managedLabel}="true" ${environmentImageLabel}="${hash}"`);
  return `${lines.join('\n')}\n`;
}

interface BuildMessage {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

async function buildImage(
  docker: Docker,
  image: string,
  dockerfile: string,
  options: EnvironmentImageOptions,
): Promise<void> {
  const context = pack();
  context.entry({ name: 'Dockerfile' }, dockerfile);
  if (options.caCertificates) context.entry({ name: 'build-ca.pem' }, options.caCertificates);
  context.finalize();
  const log: string[] = [];
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: image,
    rm: true,
    forcerm: true,
    networkmode: 'bridge',
  });
  const failure = await new Promise<string | undefined>((resolve, reject) => {
    let failed: string | undefined;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve(failed)),
      (message: BuildMessage) => {
        const text = message.error ?? message.errorDetail?.message ?? message.stream ?? '';
        if (message.error) failed = message.error;
        for (const line of text.split('\n')) {
          if (line.trim() === '') continue;
          log.push(line);
          if (log.length > 40) log.shift();
          options.onProgress?.(line);
        }
      },
    );
  });
  if (failure === undefined) return;
  const output = log.join('\n');
  // A package that does not exist will not appear on a retry; anything else (network, mirror hiccup) may.
  const badPackage =
    /Unable to locate package|has no installation candidate|No matching distribution found|npm (ERR!|error) (code )?E404/i.test(
      output,
    );
  throw new EnvironmentImageError(`building ${image} failed: ${failure}\n${output}`, !badPackage);
}
