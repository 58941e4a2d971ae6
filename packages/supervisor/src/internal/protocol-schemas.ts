/**
 * zod validators for every child → parent IPC message: every message is validated on receipt.
 * Parent-side only; the child runtime never loads this file.
 * A message failing these schemas is ignored and logged, never fatal to the run.
 */
import { z } from "zod";
import type { ChildMessage } from "../protocol.ts";

const nonNegativeInt = z.number().int().nonnegative();
const wireError = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  name: z.string().optional(),
  stack: z.string().optional(),
});

const childMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready") }),
  z.object({
    type: z.literal("host_call"),
    callId: z.number().int().positive(),
    method: z.string().min(1),
    args: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal("emit"),
    body: z.looseObject({ kind: z.string() }),
    turnId: z.string().min(1).optional(),
  }),
  z.object({
    type: z.literal("turn_started"),
    turnId: z.string().min(1),
    agentId: z.string().min(1),
    agentName: z.string().min(1).optional(),
  }),
  z.object({
    type: z.literal("report_usage"),
    modelRef: z.string(),
    usage: z.looseObject({
      inputTokens: nonNegativeInt.optional(),
      outputTokens: nonNegativeInt.optional(),
      totalTokens: nonNegativeInt.optional(),
    }),
  }),
  z.object({ type: z.literal("memory_used"), dir: z.string() }),
  // Each message inside is validated on its own when the batch is dispatched.
  z.object({ type: z.literal("batch"), messages: z.array(z.unknown()) }),
  z.object({ type: z.literal("done"), output: z.unknown(), outputDeclared: z.boolean() }),
  z.object({
    type: z.literal("failed"),
    error: wireError,
    output: z.unknown(),
    outputDeclared: z.boolean(),
  }),
]);

/** Parses one raw IPC message; returns the problem text instead of throwing. */
export function parseChildMessage(
  raw: unknown,
): { ok: true; message: ChildMessage } | { ok: false; problem: string } {
  const parsed = childMessageSchema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data as ChildMessage };
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "(root)" : issue.path.join(".");
  return { ok: false, problem: `${where}: ${issue?.message ?? "invalid message"}` };
}
