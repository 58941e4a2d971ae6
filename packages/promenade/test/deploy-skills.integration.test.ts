/**
 * Both skill shapes and AGENTS.md through the built `promenade deploy` against a real
 * `promenade-server` process, with a fake OpenAI-compatible provider recording the requests the
 * run's agent makes: a package directory's `skills/<name>/SKILL.md` folder (with a resource file)
 * is disclosed progressively (its description in the first request, its body only after the
 * model calls `skill`), its flat `skills/<name>.md` skill is inline in the first request, and its
 * root `AGENTS.md` arrives as the workflow tier. The deploy API refuses a folder without
 * `SKILL.md`, a path that leaves its folder and a name deployed in both shapes. If this breaks,
 * workflows of the 0.2 line deployed from a laptop lose their skills or instructions.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "../../agent/src/testing/index.ts";
import { cli, killChildren, startServer } from "./helpers.ts";

let provider: FakeProvider;
let url = "";
let env: Record<string, string> = {};

const TRIAGER = `import { agent, output } from "@promenade/workflow";

export const meta = { slug: "triager", triggers: [{ kind: "manual" }] };

output(await agent("Triage bug 7.", { builtins: "none", skills: ["triage", "style"] }));
`;

function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "promenade-deploy-skills-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

beforeAll(async () => {
  provider = await startFakeOpenAiProvider();
  url = await startServer({
    PROMENADE_PROVIDERS: JSON.stringify({
      local: { base_url: provider.baseUrl, protocol: "openai" },
    }),
    PROMENADE_DEFAULT_PROVIDER: "local",
    PROMENADE_DEFAULT_MODEL: "llama3.2",
  }).url;
  env = { PROMENADE_URL: url };
}, 120_000);
afterAll(async () => {
  killChildren();
  await provider.close();
});

async function deploy(
  body: unknown,
): Promise<{ status: number; json: { error: { code: string; message: string } } }> {
  const res = await fetch(`${url}/api/workflows`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    json: (await res.json()) as { error: { code: string; message: string } },
  };
}

describe("folder skills through promenade deploy", () => {
  it("deploys a package's folder skill, inline skill and AGENTS.md, and the run's agent sees each in its shape", async () => {
    const root = writeTree({
      "triager/index.ts": TRIAGER,
      "triager/skills/triage/SKILL.md":
        "---\nname: triage\ndescription: How to triage a bug\n---\n# Triage\nFOLDER-BODY: reproduce, then bisect.\n",
      "triager/skills/triage/refs/checklist.md": "- logs\n- version\n",
      "triager/skills/style.md": "INLINE-BODY: answer in one line.\n",
      "triager/AGENTS.md": "WORKFLOW-TIER: be brief.\n",
    });
    provider.enqueue(
      openAiToolCalls([{ id: "call-1", name: "skill", arguments: { name: "triage" } }]),
      openAiText("triaged"),
    );
    const deployed = await cli(["deploy", "triager", "--json"], { env, cwd: root });
    expect(deployed.stderr).toBe("");
    expect(deployed.code).toBe(0);
    const run = await cli(["run", "triager"], { env, cwd: root });
    expect(run.stderr).toMatch(/completed in /);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toBe("triaged");

    const [first, second] = provider.requests.slice(-2).map((r) => r.rawBody);
    expect(first).toContain("- triage: How to triage a bug");
    expect(first).not.toContain("FOLDER-BODY");
    expect(first).toContain("INLINE-BODY");
    expect(first).toContain('AGENTS.md source=\\"workflow\\"');
    expect(first).toContain("WORKFLOW-TIER");
    const tools = (JSON.parse(first!) as { tools: { function: { name: string } }[] }).tools;
    expect(tools.map((t) => t.function.name)).toContain("skill");
    expect(second).toContain("FOLDER-BODY: reproduce, then bisect.");
    expect(second).toContain("refs/checklist.md");
  });

  it("refuses a folder without SKILL.md, a path leaving its folder and a name in both shapes", async () => {
    const program = TRIAGER.replace('"triager"', '"refused"');
    for (const [body, path, message] of [
      [{ skillFolders: { triage: { "notes.md": "x" } } }, "skillFolders.triage", "SKILL.md"],
      [
        { skillFolders: { triage: { "SKILL.md": "x", "../escape.md": "y" } } },
        "skillFolders.triage.../escape.md",
        "..",
      ],
      [
        { skills: { triage: "inline" }, skillFolders: { triage: { "SKILL.md": "x" } } },
        "skillFolders.triage",
        "one shape",
      ],
      [{ skillFolders: { "bad name": { "SKILL.md": "x" } } }, "skillFolders.bad name", "name"],
      [{ agentsMd: 3 }, "agentsMd", "string"],
    ] as const) {
      const res = await deploy({ program, filename: "index.ts", ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION");
      expect(res.json.error.message).toContain(`${path}:`);
      expect(res.json.error.message).toContain(message);
    }
    const list = await fetch(`${url}/api/workflows/refused`);
    expect(list.status).toBe(404);
  });
});
