// A manual workflow: greets someone, optionally after a pause (try {"name":"Ada","pauseMs":60000}
// from the UI's Run dialog, then press Cancel while it sleeps). `fan-out` calls it as a child.
import { input, output, phase, sleep } from "@promenade/workflow";

export const meta = {
  slug: "hello",
  title: "Hello",
  description: "Greets someone; pass pauseMs to make it sleep first (handy for trying Cancel).",
  triggers: [{ kind: "manual" }],
};

interface HelloInput {
  name?: string;
  pauseMs?: number;
}

const args = (input ?? {}) as HelloInput;
const name = args.name ?? "world";

if (args.pauseMs !== undefined && args.pauseMs > 0) {
  phase("pause");
  console.log(`sleeping ${args.pauseMs} ms before greeting ${name}`);
  await sleep(args.pauseMs);
}

phase("greet");
console.log(`hello, ${name}`);
output({ greeting: `hello, ${name}` });
