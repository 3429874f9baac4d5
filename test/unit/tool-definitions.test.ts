// Tools defined once (domain/tools): the JSON schema the model is offered is derived from the zod schema that validates
// the input, with the descriptions the model needs; an invalid input becomes one sentence naming the field.
import { describe, expect, it } from 'vitest';
import { routeTool, toolDefinitionOf, toolSpecsFor } from '../../domain/tool-routing.ts';
import { sandboxTools } from '../../domain/tools/sandbox-tools.ts';
import { checkToolInput, toolSpecOf } from '../../domain/tools/tool-definition.ts';
import { agentSnapshot } from '../support/workflow-session.ts';

const child = agentSnapshot({ name: 'researcher', model: { id: 'child' }, tools: [] });
const agent = agentSnapshot({
  model: { id: 'main' },
  tools: [
    { type: 'agent_toolset_20260401', configs: [{ name: 'glob', enabled: false }] },
    { type: 'sub_agent', name: 'research', description: 'Ask the researcher', agent: child },
  ],
});

describe('tool definitions', () => {
  it('offer the model JSON schemas derived from the zod schemas, with the full descriptions', () => {
    const specs = toolSpecsFor(agent);
    expect(specs.map((spec) => spec.name)).toEqual(['bash', 'read', 'write', 'edit', 'grep', 'research']);
    const bash = specs[0]!;
    expect(bash.description).toContain('killed at the timeout');
    expect(bash.inputSchema).toMatchObject({
      type: 'object',
      properties: {
        command: { type: 'string', minLength: 1, description: 'The command to run.' },
        timeout_ms: { type: 'integer', maximum: 600_000 },
      },
      required: ['command'],
    });
    expect(bash.inputSchema).not.toHaveProperty('$schema');
    expect(specs[5]).toEqual({
      name: 'research',
      description: 'Ask the researcher',
      inputSchema: {
        type: 'object',
        properties: { prompt: { type: 'string', description: 'The task for the researcher agent.' } },
        required: ['prompt'],
      },
    });
    for (const [name, definition] of Object.entries(sandboxTools)) {
      expect(toolSpecOf(definition).name).toBe(name);
    }
  });

  it('validate input with the same schemas, naming each bad field', () => {
    expect(checkToolInput(sandboxTools.bash, { command: 'ls', timeout_ms: 5 })).toEqual({
      ok: true,
      input: { command: 'ls', timeout_ms: 5 },
    });
    expect(checkToolInput(sandboxTools.edit, { path: 'a.ts', new_string: 'x' })).toEqual({
      ok: false,
      message: 'Invalid input for edit: old_string: Invalid input: expected string, received undefined.',
    });
    const tooLong = checkToolInput(sandboxTools.bash, { command: '', timeout_ms: 700_000 });
    expect(tooLong.ok).toBe(false);
    expect(!tooLong.ok && tooLong.message).toMatch(/^Invalid input for bash: command: .*; timeout_ms: /);
  });

  it('name the definition the workflow validates a routed call with', () => {
    expect(toolDefinitionOf(routeTool(agent, 'write'))).toBe(sandboxTools.write);
    expect(toolDefinitionOf(routeTool(agent, 'research'))?.name).toBe('research');
    expect(toolDefinitionOf(routeTool(agent, 'glob'))).toBeUndefined(); // disabled: unknown
    const checked = checkToolInput(toolDefinitionOf(routeTool(agent, 'research'))!, { prompt: 42 });
    expect(checked).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Invalid input for research: prompt:/),
    });
  });
});
