/** The `todo` built-in: replaces the leaf's task list and returns it rendered. */
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import type { BuiltinContext, TodoItem } from "./context.ts";

const STATUSES = ["pending", "in_progress", "completed"] as const;
const MARK: Record<TodoItem["status"], string> = {
  pending: "[ ]",
  in_progress: "[~]",
  completed: "[x]",
};

export function todoTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "todo",
      description:
        "Keep your task list: send the whole list each time (status pending, in_progress or completed).",
      inputSchema: {
        type: "object",
        required: ["todos"],
        properties: {
          todos: {
            type: "array",
            items: {
              type: "object",
              required: ["content", "status"],
              properties: {
                content: { type: "string" },
                status: { type: "string", enum: [...STATUSES] },
              },
            },
          },
        },
      },
    },
    async execute(input) {
      const todos = input.todos;
      if (!Array.isArray(todos)) throw new EngineError("VALIDATION", `"todos" must be an array.`);
      const list: TodoItem[] = todos.map((item: unknown, i) => {
        const { content, status } = (item ?? {}) as Record<string, unknown>;
        if (typeof content !== "string" || content === "") {
          throw new EngineError("VALIDATION", `todos[${i}].content must be a non-empty string.`);
        }
        if (!(STATUSES as readonly unknown[]).includes(status)) {
          throw new EngineError(
            "VALIDATION",
            `todos[${i}].status must be one of ${STATUSES.join(", ")}.`,
          );
        }
        return { content, status: status as TodoItem["status"] };
      });
      ctx.todos = list;
      if (list.length === 0) return Promise.resolve("The task list is empty.");
      const done = list.filter((t) => t.status === "completed").length;
      return Promise.resolve(
        [
          `Tasks (${done}/${list.length} completed):`,
          ...list.map((t) => `${MARK[t.status]} ${t.content}`),
        ].join("\n"),
      );
    },
  };
}
