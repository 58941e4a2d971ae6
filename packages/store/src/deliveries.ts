/**
 * The `webhook_deliveries` table: the keys of verified webhook deliveries that started a run,
 * per workflow and webhook, until they expire (rules in `internal/deliveries.ts`). The check and
 * the write run inside the transaction that creates the run; each write deletes a small batch of
 * the workflow's expired keys. Statements are prepared on first use.
 */
import type Database from "better-sqlite3";
import type { TableContext } from "./internal/context.ts";
import { deliveryConflict, type DeliveryHolder } from "./internal/deliveries.ts";
import { EXPIRED_SWEEP_BATCH } from "./internal/request-keys.ts";
import type { WebhookDelivery } from "./types.ts";

interface Statements {
  find: Database.Statement<[string, number, string, number], DeliveryHolder>;
  remember: Database.Statement<[string, number, string, string | null, string, number, number]>;
  sweep: Database.Statement<[string, number, number]>;
}

export class DeliveryTable {
  readonly #c: TableContext;
  #s: Statements | undefined;

  constructor(context: TableContext) {
    this.#c = context;
  }

  get #statements(): Statements {
    const db = this.#c.db;
    this.#s ??= {
      find: db.prepare(
        `SELECT delivery_id AS deliveryId, run_id AS runId, received_at AS receivedAt FROM webhook_deliveries
         WHERE workflow_id = ? AND hook_index = ? AND key = ? AND expires_at > ?`,
      ),
      remember: db.prepare(
        `INSERT INTO webhook_deliveries (workflow_id, hook_index, key, delivery_id, run_id, received_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workflow_id, hook_index, key) DO UPDATE SET delivery_id = excluded.delivery_id,
           run_id = excluded.run_id, received_at = excluded.received_at, expires_at = excluded.expires_at`,
      ),
      sweep: db.prepare(
        `DELETE FROM webhook_deliveries WHERE (workflow_id, hook_index, key) IN (
           SELECT workflow_id, hook_index, key FROM webhook_deliveries
           WHERE workflow_id = ? AND expires_at <= ? ORDER BY expires_at LIMIT ?)`,
      ),
    };
    return this.#s;
  }

  /**
   * Inside the run-creating transaction: `CONFLICT` naming the earlier delivery when any key of
   * `delivery` is still remembered for this workflow's webhook.
   */
  refuseRepeat(workflowId: string, delivery: WebhookDelivery): void {
    const now = this.#c.settings.now();
    for (const key of delivery.keys) {
      const held = this.#statements.find.get(workflowId, delivery.hookIndex, key, now);
      if (held !== undefined) throw deliveryConflict(held);
    }
  }

  /**
   * Inside the run-creating transaction: remembers the delivery's keys with the run just
   * created, after deleting a batch of the workflow's expired keys.
   */
  remember(workflowId: string, delivery: WebhookDelivery, runId: string, receivedAt: number): void {
    const s = this.#statements;
    s.sweep.run(workflowId, receivedAt, EXPIRED_SWEEP_BATCH);
    for (const key of delivery.keys) {
      s.remember.run(
        workflowId,
        delivery.hookIndex,
        key,
        delivery.deliveryId,
        runId,
        receivedAt,
        delivery.expiresAt,
      );
    }
  }
}
