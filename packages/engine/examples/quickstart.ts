/** The README's 30-second example: deploy, watch events, run, read the result. */
import { Engine } from "@promenade/engine";

const engine = new Engine({ dataDir: "./.promenade", env: { GREETING: "hello" } });
engine.onEvent(({ event }) => console.log(event.kind, event.kind === "phase" ? event.name : ""));

engine.deployWorkflow({
  program: `
    import { input, output, phase, secrets } from "@promenade/workflow";
    export const meta = {
      slug: "greet",
      triggers: [{ kind: "manual" }],
      permissions: { secrets: [{ name: "GREETING" }] },
    };
    phase("compose");
    output(\`\${await secrets.get("GREETING")}, \${input.name}\`);
  `,
});

const run = await engine.waitForRun(engine.startRun("greet", { input: { name: "Ada" } }).id);
console.log(run.status, run.output); // completed hello, Ada
engine.close();
