// A workflow that calls another workflow: `workflows.call` starts a child run of `hello`, waits
// for it and returns its output. Child runs show up in the UI with a link to this parent run.
import { input, output, phase, workflows } from "@promenade/workflow";
import type { JsonValue } from "@promenade/workflow";

export const meta = {
  slug: "fan-out",
  title: "Fan out",
  description: "Greets several people by calling the hello workflow once per name.",
  triggers: [{ kind: "manual" }],
};

const names = ((input as { names?: string[] } | null)?.names ?? ["Ada", "Grace"]).slice(0, 10);

phase("call children");
const greetings: JsonValue[] = [];
for (const name of names) {
  greetings.push((await workflows.call("hello", { name })) as JsonValue);
}

phase("done");
output({ greetings });
