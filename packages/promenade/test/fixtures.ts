/**
 * Workflow sources the CLI's integration tests deploy and run.
 */

/** `steps`: `steps` phases, each printing a line, `delayMs` apart; outputs `{ steps }`. */
export const STEPS = `import { input, output, phase, sleep } from "@promenade/workflow";

export const meta = { slug: "steps", triggers: [{ kind: "manual" }] };

interface Args {
  steps?: number;
  delayMs?: number;
}
const { steps = 3, delayMs = 0 } = (input ?? {}) as Args;
for (let i = 1; i <= steps; i++) {
  phase(\`step-\${i}\`);
  console.log(\`line \${i}\`);
  if (delayMs > 0) await sleep(delayMs);
}
output({ steps });
`;

/** `fails`: throws after one phase. */
export const FAILS = `import { phase } from "@promenade/workflow";

export const meta = { slug: "fails", triggers: [{ kind: "manual" }] };

phase("about to fail");
throw new Error("boom");
`;

/** A TypeScript file whose `meta` is not a literal, on line 4 of the file. */
export const BAD_META = `import { output } from "@promenade/workflow";

const SLUG: string = "bad";
export const meta = { slug: SLUG, triggers: [{ kind: "manual" }] };
output(1);
`;

/** `approval`: asks three human-input gates in turn (text, choice, multiselect); outputs the answers. */
export const APPROVAL = `import { humanInput, output, phase } from "@promenade/workflow";

export const meta = { slug: "approval", triggers: [{ kind: "manual" }] };

phase("ask");
const note = await humanInput({ key: "note", prompt: "Any note?", input: { kind: "text" } });
const ship = await humanInput({
  key: "ship",
  prompt: "Ship it?",
  input: { kind: "choice", options: ["Ship", "Wait"], allowOther: false },
});
const regions = await humanInput({
  key: "regions",
  prompt: "Where?",
  input: { kind: "multiselect", options: ["eu", "us", "ap"], max: 2 },
});
output({ note, ship, regions });
`;
