/**
 * The `artifacts` table: records of files a run wrote (the bytes stay on disk, never in the
 * database), listed in creation order.
 */
import { isAbsolute } from "node:path";
import { eq, sql } from "drizzle-orm";
import { EngineError } from "@promenade/workflow/errors";
import type { ArtifactRow } from "@promenade/workflow/records";
import {
  describe,
  requireInteger,
  requireString,
  sqliteCode,
  validation,
} from "./internal/args.ts";
import type { TableContext } from "./internal/context.ts";
import { toJsonText } from "./internal/json.ts";
import { toArtifactRow } from "./internal/rows.ts";
import { artifacts } from "./schema.ts";
import type { CreateArtifactArgs } from "./types.ts";

const MAX_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

export class ArtifactTable {
  readonly #c: TableContext;
  readonly #byRun;

  constructor(context: TableContext) {
    this.#c = context;
    this.#byRun = context.orm
      .select()
      .from(artifacts)
      .where(eq(artifacts.runId, sql.placeholder("runId")))
      .orderBy(sql`rowid`)
      .prepare();
  }

  /** Records an artifact. Bad name/path/size ⇒ `VALIDATION`; unknown run ⇒ `NOT_FOUND`. */
  create(args: CreateArtifactArgs): ArtifactRow {
    if (typeof args !== "object" || args === null)
      throw validation("createArtifact(args): args must be an object.");
    const runId = requireString(args.runId, "createArtifact: runId");
    const name = requireString(args.name, "createArtifact: name");
    if (name.length > MAX_NAME_LENGTH || /[/\\\0]/.test(name) || name === "." || name === "..") {
      throw validation(
        `createArtifact: name ${describe(name)} is not a plain file name.`,
        `Use a name without "/", "\\" or NUL, at most ${String(MAX_NAME_LENGTH)} characters.`,
      );
    }
    const contentType = requireString(args.contentType, "createArtifact: contentType");
    if (contentType.length > MAX_NAME_LENGTH) {
      throw validation(
        `createArtifact: contentType is longer than ${String(MAX_NAME_LENGTH)} characters.`,
      );
    }
    const path = requireString(args.path, "createArtifact: path");
    if (path.length > MAX_PATH_LENGTH) {
      throw validation(
        `createArtifact: path is longer than ${String(MAX_PATH_LENGTH)} characters.`,
      );
    }
    if (!isAbsolute(path))
      throw validation(`createArtifact: path ${describe(path)} must be absolute.`);
    const size = requireInteger(args.size, "createArtifact: size", 0);
    let metadata: string | null = null;
    if (args.metadata !== undefined) {
      const value: unknown = args.metadata;
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw validation(`createArtifact: metadata must be a JSON object, got ${describe(value)}.`);
      }
      metadata = toJsonText(value, "createArtifact: metadata", this.#c.settings.maxValueBytes);
    }
    const raw = {
      id: this.#c.newId(),
      runId,
      name,
      contentType,
      path,
      size,
      metadata,
      createdAt: this.#c.settings.now(),
    };
    try {
      this.#c.orm.insert(artifacts).values(raw).run();
    } catch (error) {
      if (sqliteCode(error) === "SQLITE_CONSTRAINT_FOREIGNKEY")
        throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
      throw error;
    }
    return toArtifactRow(raw);
  }

  /** The run's artifacts in creation order. */
  list(runId: string): ArtifactRow[] {
    if (typeof runId !== "string")
      throw validation(`listArtifacts(runId): runId must be a string, got ${describe(runId)}.`);
    return this.#byRun.all({ runId }).map(toArtifactRow);
  }
}
