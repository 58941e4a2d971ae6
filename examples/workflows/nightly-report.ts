// A cron workflow: fires every day at 07:00 (Europe/Paris) while the server runs, and can be
// started by hand. A missed fire while the server was down is skipped by default; deploy config
// {"catch_up":"once"} (promenade.config.json in a package directory) runs one late fire instead.
import { artifacts, output, phase } from "@promenade/workflow";

export const meta = {
  slug: "nightly-report",
  title: "Nightly report",
  description: "Writes a small daily report artifact on a cron schedule.",
  triggers: [{ kind: "cron", expr: "0 7 * * *", timezone: "Europe/Paris" }, { kind: "manual" }],
};

phase("collect");
const now = new Date();
const lines = [
  `# Report for ${now.toISOString().slice(0, 10)}`,
  "",
  `Generated at ${now.toISOString()}.`,
];
console.log(`collected ${lines.length} lines`);

phase("publish");
await artifacts.write("report.md", "text/markdown", lines.join("\n") + "\n");
output({ date: now.toISOString().slice(0, 10), lines: lines.length });
