/**
 * `POST /api/workflows`: deploy a workflow program sent as JSON (`program`, optional `filename`,
 * `skills`, `skillFolders`, `agentsMd` and `config`). Skills come in two shapes: `skills` maps a
 * name to one markdown body placed in the agent's first message; `skillFolders` maps a name to
 * the files of a `<name>/SKILL.md` folder the model opens through its `skill` tool. `agentsMd` is
 * the workflow's AGENTS.md. A TypeScript file is bundled first. Answers 201 with the workflow when it
 * is new and 200 when it replaced one; every deploy is counted in the metrics. A server started
 * with the deploy API off answers 403 `DEPLOY_DISABLED`.
 */
import { MAX_DEPLOY_BODY_BYTES } from "../constants.ts";
import { bundleWorkflow } from "../bundle.ts";
import { HttpError, parseJson, readBody, sendJson, validationFailed } from "../internal/http.ts";
import type { Metrics } from "../internal/metrics.ts";
import type { Handler } from "../pipeline/route.ts";
import type { EngineApi, JsonValue, WorkflowRow } from "../ports.ts";
import { workflowDetail } from "../project.ts";
import { checkSkillFolders, stageSkillFolders, type SkillFolders } from "../skill-folders.ts";

const BODY_KEYS = ["program", "filename", "skills", "skillFolders", "agentsMd", "config"];

/** What the deploy route needs besides the engine. */
export interface DeployRouteOptions {
  metrics: Metrics;
  /** False: every deploy answers 403. */
  deployApi: boolean;
}

/** The deploy handler over `engine`. */
export function deployRoute(
  engine: EngineApi,
  { metrics, deployApi }: DeployRouteOptions,
): Handler {
  return async ({ req, res }) => {
    if (!deployApi) {
      throw new HttpError(
        403,
        "DEPLOY_DISABLED",
        "Deploying workflows over the API is disabled on this server.",
        "Unset PROMENADE_API_DEPLOY or set it to 1 to allow deploys over the API.",
      );
    }
    const body = parseJson(await readBody(req, MAX_DEPLOY_BODY_BYTES), "deploy body");
    const issues: [string, string][] = [];
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw validationFailed("deploy body", [["(root)", "expected an object"]]);
    }
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (!BODY_KEYS.includes(key)) {
        issues.push([key, "unrecognized key"]);
      }
    }
    const program = b["program"];
    if (typeof program !== "string" || program === "") {
      issues.push(["program", "expected a non-empty string"]);
    }
    const filename = b["filename"] ?? "index.mjs";
    if (typeof filename !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(filename)) {
      issues.push(["filename", "expected a file name matching ^[A-Za-z0-9._-]{1,128}$"]);
    } else if (!/\.(mjs|js|ts|mts)$/.test(filename)) {
      issues.push(["filename", "extension must be .mjs, .js, .ts or .mts"]);
    }
    const skills = b["skills"];
    if (skills !== undefined) {
      if (typeof skills !== "object" || skills === null || Array.isArray(skills)) {
        issues.push(["skills", "expected an object of skill name → markdown"]);
      } else {
        for (const [name, text] of Object.entries(skills)) {
          if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$/.test(name)) {
            issues.push([
              `skills.${name}`,
              "invalid skill name (^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$)",
            ]);
          } else if (typeof text !== "string") {
            issues.push([`skills.${name}`, "expected a string"]);
          }
        }
      }
    }
    let skillFolders: SkillFolders | undefined;
    if (b["skillFolders"] !== undefined) {
      skillFolders = checkSkillFolders(b["skillFolders"], issues);
      for (const name of Object.keys(skillFolders ?? {})) {
        if (typeof skills === "object" && skills !== null && Object.hasOwn(skills, name)) {
          issues.push([
            `skillFolders.${name}`,
            "a skill of this name is also in skills; deploy each skill in one shape",
          ]);
        }
      }
    }
    const agentsMd = b["agentsMd"];
    if (agentsMd !== undefined && typeof agentsMd !== "string") {
      issues.push(["agentsMd", "expected a string (the workflow's AGENTS.md)"]);
    }
    const config = b["config"];
    if (
      config !== undefined &&
      (typeof config !== "object" || config === null || Array.isArray(config))
    ) {
      issues.push(["config", "expected an object"]);
    }
    if (issues.length > 0) throw validationFailed("deploy body", issues);
    let source = program as string;
    if (/\.(ts|mts)$/.test(filename as string)) {
      source = await bundleWorkflow({ source, filename: filename as string });
    }
    const before = new Set((await engine.listWorkflows()).map((w) => w.id));
    let row: WorkflowRow;
    const staged = skillFolders === undefined ? undefined : stageSkillFolders(skillFolders);
    try {
      row = await engine.deployWorkflow({
        program: source,
        ...(skills === undefined ? {} : { skills: skills as Record<string, string> }),
        ...(staged === undefined ? {} : { skillsSourceDir: staged.dir }),
        ...(agentsMd === undefined ? {} : { agentsMd: agentsMd as string }),
        ...(config === undefined ? {} : { config: config as Record<string, JsonValue> }),
      });
    } catch (err) {
      metrics.deploys.inc({ source: "api", outcome: "error" });
      throw err;
    } finally {
      staged?.cleanup();
    }
    metrics.deploys.inc({ source: "api", outcome: "ok" });
    const created = !before.has(row.id);
    sendJson(res, created ? 201 : 200, { workflow: await workflowDetail(engine, row), created });
  };
}
