import { fileURLToPath } from "node:url";
import { RunSupervisor } from "@promenade/supervisor";
import { createInMemorySupervisorStore } from "@promenade/supervisor/testing";

const store = createInMemorySupervisorStore(); // the engine passes its SQLite or PostgreSQL store
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
// Creating a run also writes its `queued` event; the store publishes every event it commits.
store.subscribe((event) => console.log(event.cursor, event.event.kind));
const { run } = await store.createRun({
  workflowId: workflow.id,
  triggerKind: "manual",
  input: { n: 7 },
});
console.log(await supervisor.supervise(run.id)); // status "completed", output { echoed: { n: 7 } }
await supervisor.shutdown();
