// A tool defined once: its name, the description the model reads, and a zod schema of its input. The JSON schema the
// model is offered is derived from the zod schema, and the same schema validates the input — in the workflow, before
// anything (a container, a child session) is acquired for the call, and again in the activity that runs it.
// Pure and deterministic: workflow code uses it.
import { z } from 'zod';
import type { ToolSpec } from '../model.ts';

export interface ToolDefinition<Input extends z.ZodType = z.ZodType> {
  name: string;
  /** What the model reads: what the tool does, its limits, and how to recover from its errors. */
  description: string;
  input: Input;
}

export type ToolInputOf<Definition extends ToolDefinition> = z.infer<Definition['input']>;

export type ToolInputCheck<Input> = { ok: true; input: Input } | { ok: false; message: string };

export function defineTool<Input extends z.ZodType>(definition: ToolDefinition<Input>): ToolDefinition<Input> {
  return definition;
}

/** The tool as the model is offered it: name, description, JSON schema of the input (as the caller writes it). */
export function toolSpecOf(definition: ToolDefinition): ToolSpec {
  const { $schema: _schema, ...inputSchema } = z.toJSONSchema(definition.input, { io: 'input' }) as Record<
    string,
    unknown
  >;
  return { name: definition.name, description: definition.description, inputSchema };
}

/** Validates a call's input; an invalid one yields the sentence the model reads as the tool's error result. */
export function checkToolInput<Definition extends ToolDefinition>(
  definition: Definition,
  input: unknown,
): ToolInputCheck<ToolInputOf<Definition>> {
  const parsed = definition.input.safeParse(input);
  if (parsed.success) return { ok: true, input: parsed.data as ToolInputOf<Definition> };
  return { ok: false, message: describeInputError(definition.name, parsed.error) };
}

/** Turns zod issues into one sentence the model can act on. */
export function describeInputError(name: string, error: z.ZodError): string {
  const problems = error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
  return `Invalid input for ${name}: ${problems.join('; ')}.`;
}
