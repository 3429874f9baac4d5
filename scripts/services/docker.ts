// The Docker engine check and cleanup shared by the dev stack and the tests.
import Docker from 'dockerode';

export { managedLabel } from '../../domain/sandbox.ts';

export function dockerClient(): Docker {
  // dockerode reads DOCKER_HOST itself; default is the local socket.
  return new Docker();
}

export async function dockerAnswers(docker = dockerClient()): Promise<{ version: string; apiVersion: string }> {
  const version = await docker.version();
  return { version: version.Version, apiVersion: version.ApiVersion };
}

/** Removes every container carrying all of the given labels, and volumes with the same labels (sandbox workspaces). */
export async function removeContainersLabelled(
  labels: Record<string, string>,
  docker = dockerClient(),
): Promise<number> {
  const filters = { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((info) =>
      docker
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const { Volumes: volumes } = await docker.listVolumes({ filters: JSON.stringify(filters) as never });
  await Promise.all(
    (volumes ?? []).map((volume) =>
      docker
        .getVolume(volume.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
  return containers.length;
}
