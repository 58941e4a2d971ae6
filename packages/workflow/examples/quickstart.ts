// A whole workflow: the module body is the program; `meta` is read without running it.
import { agent, input, output, phase, type WorkflowMeta } from "@promenade/workflow";

export const meta = {
  slug: "triage",
  title: "Ticket triage",
  triggers: [{ kind: "manual" }, { kind: "cron", expr: "0 9 * * 1-5", timezone: "UTC" }],
} satisfies WorkflowMeta;

const ticket = (input ?? { text: "The printer is on fire" }) as { text: string };

phase("classify");
const verdict = await agent<{ severity: "low" | "high" }>(`Classify this ticket: ${ticket.text}`, {
  schema: { type: "object", properties: { severity: { enum: ["low", "high"] } } },
});

output({ ticket: ticket.text, severity: verdict.severity });
