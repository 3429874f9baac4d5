// The repository rules the API applies before storing a github_repository resource (domain/session-resources.ts).
import { describe, expect, it } from 'vitest';
import {
  defaultRepositoryMountPath,
  isRepositoryMountPath,
  normalizeMountPath,
  repositoryUrlProblem,
} from '../../domain/session-resources.ts';

describe('repository resources', () => {
  it('mounts at /workspace/<repo-name> by default', () => {
    expect(defaultRepositoryMountPath('https://github.com/acme/widgets.git')).toBe('/workspace/widgets');
    expect(defaultRepositoryMountPath('https://github.com/acme/widgets/')).toBe('/workspace/widgets');
    expect(defaultRepositoryMountPath('https://github.com/')).toBe('/workspace/repository');
  });

  it('keeps repositories under /workspace, after normalising the path', () => {
    expect(normalizeMountPath('/workspace//a/./b/../c')).toBe('/workspace/a/c');
    expect(isRepositoryMountPath('/workspace/widgets')).toBe(true);
    expect(isRepositoryMountPath('/workspace')).toBe(false);
    expect(isRepositoryMountPath('/workspace/../etc/widgets')).toBe(false);
    expect(isRepositoryMountPath('/workspacex/widgets')).toBe(false);
  });

  it('accepts only allow-listed hosts, http(s), and URLs without credentials or query', () => {
    const hosts = ['github.com'];
    expect(repositoryUrlProblem('https://github.com/acme/widgets', hosts)).toBeUndefined();
    expect(repositoryUrlProblem('https://GitHub.com/acme/widgets', hosts)).toBeUndefined();
    expect(repositoryUrlProblem('https://gitlab.com/acme/widgets', hosts)).toMatch(/not allowed/);
    expect(repositoryUrlProblem('https://github.com.evil.test/acme/widgets', hosts)).toMatch(/not allowed/);
    expect(repositoryUrlProblem('ssh://github.com/acme/widgets', hosts)).toMatch(/https/);
    expect(repositoryUrlProblem('file:///etc/passwd', hosts)).toMatch(/https/);
    expect(repositoryUrlProblem('https://x:token@github.com/acme/widgets', hosts)).toMatch(/credentials/);
    expect(repositoryUrlProblem('https://github.com/acme/widgets?x=1', hosts)).toMatch(/query/);
    expect(repositoryUrlProblem('https://github.com/', hosts)).toMatch(/no repository/);
    expect(repositoryUrlProblem('not a url', hosts)).toMatch(/valid/);
  });
});
