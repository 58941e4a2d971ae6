/**
 * The `workflows` table: upsert by slug and the reads, with the caches that keep the start
 * path and the scheduler's tick from re-parsing manifests. This process holds the database
 * lock, so only `upsert` (or a rollback around it) can change a row: the caches are dropped
 * exactly then, and never filled inside a transaction (it may still roll back). Undeploy is the
 * other change and drops them too. Reads by slug and the list see deployed workflows only; a read
 * by id also finds an undeployed one (its runs still name it).
 */
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { EngineError } from "@promenade/workflow/errors";
import type { WorkflowRow } from "@promenade/workflow/records";
import { describe, requireString, validation } from "./internal/args.ts";
import type { TableContext } from "./internal/context.ts";
import { checkSize, toJsonText } from "./internal/json.ts";
import { describeIssues, toWorkflowRow } from "./internal/rows.ts";
import { manifestSchema } from "./internal/sdk.ts";
import { workflows } from "./schema.ts";
import type { ListWorkflowsOptions, UpsertWorkflowArgs } from "./types.ts";
import { skillsText } from "./internal/versions.ts";
import type { VersionTable } from "./versions.ts";

type RawWorkflow = typeof workflows.$inferSelect;

export class WorkflowTable {
  readonly #c: TableContext;
  readonly #versions: VersionTable;
  readonly #bySlug;
  readonly #byId;
  readonly #key;
  /** list() as last committed. */
  #all: readonly WorkflowRow[] | undefined = undefined;
  /** get()/getById() rows as last committed, keyed `slug:<slug>` / `id:<id>` (frozen, shared). */
  readonly #rows = new Map<string, WorkflowRow>();

  constructor(context: TableContext, versions: VersionTable) {
    this.#c = context;
    this.#versions = versions;
    const p = sql.placeholder;
    const { orm } = context;
    this.#bySlug = orm
      .select()
      .from(workflows)
      .where(and(eq(workflows.slug, p("slug")), isNull(workflows.undeployedAt)))
      .prepare();
    this.#byId = orm
      .select()
      .from(workflows)
      .where(eq(workflows.id, p("id")))
      .prepare();
    this.#key = orm
      .select({ id: workflows.id, slug: workflows.slug })
      .from(workflows)
      .where(eq(workflows.id, p("id")))
      .prepare();
  }

  /** The workflow deployed under `slug`, or `null` (also when it was undeployed). */
  get(slug: string): WorkflowRow | null {
    if (typeof slug !== "string")
      throw validation(`getWorkflow(slug): slug must be a string, got ${describe(slug)}.`);
    return this.#cached(`slug:${slug}`, () => this.#bySlug.get({ slug }));
  }

  /** The workflow with this id, deployed or undeployed, or `null`. */
  getById(id: string): WorkflowRow | null {
    if (typeof id !== "string")
      throw validation(`getWorkflowById(id): id must be a string, got ${describe(id)}.`);
    return this.#cached(`id:${id}`, () => this.#byId.get({ id }));
  }

  /** Id and slug of the workflow, or `undefined` (one indexed read, no parsing). */
  key(id: string): { id: string; slug: string } | undefined {
    return this.#key.get({ id });
  }

  /**
   * Every startRun reads its workflow; re-parsing and re-validating the manifest JSON each time
   * is measurable start latency. Misses are not remembered.
   */
  #cached(key: string, read: () => RawWorkflow | undefined): WorkflowRow | null {
    const cached = this.#rows.get(key);
    if (cached !== undefined) return cached;
    const raw = read();
    if (raw === undefined) return null;
    const row = Object.freeze(toWorkflowRow(raw));
    if (!this.#c.tx.open) {
      if (row.undeployedAt === null) this.#rows.set(`slug:${row.slug}`, row);
      this.#rows.set(`id:${row.id}`, row);
    }
    return row;
  }

  /** Forgets every cached row (an upsert or undeploy, or a rollback that may have undone one). */
  dropCaches(): void {
    this.#all = undefined;
    this.#rows.clear();
  }

  /** Every deployed workflow (and the undeployed ones on request), by slug ascending. */
  list(options: ListWorkflowsOptions = {}): WorkflowRow[] {
    if (typeof options !== "object" || options === null) {
      throw validation(
        `listWorkflows(options): options must be an object, got ${describe(options)}.`,
      );
    }
    // The scheduler lists every workflow on every tick; re-reading and re-validating 10,000
    // manifests each second would dominate an idle tick.
    let rows = this.#all;
    if (rows === undefined) {
      rows = this.#c.orm
        .select()
        .from(workflows)
        .orderBy(asc(workflows.slug))
        .all()
        .map((raw) => Object.freeze(toWorkflowRow(raw)));
      if (!this.#c.tx.open) this.#all = rows;
    }
    return options.includeUndeployed === true
      ? rows.slice()
      : rows.filter((row) => row.undeployedAt === null);
  }

  /**
   * Marks the workflow deployed under `slug` undeployed at `now`; its row, versions and runs stay.
   * `null` when no workflow is deployed under `slug`.
   */
  undeploy(slug: string): WorkflowRow | null {
    if (typeof slug !== "string")
      throw validation(`undeployWorkflow(slug): slug must be a string, got ${describe(slug)}.`);
    const now = this.#c.settings.now();
    const raw = this.#c.orm
      .update(workflows)
      .set({ undeployedAt: now })
      .where(and(eq(workflows.slug, slug), isNull(workflows.undeployedAt)))
      .returning()
      .get();
    this.dropCaches();
    return raw === undefined ? null : toWorkflowRow(raw);
  }

  /** Inserts or updates by slug; `id`/`createdAt` never change. */
  upsert(args: UpsertWorkflowArgs): WorkflowRow {
    const { settings } = this.#c;
    if (typeof args !== "object" || args === null) {
      throw validation("upsertWorkflow(args): args must be an object.");
    }
    const slug = requireString(args.slug, "upsertWorkflow: slug");
    const parsed = manifestSchema.safeParse(args.manifest);
    if (!parsed.success) {
      throw validation(
        `upsertWorkflow: manifest of "${slug}" is invalid: ${describeIssues(parsed.error)}.`,
        "Deploy a manifest produced by the SDK's validateMeta/extractManifest.",
      );
    }
    if (parsed.data.slug !== slug) {
      throw validation(
        `upsertWorkflow: slug "${slug}" does not match manifest.slug "${parsed.data.slug}".`,
      );
    }
    const manifest = toJsonText(parsed.data, `manifest of "${slug}"`, settings.maxValueBytes);
    if (typeof args.program !== "string") {
      throw validation(
        `upsertWorkflow: program of "${slug}" must be a string, got ${describe(args.program)}.`,
      );
    }
    checkSize(args.program, `program of "${slug}"`, settings.maxProgramBytes);
    const configValue = args.config ?? {};
    if (typeof configValue !== "object" || configValue === null || Array.isArray(configValue)) {
      throw validation(
        `upsertWorkflow: config of "${slug}" must be a JSON object, got ${describe(configValue)}.`,
      );
    }
    const config = toJsonText(configValue, `config of "${slug}"`, settings.maxValueBytes);
    const skills = skillsText(args.skills, slug, settings.maxValueBytes);
    return this.#c.tx.atomic(() => {
      const now = settings.now();
      this.#c.orm
        .insert(workflows)
        .values({
          id: this.#c.newId(),
          slug,
          manifest,
          program: args.program,
          config,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: workflows.slug,
          set: { manifest, program: args.program, config, updatedAt: now, undeployedAt: null },
        })
        .run();
      const raw = this.#bySlug.get({ slug });
      if (raw === undefined)
        throw new EngineError("INTERNAL", `Workflow "${slug}" vanished after upsert.`);
      this.#versions.record(raw.id, { manifest, program: args.program, config, skills }, now);
      return toWorkflowRow(raw);
    });
  }
}
