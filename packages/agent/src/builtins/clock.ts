/** The `clock` built-in: the current time, in UTC and in an optional IANA time zone. */
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { optStr } from "./args.ts";
import type { BuiltinContext } from "./context.ts";

export function clockTool(_ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "clock",
      description:
        "The current date and time (UTC, and in `timezone` when given, e.g. Europe/Paris).",
      inputSchema: { type: "object", properties: { timezone: { type: "string" } } },
    },
    async execute(input) {
      const timezone = optStr(input, "timezone");
      const now = new Date();
      const lines = [`UTC: ${now.toISOString()}`];
      if (timezone !== undefined) {
        let local: string;
        try {
          local = new Intl.DateTimeFormat("en-US", {
            timeZone: timezone,
            dateStyle: "full",
            timeStyle: "long",
          }).format(now);
        } catch {
          throw new EngineError("VALIDATION", `Unknown time zone "${timezone}".`);
        }
        lines.push(`${timezone}: ${local}`);
      }
      return Promise.resolve(lines.join("\n"));
    },
  };
}
