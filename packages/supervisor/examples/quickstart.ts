import { fileURLToPath } from "node:url";
import { RunSupervisor } from "@promenade/supervisor";
import { createInMemorySupervisorStore } from "@promenade/supervisor/testing";

const store = createInMemorySupervisorStore(); // the engine passes the SQLite store instead
const supervisor = new RunSupervisor({
  store,
  dataDir: "/tmp/promenade-quickstart",
  childEntryPath: fileURLToPath(new URL("./run-process.ts", import.meta.url)),
  env: new Map(),
  processEnv: process.env,
  envLabel: "the process environment",
  priceUsage: () => 0,
});
const program = `import { input, output } from "@promenade/workflow";\noutput({ echoed: input });`;
const manifest = { slug: "echo", triggers: [{ kind: "manual" }] } as never;
const workflow = store.addWorkflow({ slug: "echo", manifest, program });
const runId = store.transaction(() => {
  const { run } = store.createRun({
    workflowId: workflow.id,
    triggerKind: "manual",
    input: { n: 7 },
  });
  supervisor.emitQueued(run.id);
  return run.id;
});
console.log(await supervisor.supervise(runId)); // status "completed", output { echoed: { n: 7 } }
await supervisor.shutdown();
