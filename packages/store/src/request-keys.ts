/**
 * The `run_request_keys` table: the binding of a client's retry key (an HTTP `Idempotency-Key`)
 * to the run its first request created, per workflow (rules in `internal/request-keys.ts`). The
 * lookup and the binding run inside the transaction that creates the run; each binding deletes a
 * small batch of the workflow's expired bindings. Statements are prepared on first use.
 */
import type Database from "better-sqlite3";
import type { TableContext } from "./internal/context.ts";
import {
  EXPIRED_SWEEP_BATCH,
  REQUEST_KEY_TTL_MS,
  isBound,
  requestKeyConflict,
} from "./internal/request-keys.ts";
import type { RequestKey } from "./types.ts";

interface Binding {
  fingerprint: string;
  runId: string;
  createdAt: number;
}

interface Statements {
  find: Database.Statement<[string, string], Binding>;
  bind: Database.Statement<[string, string, string, string, number]>;
  sweep: Database.Statement<[string, string, number, number]>;
}

export class RequestKeyTable {
  readonly #c: TableContext;
  #s: Statements | undefined;

  constructor(context: TableContext) {
    this.#c = context;
  }

  get #statements(): Statements {
    const db = this.#c.db;
    this.#s ??= {
      find: db.prepare(
        "SELECT fingerprint, run_id AS runId, created_at AS createdAt FROM run_request_keys WHERE workflow_id = ? AND key = ?",
      ),
      bind: db.prepare(
        `INSERT INTO run_request_keys (workflow_id, key, fingerprint, run_id, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (workflow_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, run_id = excluded.run_id, created_at = excluded.created_at`,
      ),
      sweep: db.prepare(
        `DELETE FROM run_request_keys WHERE workflow_id = ? AND key IN (
           SELECT key FROM run_request_keys WHERE workflow_id = ? AND created_at <= ? ORDER BY created_at LIMIT ?)`,
      ),
    };
    return this.#s;
  }

  /**
   * Inside the run-creating transaction: the id of the run `requestKey` is bound to in
   * `workflowId` (same fingerprint, within the window), `null` when the key is free, or
   * `CONFLICT` when it is bound to a run of a different request.
   */
  find(workflowId: string, requestKey: RequestKey): string | null {
    const found = this.#statements.find.get(workflowId, requestKey.key);
    if (found === undefined || !isBound(found.createdAt, this.#c.settings.now())) return null;
    if (found.fingerprint !== requestKey.fingerprint) {
      throw requestKeyConflict(requestKey.key, found.runId);
    }
    return found.runId;
  }

  /**
   * Inside the run-creating transaction: binds a free key to the run just created, after
   * deleting a batch of the workflow's expired bindings.
   */
  bind(workflowId: string, requestKey: RequestKey, runId: string, createdAt: number): void {
    const s = this.#statements;
    s.sweep.run(workflowId, workflowId, createdAt - REQUEST_KEY_TTL_MS, EXPIRED_SWEEP_BATCH);
    s.bind.run(workflowId, requestKey.key, requestKey.fingerprint, runId, createdAt);
  }
}
