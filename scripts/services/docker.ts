// The Docker engine check and cleanup shared by the dev stack and the tests.
import Docker from 'dockerode';

export const managedLabel = 'io.temporal-agents.managed';

export function dockerClient(): Docker {
  // dockerode reads DOCKER_HOST itself; default is the local socket.
  return new Docker();
}

export async function dockerAnswers(docker = dockerClient()): Promise<{ version: string; apiVersion: string }> {
  const version = await docker.version();
  return { version: version.Version, apiVersion: version.ApiVersion };
}

/** Removes every container (and its volumes) carrying all of the given labels. Returns how many were removed. */
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
  return containers.length;
}
