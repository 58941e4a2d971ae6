// The workflow of the README's 30-second example (`promenade init` writes the same file to
// workflows/hello.ts). Typechecked with the package: `pnpm --filter promenade typecheck`.
import { input, output, phase, sleep } from "@promenade/workflow";
import type { WorkflowMeta } from "@promenade/workflow";

export const meta = {
  slug: "hello",
  triggers: [{ kind: "manual" }],
} satisfies WorkflowMeta;

const { name = "world", pauseMs = 0 } = (input ?? {}) as { name?: string; pauseMs?: number };
phase("greet");
if (pauseMs > 0) await sleep(pauseMs);
console.log(`hello, ${name}`);
output({ greeting: `hello, ${name}` });
