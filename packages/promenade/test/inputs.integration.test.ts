/**
 * `promenade inputs` and `promenade respond` end to end against a real `promenade-server`
 * process: a run started with `promenade run` waits on three human-input gates (text, choice,
 * multiselect); the inbox lists each as it opens (table and `--json`), `respond` answers them
 * with plain text and a JSON array, refuses an unknown key, a second answer and an answer the
 * gate does not offer (exit 1, the request stays pending), and the run completes with the
 * answers as its output (exit 0). If this breaks, a person cannot answer a waiting run from a
 * terminal, or a script cannot tell an accepted answer from a refused one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROVAL } from "./fixtures.ts";
import { cli, killChildren, spawnCli, startServer, waitFor, writeFiles } from "./helpers.ts";

let env: Record<string, string> = {};

// Starts a server process and deploys: slow on a loaded machine.
beforeAll(async () => {
  env = { PROMENADE_URL: await startServer().url };
  const dir = writeFiles({ "approval.ts": APPROVAL });
  const deployed = await cli(["deploy", "approval.ts"], { env, cwd: dir });
  if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.stderr}`);
}, 120_000);
afterAll(killChildren);

interface Request {
  runId: string;
  key: string;
  status: string;
  response: unknown;
}

interface Inbox {
  inputs: (Request & { prompt: string })[];
  runs: Record<string, { workflowSlug: string | null; status: string }>;
}

/** The run's request `key` once it is pending. */
function pendingRequest(runId: string, key: string): Promise<Request> {
  return waitFor(async () => {
    const listed = await cli(["inputs", "--run", runId, "--json"], { env });
    expect(listed.code).toBe(0);
    const inputs = (JSON.parse(listed.stdout) as { inputs: Request[] }).inputs;
    return inputs.find((request) => request.key === key && request.status === "pending");
  });
}

describe("promenade inputs and respond", () => {
  it("lists what a run waits for and answers each gate until the run completes", async () => {
    const run = spawnCli(["run", "approval"], { env });
    const inbox = await waitFor(async () => {
      const listed = await cli(["inputs", "--json"], { env });
      expect(listed.code).toBe(0);
      const body = JSON.parse(listed.stdout) as Inbox;
      return body.inputs.length > 0 ? body : undefined;
    });
    expect(inbox.inputs).toHaveLength(1);
    const runId = inbox.inputs[0]?.runId ?? "";
    expect(inbox.inputs[0]).toMatchObject({ key: "note", prompt: "Any note?", status: "pending" });
    expect(inbox.runs[runId]).toEqual({ workflowSlug: "approval", status: "awaiting_input" });

    const table = await cli(["inputs"], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^RUN\s+WORKFLOW\s+KEY\s+FORM\s+ASKED\s+EXPIRES\s+PROMPT\n/);
    expect(table.stdout).toMatch(
      new RegExp(`\\n${runId}\\s+approval\\s+note\\s+text\\s+.*Any note\\?\\n`),
    );
    expect(table.stderr).toContain("promenade respond <run> <key> --value <answer>");

    // A gate the run has not reached yet: named, with what it does wait for.
    const early = await cli(["respond", runId, "ship", "--value", "Ship"], { env });
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(`promenade respond: run ${runId} has no input request "ship".`);
    expect(early.stderr).toContain('hint: Waiting: "note".');

    const note = await cli(["respond", runId, "note", "--value", "looks good"], { env });
    expect(note.stderr).toBe(`answered "note" of run ${runId}: looks good\n`);
    expect(note.code).toBe(0);
    const again = await cli(["respond", runId, "note", "--value", "second thoughts"], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`input "note" of run ${runId} is resolved`);

    await pendingRequest(runId, "ship");
    const refused = await cli(["respond", runId, "ship", "--value", "Later"], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "promenade respond: VALIDATION: Invalid answer: a free-text answer is not allowed for this gate.",
    );
    await pendingRequest(runId, "ship"); // still waiting after the refused answer
    const ship = await cli(["respond", runId, "ship", "--value", "Ship", "--json"], { env });
    expect(ship.code).toBe(0);
    expect((JSON.parse(ship.stdout) as { request: Request }).request).toMatchObject({
      runId,
      key: "ship",
      status: "resolved",
      response: { value: "Ship", isOther: false },
    });

    await pendingRequest(runId, "regions");
    const regions = await cli(["respond", runId, "regions", "--value", '["eu","us"]'], { env });
    expect(regions.stderr).toBe(`answered "regions" of run ${runId}: eu, us\n`);
    expect(regions.code).toBe(0);

    expect(await run.exit).toBe(0);
    expect(JSON.parse(run.stdout())).toEqual({
      note: { value: "looks good" },
      ship: { value: "Ship", isOther: false },
      regions: { values: ["eu", "us"] },
    });
    expect(run.stderr()).toContain(
      `input   note waiting: Any note? (promenade respond ${runId} note --value …)`,
    );
    expect(run.stderr()).toContain("input   regions answered");

    const history = await cli(["inputs", "--run", runId], { env });
    expect(history.code).toBe(0);
    expect(history.stdout.split("\n").slice(0, 4)).toEqual([
      expect.stringMatching(/^KEY\s+STATUS\s+FORM\s+ANSWER\s+ASKED\s+PROMPT$/),
      expect.stringMatching(/^note\s+resolved\s+text\s+looks good\s+.*Any note\?$/),
      expect.stringMatching(/^ship\s+resolved\s+choice: Ship \| Wait\s+Ship\s+.*Ship it\?$/),
      expect.stringMatching(
        /^regions\s+resolved\s+multiselect 0-2: eu \| us \| ap \(or other\)\s+eu, us\s+.*Where\?$/,
      ),
    ]);
    const empty = await cli(["inputs"], { env });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toBe("No input requests are waiting.\n");
  });

  it("reports an unknown run with exit 1 and the server's code", async () => {
    const unknown = "01JDA7Q3M8X2ZC4K9T5VQW1HNB";
    const listed = await cli(["inputs", "--run", unknown], { env });
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(`promenade inputs: NOT_FOUND: Unknown run: ${unknown}`);
    const answered = await cli(["respond", unknown, "note", "--value", "x"], { env });
    expect(answered.code).toBe(1);
    expect(answered.stderr).toContain("NOT_FOUND");
    const whole = await cli(["respond", unknown, "note", "--value", '{"value":"x"}'], { env });
    expect(whole.code).toBe(1);
    expect(whole.stderr).toContain(`promenade respond: NOT_FOUND: Unknown run: ${unknown}`);
  });
});
