// Serve an engine over HTTP: JSON API, webhooks, the /api/ws event channel and the run-log UI.
// Here the engine is the in-memory fake from ./testing; promenade-server passes a real Engine.
import { createPromenadeServer } from "@promenade/server";
import { createFakeEngine } from "@promenade/server/testing";

const engine = createFakeEngine({
  behaviors: {
    hello: async (run) => {
      run.phase("greet");
      await run.sleep(500);
      return { greeting: "hello" };
    },
  },
});
engine.addWorkflow({ slug: "hello", triggers: [{ kind: "manual" }] });

const server = createPromenadeServer(engine, { env: () => ({}) });
const { host, port } = await server.listen(8080, "127.0.0.1");
console.log(`open http://${host}:${port}/ and press Run on "hello"`);
process.once("SIGINT", () => void server.close());
