/**
 * The manifest (`meta`) schema, validation and legacy normalisation. Owns the zod
 * schemas `canonicalManifestSchema` (strict, canonical spellings only) and
 * `workflowManifestSchema` (normalises legacy aliases first), and `validateMeta`, which collects
 * every issue into one `MetaValidationError` at the paths the author wrote. Schemas are built,
 * and zod loaded, on first use. Knows nothing about extraction, storage or scheduling.
 */
import type { z } from "zod";
import { cronExpressionProblem, isKnownTimeZone } from "./cron.ts";
import { lazyObject, loadZod, once } from "./internal/lazy.ts";
import { RETRYABLE_ERROR_CODES } from "./errors/retryable.ts";

const SLUG_PATTERN = /^[a-zA-Z0-9-]+$/;
const SECRET_REFERENCE = /^\$\{\{\s*secrets\.([A-Za-z0-9_-]+)\s*\}\}$/;
// `PROMENADE_` variables belong to the engine. (`BOARDWALK_` and `AWS_` keys are the program's:
// the SDK line accepts them.)
const RESERVED_ENV_PREFIX = /^PROMENADE_/i;
/** The run conclusions a `workflow_run` trigger may follow. */
const RUN_CONCLUSIONS = ["success", "failure", "cancelled"] as const;
const MAX_ENV_KEYS = 100;
const MAX_ENV_VALUE_LENGTH = 32_768;
/** Most attempts a retry policy may ask for (the first try included). */
const MAX_RETRY_ATTEMPTS = 100;
/** Longest single retry backoff, in seconds (one day). */
const MAX_BACKOFF_SECONDS = 86_400;

/** Why `path` is not a valid workspace-relative directory, or `undefined`. */
function relativeDirectoryProblem(path: string): string | undefined {
  if (path.startsWith("/")) return `"${path}" must be relative to the workspace (no leading "/")`;
  if (path.includes("\\")) return `"${path}" must use "/" separators, not "\\"`;
  const segments = path.split("/");
  if (segments.some((segment) => segment === "")) return `"${path}" has an empty path segment`;
  if (segments.some((segment) => segment === "." || segment === "..")) {
    return `"${path}" must not contain "." or ".." segments`;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function buildManifestSchemas() {
  const { z } = loadZod();
  const text = (min: number, max: number, what: string) =>
    z
      .string()
      .min(min, min === 1 ? `${what} must not be empty` : `${what} is too short`)
      .max(max, `${what} must be at most ${String(max)} characters`);

  const slug = text(1, 100, "slug").refine(
    (value) => value === "" || SLUG_PATTERN.test(value),
    "slug may contain only letters, digits and hyphens",
  );
  const secretRef = z.strictObject({ name: text(1, 120, "secret name") });
  const secretRefs = z.array(secretRef);
  const toolGrants = z.array(
    z.strictObject({
      name: text(1, 120, "tool name"),
      config: z.record(z.string(), z.unknown()).optional(),
      scope: z.array(text(1, 200, "scope entry")).optional(),
    }),
  );

  const cronTrigger = z.strictObject({
    kind: z.literal("cron"),
    expr: text(1, 120, "cron expression").superRefine((expr, ctx) => {
      if (expr.length === 0 || expr.length > 120) return;
      const problem = cronExpressionProblem(expr);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    }),
    timezone: text(1, 80, "timezone")
      .refine((zone) => zone.length === 0 || zone.length > 80 || isKnownTimeZone(zone), {
        message: 'unknown time zone; use an IANA name such as "America/Anchorage" or "UTC"',
      })
      .optional(),
    input: z.record(z.string(), z.unknown(), { error: "cron input must be an object" }).optional(),
  });
  const webhookTrigger = z.strictObject({
    kind: z.literal("webhook"),
    auth: z.enum(["token", "signature"], {
      error: 'webhook auth must be "token" or "signature"',
    }),
  });
  const manualTrigger = z.strictObject({ kind: z.literal("manual") });
  // Runs of other workflows ending: accepted and stored; this engine never fires it.
  const workflowRunTrigger = z.strictObject({
    kind: z.literal("workflow_run"),
    workflows: z
      .array(slug, { error: "workflows must be a list of workflow slugs" })
      .min(1, "workflows must name at least one workflow")
      .max(20, "workflows may name at most 20 workflows"),
    conclusions: z
      .array(z.enum(RUN_CONCLUSIONS, { error: `conclusions are ${RUN_CONCLUSIONS.join(", ")}` }))
      .min(1, "conclusions must not be empty; omit it to follow every conclusion")
      .optional(),
  });
  const trigger = z.discriminatedUnion("kind", [
    cronTrigger,
    webhookTrigger,
    manualTrigger,
    workflowRunTrigger,
  ]);

  const env = z.record(z.string(), z.string()).superRefine(
    (value, ctx) => {
      if (!isPlainObject(value)) return;
      const keys = Object.keys(value);
      if (keys.length > MAX_ENV_KEYS) {
        ctx.addIssue({
          code: "custom",
          message: `at most ${String(MAX_ENV_KEYS)} variables, got ${String(keys.length)}`,
        });
      }
      for (const key of keys) {
        const entry = value[key];
        if (key.length === 0 || key.length > 120) {
          ctx.addIssue({ code: "custom", path: [key], message: "key must be 1-120 characters" });
        } else if (RESERVED_ENV_PREFIX.test(key)) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `"${key}" uses the reserved prefix PROMENADE_ (it belongs to the engine); rename it`,
          });
        }
        if (typeof entry !== "string") continue;
        if (entry.length > MAX_ENV_VALUE_LENGTH) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `value must be at most ${String(MAX_ENV_VALUE_LENGTH)} characters`,
          });
        }
        if (entry.includes("${{") && !SECRET_REFERENCE.test(entry)) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message:
              'a secret reference must be the whole value, exactly "${{ secrets.NAME }}"; partial interpolation is not supported',
          });
        }
      }
    },
    { when: () => true },
  );

  const persistList = z
    .array(
      text(1, 512, "persist entry").superRefine((path, ctx) => {
        const problem = path === "" ? undefined : relativeDirectoryProblem(path);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      }),
    )
    .min(1, "persist list must not be empty; omit it or use false")
    .max(50, "persist list may hold at most 50 entries");
  const workspace = z.strictObject({
    persist: z
      .union([z.boolean(), persistList], {
        error: "persist must be true, false or a list of workspace-relative directories",
      })
      .optional(),
  });

  const positiveInt = (what: string) =>
    z.int({ error: `${what} must be an integer` }).positive(`${what} must be greater than 0`);
  const budget = z.strictObject({
    max_tokens: positiveInt("max_tokens").optional(),
    max_usd: z
      .number({ error: "max_usd must be a finite number" })
      .positive("max_usd must be greater than 0")
      .optional(),
    max_duration_seconds: positiveInt("max_duration_seconds").optional(),
    deadline_seconds: positiveInt("deadline_seconds").optional(),
  });

  // The retry policy (a Promenade addition, off when absent): every message names the field and
  // the value that would be accepted.
  const seconds = (what: string) =>
    z
      .number({ error: `${what} must be a number of seconds` })
      .positive(`${what} must be greater than 0`)
      .max(MAX_BACKOFF_SECONDS, `${what} must be at most ${String(MAX_BACKOFF_SECONDS)} (one day)`);
  const backoff = z
    .strictObject({
      initial_seconds: seconds("initial_seconds"),
      factor: z
        .number({ error: "factor must be a number" })
        .min(1, "factor must be at least 1 (1 waits the same each time, 2 doubles the wait)")
        .max(100, "factor must be at most 100")
        .optional(),
      max_seconds: seconds("max_seconds").optional(),
    })
    .superRefine((value, ctx) => {
      const { initial_seconds: initial, max_seconds: max } = value;
      // Only two valid waits compare; an invalid one already has its own issue.
      if (max === undefined || !(max > 0 && initial > 0)) return;
      if (max < initial) {
        ctx.addIssue({
          code: "custom",
          path: ["max_seconds"],
          message: `max_seconds (${String(max)}) must be at least initial_seconds (${String(initial)})`,
        });
      }
    });
  const known = RETRYABLE_ERROR_CODES.join(", ");
  const code = z
    .string({ error: `each code must be a string, one of ${known}` })
    .superRefine((value, ctx) => {
      if (!(RETRYABLE_ERROR_CODES as readonly string[]).includes(value)) {
        ctx.addIssue({
          code: "custom",
          message: `${JSON.stringify(value)} is not a retryable error code; use one of ${known}`,
        });
      }
    });
  const retry = z.strictObject({
    attempts: z
      .int({ error: "attempts must be an integer (it counts the first try; e.g. 3)" })
      .min(1, "attempts must be at least 1 (it counts the first try; 1 means no retry)")
      .max(MAX_RETRY_ATTEMPTS, `attempts must be at most ${String(MAX_RETRY_ATTEMPTS)}`),
    backoff: backoff.optional(),
    retry_on: z
      .array(code, { error: `retry_on must be a list of error codes (${known})` })
      .min(1, `retry_on must not be empty; omit it to retry ${known}`)
      .optional(),
  });

  const concurrency = z.discriminatedUnion("mode", [
    z.strictObject({ mode: z.literal("unlimited") }),
    z.strictObject({ mode: z.literal("serial") }),
    z.strictObject({ mode: z.literal("serial_by_key"), key: text(1, 200, "concurrency key") }),
  ]);

  const hostedLabel = z.enum([
    "boardwalk/linux",
    "boardwalk/linux-node",
    "boardwalk/linux-python",
    "boardwalk/linux-large",
  ]);
  const runsOn = z.union(
    [
      hostedLabel,
      z.strictObject({
        label: hostedLabel,
        size: z.enum(["small", "medium", "large", "xlarge"]).optional(),
      }),
      z.strictObject({
        kind: z.literal("self-hosted"),
        pool: text(1, 120, "pool").default("default"),
        labels: z.array(text(1, 120, "label")).optional(),
      }),
    ],
    {
      error:
        'runs_on must be a hosted label ("boardwalk/linux", …), { label, size? } or { kind: "self-hosted", pool, labels? }',
    },
  );

  const access = z.enum(["none", "read", "write"]);
  const permissions = z.strictObject({
    id_token: z.enum(["none", "write"]).optional(),
    artifacts: access.optional(),
    contents: access.optional(),
    secrets: secretRefs.optional(),
  });

  const callableBy = z.union(
    [
      z.enum(["anyone_in_org", "users_only", "workflows_only"]),
      z.strictObject({
        roles: z
          .array(z.enum(["owner", "admin", "member", "viewer"]))
          .min(1, "roles must not be empty"),
      }),
      z.strictObject({ workflows: z.array(slug).min(1, "workflows must not be empty") }),
    ],
    {
      error:
        'callable_by must be "anyone_in_org", "users_only", "workflows_only", { roles } or { workflows }',
    },
  );

  const egress = z.discriminatedUnion("level", [
    z.strictObject({
      level: z.literal("custom"),
      allow: z.array(text(1, 256, "allow entry")).min(1, "allow must not be empty"),
      include_defaults: z.boolean().optional(),
    }),
    z.strictObject({ level: z.enum(["none", "trusted", "full"]) }),
  ]);

  const target = text(1, 2048, "target");
  const notification = z.discriminatedUnion("on", [
    z.strictObject({ on: z.literal("budget_exceeded"), channel: z.literal("email"), target }),
    z.strictObject({
      on: z.enum(["completion", "failure", "cancelled"]),
      channel: z.enum(["email", "webhook"]),
      target,
      template: z.string().max(10_000, "template must be at most 10000 characters").optional(),
    }),
  ]);

  const canonicalManifestSchema = z
    .strictObject({
      slug,
      title: text(1, 200, "title")
        .refine((title) => !title.includes("\n"), "title must be a single line")
        .optional(),
      description: z.string().max(1000, "description must be at most 1000 characters").optional(),
      triggers: z.array(trigger).min(1, "at least one trigger is required"),
      permissions: permissions.optional(),
      env: env.optional(),
      input_schema: z.record(z.string(), z.unknown()).optional(),
      output_schema: z.record(z.string(), z.unknown()).optional(),
      workspace: workspace.optional(),
      budget: budget.optional(),
      retry: retry.optional(),
      concurrency: concurrency.default(() => ({ mode: "unlimited" as const })),
      runs_on: runsOn.default("boardwalk/linux"),
      container: z.strictObject({ image: text(1, 512, "image") }).optional(),
      callable_by: callableBy.default("anyone_in_org"),
      egress: egress.optional(),
      notifications: z.array(notification).optional(),
      // Session recording of hosted runs: accepted, not enforced here.
      recording: z.boolean({ error: "recording must be true or false" }).optional(),
    })
    .superRefine(
      (manifest, ctx) => {
        for (const issue of undeclaredSecretReferences(manifest)) {
          ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
        }
      },
      { when: () => true },
    );

  const workflowManifestSchema = z.preprocess((raw, ctx) => {
    const normalized = normalizeLegacy(raw, { secretRefs, toolGrants });
    for (const issue of normalized.issues) {
      ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    }
    return normalized.value;
  }, canonicalManifestSchema);

  return { canonicalManifestSchema, workflowManifestSchema, secretRefs, toolGrants };
}

/**
 * `env` values referencing a secret the allow-list does not declare. Works on unvalidated input:
 * zod skips object refinements after some nested failures, and validateMeta must still report it.
 */
function undeclaredSecretReferences(raw: unknown): RawIssue[] {
  if (!isPlainObject(raw) || !isPlainObject(raw["env"])) return [];
  const declared = declaredSecretNames(raw["permissions"]);
  const issues: RawIssue[] = [];
  for (const [key, value] of Object.entries(raw["env"])) {
    const name = typeof value === "string" ? SECRET_REFERENCE.exec(value)?.[1] : undefined;
    if (name !== undefined && !declared.has(name)) {
      issues.push({
        path: ["env", key],
        message: `references secret "${name}", which is not declared; add { name: "${name}" } to permissions.secrets`,
      });
    }
  }
  return issues;
}

function declaredSecretNames(permissions: unknown): Set<string> {
  const names = new Set<string>();
  if (!isPlainObject(permissions) || !Array.isArray(permissions["secrets"])) return names;
  for (const entry of permissions["secrets"] as unknown[]) {
    if (isPlainObject(entry) && typeof entry["name"] === "string") names.add(entry["name"]);
  }
  return names;
}

type ManifestSchemas = ReturnType<typeof buildManifestSchemas>;
const manifestSchemas = once(buildManifestSchemas);

/** One problem found in a manifest, at the path the author wrote. */
export interface MetaIssue {
  /** Dotted path (`triggers.0.expr`), or `(root)` for the top-level object. */
  readonly path: string;
  readonly message: string;
}

interface RawIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * Rewrites legacy spellings to canonical ones: `name` → `slug`, top-level
 * `secrets` merged into `permissions.secrets`, `permissions.tools` validated and dropped. Never
 * mutates its input. Issues are reported at the legacy paths.
 */
function normalizeLegacy(
  raw: unknown,
  schemas: Pick<ManifestSchemas, "secretRefs" | "toolGrants">,
): { value: unknown; issues: RawIssue[]; renamedSlug: boolean } {
  const issues: RawIssue[] = [];
  if (!isPlainObject(raw)) return { value: raw, issues, renamedSlug: false };
  const value: Record<string, unknown> = { ...raw };
  let renamedSlug = false;
  const prefixed = (prefix: PropertyKey[], found: readonly z.core.$ZodIssue[]) => {
    for (const issue of describeIssues(found)) {
      issues.push({ path: [...prefix, ...issue.path], message: issue.message });
    }
  };

  if (Object.hasOwn(value, "name")) {
    if (Object.hasOwn(value, "slug")) {
      issues.push({
        path: ["name"],
        message: 'legacy alias of "slug"; a manifest may not have both, remove "name"',
      });
    } else {
      value["slug"] = value["name"];
      renamedSlug = true;
    }
    delete value["name"];
  }

  const permissions = value["permissions"];
  if (isPlainObject(permissions) && Object.hasOwn(permissions, "tools")) {
    const grants = schemas.toolGrants.safeParse(permissions["tools"]);
    if (!grants.success) prefixed(["permissions", "tools"], grants.error.issues);
    const { tools: _dropped, ...rest } = permissions;
    value["permissions"] = rest;
  }

  if (Object.hasOwn(value, "secrets")) {
    const legacy = schemas.secretRefs.safeParse(value["secrets"]);
    delete value["secrets"];
    if (!legacy.success) {
      prefixed(["secrets"], legacy.error.issues);
    } else {
      const current = value["permissions"];
      if (current === undefined) {
        value["permissions"] = { secrets: legacy.data };
      } else if (isPlainObject(current)) {
        const existing = current["secrets"];
        if (existing === undefined || Array.isArray(existing)) {
          const present = declaredSecretNames(current);
          const added = legacy.data.filter((ref) => !present.has(ref.name));
          const kept: unknown[] = Array.isArray(existing) ? existing : [];
          value["permissions"] = { ...current, secrets: [...kept, ...added] };
        }
      }
    }
  }
  return { value, issues, renamedSlug };
}

const CAPABILITY_KEYS = new Set(["tools", "mcp", "skills", "memory", "model", "provider"]);

/** Turns zod issues into author-facing `{ path, message }` pairs (union branches resolved). */
function describeIssues(issues: readonly z.core.$ZodIssue[]): RawIssue[] {
  const out: RawIssue[] = [];
  for (const issue of issues) {
    const path = [...issue.path];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const why =
          path.length === 0 && CAPABILITY_KEYS.has(key)
            ? "; agent capabilities are per call, pass them to agent() instead"
            : "";
        out.push({ path, message: `unknown key "${key}"${why}` });
      }
    } else if (
      issue.code === "invalid_union" &&
      issue.discriminator !== undefined &&
      issue.errors.length === 0 &&
      issue.inclusive !== false
    ) {
      const options = (issue.options ?? []).map((option) => JSON.stringify(option));
      out.push({
        path,
        message: `unknown ${issue.discriminator}; expected one of ${options.join(", ")}`,
      });
    } else if (issue.code === "invalid_union") {
      const branch = closestBranch(issue.errors);
      if (branch === undefined) {
        out.push({ path, message: issue.message });
      } else {
        for (const inner of describeIssues(branch)) {
          out.push({ path: [...path, ...inner.path], message: inner.message });
        }
      }
    } else if (issue.code === "invalid_type" && / received undefined$/.test(issue.message)) {
      out.push({ path, message: `required (${issue.expected})` });
    } else {
      out.push({ path, message: issue.message.replace(/^Invalid input: /, "") });
    }
  }
  return out;
}

/**
 * Picks the union branch the author most plausibly meant: a branch failing on a nested value
 * beats one failing on shape (unknown or missing keys), which beats one rejecting the value's
 * type outright. `undefined` when no single branch stands out.
 */
function closestBranch(
  branches: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] | undefined {
  const rank = (branch: readonly z.core.$ZodIssue[]): number => {
    if (
      branch.some(
        (i) => i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value"),
      )
    )
      return 0;
    if (
      branch.some(
        (i) =>
          i.code === "unrecognized_keys" ||
          (i.code === "invalid_type" && / received undefined$/.test(i.message)),
      )
    )
      return 1;
    return 2;
  };
  const ranks = branches.map(rank);
  const best = Math.max(0, ...ranks);
  if (best === 0) return undefined;
  const winners = branches.filter((_, index) => ranks[index] === best);
  return winners.length === 1 ? winners[0] : undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(root)" : path.map((part) => String(part)).join(".");
}

/**
 * Thrown by {@link validateMeta} with every issue found: the message is a header line, then one
 * `  <path>: <issue>` line per issue. `issues` holds the same list structured.
 */
export class MetaValidationError extends Error {
  override readonly name = "MetaValidationError";
  /** Every problem found, at the paths the author wrote. */
  readonly issues: readonly MetaIssue[];

  constructor(issues: readonly MetaIssue[], slug?: string) {
    const subject = slug === undefined ? "workflow meta" : `workflow meta for "${slug}"`;
    const count = `${String(issues.length)} issue${issues.length === 1 ? "" : "s"}`;
    super(
      [`Invalid ${subject} (${count}):`, ...issues.map((i) => `  ${i.path}: ${i.message}`)].join(
        "\n",
      ),
    );
    this.issues = issues;
  }
}

/**
 * Validates a workflow's `meta` and returns the canonical manifest: legacy aliases normalised,
 * defaults applied (`concurrency`, `runs_on`, `callable_by`). Throws {@link MetaValidationError}
 * listing every issue. Does not mutate its argument.
 */
export function validateMeta(meta: unknown): WorkflowManifest {
  const schemas = manifestSchemas();
  const normalized = normalizeLegacy(meta, schemas);
  const result = schemas.canonicalManifestSchema.safeParse(normalized.value);
  const issues: MetaIssue[] = normalized.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  if (!result.success) {
    const found = [...describeIssues(result.error.issues)];
    const seen = new Set(found.map((issue) => `${formatPath(issue.path)}\0${issue.message}`));
    for (const issue of undeclaredSecretReferences(normalized.value)) {
      if (!seen.has(`${formatPath(issue.path)}\0${issue.message}`)) found.push(issue);
    }
    for (const issue of found) {
      const path =
        normalized.renamedSlug && issue.path[0] === "slug"
          ? ["name", ...issue.path.slice(1)]
          : issue.path;
      issues.push({ path: formatPath(path), message: issue.message });
    }
  }
  if (issues.length > 0 || !result.success) {
    const slug = isPlainObject(normalized.value) ? normalized.value["slug"] : undefined;
    throw new MetaValidationError(
      issues,
      typeof slug === "string" && SLUG_PATTERN.test(slug) ? slug : undefined,
    );
  }
  return result.data;
}

/**
 * The strict canonical manifest schema (Promenade addition): no alias handling, has `.shape`,
 * usable with `z.toJSONSchema`. Built on first use.
 */
export const canonicalManifestSchema: ManifestSchemas["canonicalManifestSchema"] = lazyObject(
  () => manifestSchemas().canonicalManifestSchema,
);

/**
 * The manifest schema: normalises legacy aliases, then applies the canonical schema. A direct
 * `safeParse` may report canonical paths; prefer {@link validateMeta} for author-facing errors.
 */
export const workflowManifestSchema: ManifestSchemas["workflowManifestSchema"] = lazyObject(
  () => manifestSchemas().workflowManifestSchema,
);

/** A parsed, canonical manifest: defaults present, no legacy keys. */
export type WorkflowManifest = z.infer<ManifestSchemas["workflowManifestSchema"]>;
