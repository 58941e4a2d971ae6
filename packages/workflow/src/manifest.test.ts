// The manifest is a compatibility contract: a loosened
// rule lets a program deploy here that fails elsewhere, a tightened one stops a program that
// runs on the compatible engine. Every message must name the field so authors can fix it.
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  canonicalManifestSchema,
  MetaValidationError,
  validateMeta,
  workflowManifestSchema,
  type WorkflowManifest,
} from "./manifest.ts";
import type {
  Budget,
  CronTrigger,
  EgressPolicy,
  HostedRunsOnObject,
  Notification,
  RunPermissions,
  SelfHostedRunsOn,
  ToolGrant,
  WebhookTrigger,
  WorkflowRunTrigger,
  WorkflowMeta,
  WorkflowMetaFields,
  Workspace,
} from "./meta.ts";

const manual = [{ kind: "manual" }];

function minimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { slug: "hello", triggers: manual, ...extra };
}

/** The MetaValidationError `validateMeta(meta)` throws (fails the test if it does not throw). */
function rejection(meta: unknown): MetaValidationError {
  try {
    validateMeta(meta);
  } catch (error) {
    if (error instanceof MetaValidationError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(meta)} to be rejected`);
}

function issuePaths(meta: unknown): string[] {
  return rejection(meta).issues.map((issue) => issue.path);
}

describe("validateMeta: defaults and top level", () => {
  it("applies exactly the three defaults", () => {
    const input = { slug: "hello", triggers: [{ kind: "manual" }] };
    const manifest = validateMeta(input);
    expect(manifest).toEqual({
      ...input,
      concurrency: { mode: "unlimited" },
      runs_on: "boardwalk/linux",
      callable_by: "anyone_in_org",
    });
    expect(manifest.title).toBeUndefined();
    expect("title" in manifest).toBe(false);
    expect(input).toEqual({ slug: "hello", triggers: [{ kind: "manual" }] });
  });

  it("rejects an unknown top-level key at (root), naming it", () => {
    const error = rejection(minimal({ scripts: {} }));
    expect(error.name).toBe("MetaValidationError");
    expect(error.message).toContain("(root)");
    expect(error.message).toContain("scripts");
    expect(error.message).toMatch(
      /^Invalid workflow meta for "hello" \(1 issue\):\n {2}\(root\): /,
    );
  });

  it.each(["tools", "mcp", "skills", "memory", "instructions", "model", "provider", "outcome"])(
    "rejects the top-level key %s",
    (key) => {
      const error = rejection(minimal({ [key]: "x" }));
      expect(error.issues).toEqual([
        { path: "(root)", message: expect.stringContaining(`"${key}"`) as unknown },
      ]);
    },
  );

  it("points capability keys at agent() options", () => {
    expect(rejection(minimal({ tools: [] })).message).toContain("pass them to agent()");
  });

  it("requires a slug of 1–100 letters, digits or dashes", () => {
    for (const slug of ["has space", "", "a".repeat(101), "dots.not.ok", 7]) {
      expect(issuePaths(minimal({ slug }))).toEqual(["slug"]);
    }
    expect(validateMeta(minimal({ slug: "a".repeat(100) })).slug).toHaveLength(100);
    expect(issuePaths({ triggers: manual })).toEqual(["slug"]);
  });

  it("limits title to one non-empty line of ≤ 200 chars and description to ≤ 1000", () => {
    expect(issuePaths(minimal({ title: "line one\nline two" }))).toEqual(["title"]);
    expect(issuePaths(minimal({ title: "" }))).toEqual(["title"]);
    expect(issuePaths(minimal({ title: "t".repeat(201) }))).toEqual(["title"]);
    expect(validateMeta(minimal({ title: "t".repeat(200) })).title).toHaveLength(200);
    expect(validateMeta(minimal({ description: "" })).description).toBe("");
    expect(issuePaths(minimal({ description: "d".repeat(1001) }))).toEqual(["description"]);
  });

  it("stores strings as written", () => {
    expect(validateMeta(minimal({ title: "  spaced  " })).title).toBe("  spaced  ");
  });

  it("reports every issue at once, one indented line each", () => {
    const error = rejection({ slug: "bad slug", triggers: [], scripts: 1, budget: { max_usd: 0 } });
    expect(error.issues.map((i) => i.path)).toEqual([
      "slug",
      "triggers",
      "budget.max_usd",
      "(root)",
    ]);
    expect(error.message.split("\n")).toHaveLength(5);
    expect(error.message).toMatch(/^Invalid workflow meta \(4 issues\):\n {2}slug: /);
  });

  it("rejects non-objects at (root)", () => {
    expect(issuePaths(null)).toEqual(["(root)"]);
    expect(issuePaths([])).toEqual(["(root)"]);
    expect(issuePaths("meta")).toEqual(["(root)"]);
  });
});

describe("validateMeta: triggers", () => {
  it("requires at least one trigger and a known kind", () => {
    expect(issuePaths(minimal({ triggers: [] }))).toEqual(["triggers"]);
    const error = rejection(minimal({ triggers: [{ kind: "event" }] }));
    expect(error.issues.map((i) => i.path)).toEqual(["triggers.0.kind"]);
    expect(error.message).toContain('"cron", "webhook", "manual"');
    expect(issuePaths(minimal({ triggers: [{ kind: "manual", expr: "x" }] }))).toEqual([
      "triggers.0",
    ]);
  });

  it("accepts 5- or 6-field cron expressions of ≤ 120 chars and names the bad field", () => {
    const cron = (expr: string) => minimal({ triggers: [{ kind: "cron", expr }] });
    expect(validateMeta(cron("0 9 * * 1-5")).triggers).toEqual([
      { kind: "cron", expr: "0 9 * * 1-5" },
    ]);
    expect(() => validateMeta(cron("0 0 9 * * 1"))).not.toThrow();
    expect(issuePaths(cron("9 * *"))).toEqual(["triggers.0.expr"]);
    expect(issuePaths(cron("61 * * * *"))).toEqual(["triggers.0.expr"]);
    expect(issuePaths(cron("* * * * 8"))).toEqual(["triggers.0.expr"]);
    expect(rejection(cron("61 * * * *")).message).toContain("minute");
    expect(issuePaths(cron("x".repeat(121)))).toEqual(["triggers.0.expr"]);
    expect(() => validateMeta(cron("0 0 30 2 *"))).not.toThrow();
  });

  it("accepts only IANA cron time zones", () => {
    const zone = (timezone: string) =>
      minimal({ triggers: [{ kind: "cron", expr: "0 9 * * *", timezone }] });
    expect(() => validateMeta(zone("America/Anchorage"))).not.toThrow();
    expect(() => validateMeta(zone("UTC"))).not.toThrow();
    expect(issuePaths(zone("Mars/Olympus"))).toEqual(["triggers.0.timezone"]);
    expect(issuePaths(zone(""))).toEqual(["triggers.0.timezone"]);
  });

  it("accepts a cron trigger's static input object and names the trigger of a bad one", () => {
    const withInput = (input: unknown) =>
      minimal({
        triggers: [{ kind: "manual" }, { kind: "cron", expr: "0 9 * * *", input }],
      });
    expect(validateMeta(withInput({ repo: "acme/app", depth: 2 })).triggers).toEqual([
      { kind: "manual" },
      { kind: "cron", expr: "0 9 * * *", input: { repo: "acme/app", depth: 2 } },
    ]);
    for (const bad of ["text", 3, ["a"], null]) {
      expect(issuePaths(withInput(bad))).toEqual(["triggers.1.input"]);
      expect(rejection(withInput(bad)).message).toContain(
        "triggers.1.input: cron input must be an object",
      );
    }
  });

  it("requires webhook auth of token or signature", () => {
    expect(issuePaths(minimal({ triggers: [{ kind: "webhook" }] }))).toEqual(["triggers.0.auth"]);
    expect(issuePaths(minimal({ triggers: [{ kind: "webhook", auth: "hmac" }] }))).toEqual([
      "triggers.0.auth",
    ]);
    for (const auth of ["token", "signature"]) {
      expect(() => validateMeta(minimal({ triggers: [{ kind: "webhook", auth }] }))).not.toThrow();
    }
  });

  it("allows duplicate triggers", () => {
    expect(validateMeta(minimal({ triggers: [...manual, ...manual] })).triggers).toHaveLength(2);
  });
});

describe("validateMeta: env and secrets", () => {
  it("rejects the engine's PROMENADE_ prefix case-insensitively at env.<KEY>, and accepts BOARDWALK_ and AWS_ keys", () => {
    for (const key of ["PROMENADE_PORT", "promenade_port", "Promenade_X"]) {
      expect(issuePaths(minimal({ env: { [key]: "1" } }))).toEqual([`env.${key}`]);
    }
    const env = { BOARDWALK_X: "1", aws_region: "eu-west-1", Aws_Key: "k", AWSX: "1" };
    expect(validateMeta(minimal({ env })).env).toEqual(env);
  });

  it("accepts whole-value secret references to declared secrets only", () => {
    const permissions = { secrets: [{ name: "GH" }] };
    const ok = validateMeta(
      minimal({ env: { T: "${{ secrets.GH }}", U: "${{secrets.GH}}" }, permissions }),
    );
    expect(ok.env).toEqual({ T: "${{ secrets.GH }}", U: "${{secrets.GH}}" });
    expect(issuePaths(minimal({ env: { T: "prefix-${{ secrets.GH }}" }, permissions }))).toEqual([
      "env.T",
    ]);
    const undeclared = rejection(minimal({ env: { T: "${{ secrets.X }}" }, permissions }));
    expect(undeclared.issues.map((i) => i.path)).toEqual(["env.T"]);
    expect(undeclared.message).toContain('"X"');
    // Reported even when another field fails in a way that stops zod's own refinements.
    expect(
      issuePaths(minimal({ env: { T: "${{ secrets.X }}" }, budget: { max_tokens: 1.5 } })),
    ).toEqual(["budget.max_tokens", "env.T"]);
  });

  it("bounds env keys, values and size", () => {
    expect(issuePaths(minimal({ env: { ["K".repeat(121)]: "v" } }))).toEqual([
      `env.${"K".repeat(121)}`,
    ]);
    expect(issuePaths(minimal({ env: { K: "v".repeat(32_769) } }))).toEqual(["env.K"]);
    expect(issuePaths(minimal({ env: { K: 1 } }))).toEqual(["env.K"]);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`K${String(i)}`, "v"]));
    expect(issuePaths(minimal({ env: many }))).toEqual(["env"]);
  });

  it("accepts legacy-declared secrets as a grant for env references", () => {
    const manifest = validateMeta({
      name: "x",
      secrets: [{ name: "GH" }],
      triggers: manual,
      env: { T: "${{ secrets.GH }}" },
    });
    expect(manifest.permissions).toEqual({ secrets: [{ name: "GH" }] });
  });

  it("rejects secret refs with extra fields", () => {
    expect(
      issuePaths(minimal({ permissions: { secrets: [{ name: "T", integration: "github" }] } })),
    ).toEqual(["permissions.secrets.0"]);
    expect(issuePaths(minimal({ permissions: { secrets: [{ name: "" }] } }))).toEqual([
      "permissions.secrets.0.name",
    ]);
  });
});

describe("validateMeta: workspace, budget and platform fields", () => {
  it("accepts workspace.persist true or a non-empty list of relative, normalised paths", () => {
    for (const persist of ["../outside", "a/../b", "/abs", "a\\b", "a//b", ".", "cache/"]) {
      expect(issuePaths(minimal({ workspace: { persist: [persist] } }))).toEqual([
        "workspace.persist.0",
      ]);
    }
    expect(issuePaths(minimal({ workspace: { persist: [] } }))).toEqual(["workspace.persist"]);
    expect(issuePaths(minimal({ workspace: { persist: "cache" } }))).toEqual(["workspace.persist"]);
    expect(validateMeta(minimal({ workspace: { persist: true } })).workspace).toEqual({
      persist: true,
    });
    expect(
      validateMeta(minimal({ workspace: { persist: ["memory/a", "cache"] } })).workspace,
    ).toEqual({
      persist: ["memory/a", "cache"],
    });
    expect(issuePaths(minimal({ workspace: { key: "k" } }))).toEqual(["workspace"]);
  });

  it("requires positive finite budgets, integer token budgets and known notification channels", () => {
    expect(issuePaths(minimal({ budget: { max_tokens: 1.5 } }))).toEqual(["budget.max_tokens"]);
    expect(issuePaths(minimal({ budget: { max_usd: 0 } }))).toEqual(["budget.max_usd"]);
    expect(issuePaths(minimal({ budget: { max_usd: Number.POSITIVE_INFINITY } }))).toEqual([
      "budget.max_usd",
    ]);
    expect(issuePaths(minimal({ budget: { max_duration_seconds: -1 } }))).toEqual([
      "budget.max_duration_seconds",
    ]);
    expect(validateMeta(minimal({ budget: { deadline_seconds: 5 } })).budget).toEqual({
      deadline_seconds: 5,
    });
    for (const bad of [0, -1, 1.5, "5"]) {
      expect(issuePaths(minimal({ budget: { deadline_seconds: bad } }))).toEqual([
        "budget.deadline_seconds",
      ]);
      expect(rejection(minimal({ budget: { deadline_seconds: bad } })).message).toContain(
        "deadline_seconds",
      );
    }
    expect(
      issuePaths(
        minimal({
          notifications: [
            { on: "budget_exceeded", channel: "email", target: "ops@x.dev", template: "t" },
          ],
        }),
      ),
    ).toEqual(["notifications.0"]);
    expect(
      issuePaths(
        minimal({ notifications: [{ on: "budget_exceeded", channel: "webhook", target: "u" }] }),
      ),
    ).toEqual(["notifications.0.channel"]);
  });

  it("checks concurrency, runs_on, callable_by, egress and container shapes", () => {
    expect(issuePaths(minimal({ concurrency: { mode: "serial_by_key" } }))).toEqual([
      "concurrency.key",
    ]);
    expect(issuePaths(minimal({ concurrency: { mode: "latest_wins" } }))).toEqual([
      "concurrency.mode",
    ]);
    expect(issuePaths(minimal({ runs_on: "boardwalk/windows" }))).toEqual(["runs_on"]);
    expect(issuePaths(minimal({ runs_on: { kind: "self-hosted", pool: "" } }))).toEqual([
      "runs_on.pool",
    ]);
    expect(
      validateMeta(minimal({ runs_on: { label: "boardwalk/linux-large", size: "xlarge" } }))
        .runs_on,
    ).toEqual({
      label: "boardwalk/linux-large",
      size: "xlarge",
    });
    expect(issuePaths(minimal({ callable_by: { roles: [] } }))).toEqual(["callable_by.roles"]);
    expect(issuePaths(minimal({ callable_by: { workflows: ["bad slug"] } }))).toEqual([
      "callable_by.workflows.0",
    ]);
    expect(issuePaths(minimal({ egress: { level: "custom", allow: [] } }))).toEqual([
      "egress.allow",
    ]);
    expect(issuePaths(minimal({ egress: { level: "full", allow: ["x"] } }))).toEqual(["egress"]);
    expect(issuePaths(minimal({ container: { image: "" } }))).toEqual(["container.image"]);
    expect(issuePaths(minimal({ permissions: { contents: "admin" } }))).toEqual([
      "permissions.contents",
    ]);
  });

  it("accepts every field the 0.2 line added, all at once", () => {
    const meta = minimal({
      triggers: [
        { kind: "cron", expr: "0 9 * * *", input: { report: "daily" } },
        { kind: "workflow_run", workflows: ["build", "test"], conclusions: ["success", "failure"] },
        { kind: "workflow_run", workflows: ["deploy"] },
      ],
      budget: { deadline_seconds: 600, max_duration_seconds: 300 },
      recording: true,
      env: { BOARDWALK_MODE: "strict", AWS_REGION: "eu-west-1" },
      runs_on: { kind: "self-hosted", labels: ["gpu"] },
      egress: { level: "custom", allow: ["api.example.com"], include_defaults: true },
    });
    const manifest = validateMeta(meta);
    expect(manifest.triggers).toEqual(meta["triggers"]);
    expect(manifest.runs_on).toEqual({ kind: "self-hosted", pool: "default", labels: ["gpu"] });
    expect(manifest.recording).toBe(true);
    expect(validateMeta(minimal({ runs_on: "boardwalk/linux-large" })).runs_on).toBe(
      "boardwalk/linux-large",
    );
    expect(validateMeta(minimal({ egress: { level: "trusted" } })).egress).toEqual({
      level: "trusted",
    });
  });

  it("checks workflow_run triggers and recording, naming the field", () => {
    const run = (extra: Record<string, unknown>) => ({ kind: "workflow_run", ...extra });
    expect(issuePaths(minimal({ triggers: [run({ workflows: [] })] }))).toEqual([
      "triggers.0.workflows",
    ]);
    const many = Array.from({ length: 21 }, (_, i) => `w${String(i)}`);
    expect(issuePaths(minimal({ triggers: [run({ workflows: many })] }))).toEqual([
      "triggers.0.workflows",
    ]);
    expect(issuePaths(minimal({ triggers: [run({ workflows: ["bad slug"] })] }))).toEqual([
      "triggers.0.workflows.0",
    ]);
    expect(issuePaths(minimal({ triggers: [run({ workflows: ["a"], conclusions: [] })] }))).toEqual(
      ["triggers.0.conclusions"],
    );
    expect(
      issuePaths(minimal({ triggers: [run({ workflows: ["a"], conclusions: ["skipped"] })] })),
    ).toEqual(["triggers.0.conclusions.0"]);
    expect(issuePaths(minimal({ triggers: [run({ workflows: ["a"], on: "x" })] }))).toEqual([
      "triggers.0",
    ]);
    expect(issuePaths(minimal({ recording: "yes" }))).toEqual(["recording"]);
  });

  it("round-trips a full manifest, adding only runs_on", () => {
    const full = {
      slug: "nightly-digest",
      title: "Nightly digest",
      description: "Summarises the day.",
      triggers: [
        {
          kind: "cron",
          expr: "0 9 * * 1-5",
          timezone: "America/Anchorage",
          input: { since: "yesterday" },
        },
        { kind: "webhook", auth: "signature" },
      ],
      permissions: { secrets: [{ name: "GH_TOKEN" }], contents: "read" },
      env: { REPO: "acme/app", GITHUB_TOKEN: "${{ secrets.GH_TOKEN }}" },
      input_schema: { type: "object" },
      output_schema: { type: "object", properties: {} },
      workspace: { persist: ["memory/digest"] },
      budget: {
        max_tokens: 200_000,
        max_usd: 2.5,
        max_duration_seconds: 900,
        deadline_seconds: 3600,
      },
      concurrency: { mode: "serial" },
      container: { image: "node:24" },
      callable_by: { roles: ["owner", "admin"] },
      egress: { level: "custom", allow: ["api.github.com"], include_defaults: true },
      notifications: [
        { on: "failure", channel: "email", target: "ops@acme.dev", template: "{{run.id}} failed" },
        { on: "budget_exceeded", channel: "email", target: "ops@acme.dev" },
      ],
    };
    expect(validateMeta(full)).toEqual({ ...full, runs_on: "boardwalk/linux" });
  });
});

describe("validateMeta: legacy aliases", () => {
  it("normalises name and top-level secrets", () => {
    const manifest = validateMeta({
      name: "digest",
      secrets: [{ name: "GH" }],
      triggers: [{ kind: "manual" }],
    });
    expect(manifest.slug).toBe("digest");
    expect(manifest.permissions).toEqual({ secrets: [{ name: "GH" }] });
    expect("name" in manifest).toBe(false);
    expect("secrets" in manifest).toBe(false);
    expect(manifest.title).toBeUndefined();
  });

  it("merges legacy secrets after existing ones, skipping duplicates", () => {
    const manifest = validateMeta({
      slug: "x",
      triggers: manual,
      permissions: { secrets: [{ name: "A" }], contents: "read" },
      secrets: [{ name: "B" }, { name: "A" }],
    });
    expect(manifest.permissions).toEqual({
      secrets: [{ name: "A" }, { name: "B" }],
      contents: "read",
    });
  });

  it("rejects name together with slug at name", () => {
    expect(issuePaths({ name: "x", slug: "x", triggers: manual })).toEqual(["name"]);
  });

  it("reports legacy-sourced problems at the paths the author wrote", () => {
    expect(issuePaths({ name: "has space", triggers: manual })).toEqual(["name"]);
    expect(issuePaths({ slug: "x", triggers: manual, secrets: [{ name: "" }] })).toEqual([
      "secrets.0.name",
    ]);
    expect(issuePaths({ slug: "x", triggers: manual, secrets: "GH" })).toEqual(["secrets"]);
  });

  it("validates and drops permissions.tools", () => {
    const manifest = validateMeta(minimal({ permissions: { tools: [{ name: "web_search" }] } }));
    expect(manifest.permissions).toEqual({});
    expect(issuePaths(minimal({ permissions: { tools: [{ name: "" }] } }))).toEqual([
      "permissions.tools.0.name",
    ]);
    expect(issuePaths(minimal({ permissions: { tools: [{ name: "t", extra: 1 }] } }))).toEqual([
      "permissions.tools.0",
    ]);
  });

  it("normalises legacy spellings through workflowManifestSchema too", () => {
    const parsed = workflowManifestSchema.parse({
      name: "digest",
      secrets: [{ name: "GH" }],
      triggers: manual,
    });
    expect(parsed).toMatchObject({ slug: "digest", permissions: { secrets: [{ name: "GH" }] } });
    expect(
      workflowManifestSchema.safeParse({ name: "a", slug: "a", triggers: manual }).success,
    ).toBe(false);
  });
});

describe("canonicalManifestSchema", () => {
  it("is strict, canonical-only and convertible to JSON Schema", () => {
    expect(Object.keys(canonicalManifestSchema.shape)).toContain("slug");
    expect(canonicalManifestSchema.safeParse({ name: "x", triggers: manual }).success).toBe(false);
    const json = z.toJSONSchema(canonicalManifestSchema, { io: "input" });
    expect(json).toMatchObject({ type: "object", required: ["slug", "triggers"] });
  });
});

// What would break: the hand-written WorkflowMeta drifting from the schema, so `satisfies
// WorkflowMeta` accepts a key the schema rejects (or the reverse).
describe("WorkflowMeta agrees with the schema key for key", () => {
  type Input = z.input<typeof canonicalManifestSchema>;
  type Member<U, K extends PropertyKey> = Extract<U, Record<K, unknown>>;
  type KeysOf<T> = T extends unknown ? keyof T : never;

  it("top level", () => {
    expectTypeOf<Exclude<keyof WorkflowMetaFields, "secrets"> | "slug">().toEqualTypeOf<
      keyof Input
    >();
  });

  it("nested objects", () => {
    type Trigger = NonNullable<Input["triggers"]>[number];
    expectTypeOf<keyof CronTrigger>().toEqualTypeOf<KeysOf<Member<Trigger, "expr">>>();
    expectTypeOf<keyof WebhookTrigger>().toEqualTypeOf<KeysOf<Member<Trigger, "auth">>>();
    expectTypeOf<keyof WorkflowRunTrigger>().toEqualTypeOf<KeysOf<Member<Trigger, "workflows">>>();
    expectTypeOf<Exclude<keyof RunPermissions, "tools">>().toEqualTypeOf<
      keyof NonNullable<Input["permissions"]>
    >();
    expectTypeOf<keyof Workspace>().toEqualTypeOf<keyof NonNullable<Input["workspace"]>>();
    expectTypeOf<keyof Budget>().toEqualTypeOf<keyof NonNullable<Input["budget"]>>();
    expectTypeOf<keyof HostedRunsOnObject>().toEqualTypeOf<
      KeysOf<Member<NonNullable<Input["runs_on"]>, "label">>
    >();
    expectTypeOf<keyof SelfHostedRunsOn>().toEqualTypeOf<
      KeysOf<Member<NonNullable<Input["runs_on"]>, "kind">>
    >();
    expectTypeOf<KeysOf<EgressPolicy>>().toEqualTypeOf<KeysOf<NonNullable<Input["egress"]>>>();
    expectTypeOf<KeysOf<Notification>>().toEqualTypeOf<
      KeysOf<NonNullable<Input["notifications"]>[number]>
    >();
    expectTypeOf<keyof ToolGrant>().toEqualTypeOf<"name" | "config" | "scope">();
  });

  it("accepts both spellings in the author type and yields canonical manifests", () => {
    const canonical = { slug: "a", triggers: [{ kind: "manual" }] } as const satisfies WorkflowMeta;
    const legacy = {
      name: "b",
      secrets: [{ name: "GH" }],
      triggers: [{ kind: "cron", expr: "0 9 * * *" }],
      permissions: { tools: [{ name: "web_search" }] },
    } as const satisfies WorkflowMeta;
    const parsed: WorkflowManifest[] = [validateMeta(canonical), validateMeta(legacy)];
    expect(parsed.map((m) => m.slug)).toEqual(["a", "b"]);
    expectTypeOf<WorkflowManifest["concurrency"]>().toEqualTypeOf<
      { mode: "unlimited" } | { mode: "serial" } | { mode: "serial_by_key"; key: string }
    >();
    // @ts-expect-error -- name and slug together are rejected by the type as well
    const both: WorkflowMeta = { slug: "a", name: "a", triggers: [] };
    expect(both).toBeDefined();
  });
});
