/**
 * What every table of the SQLite store shares: the connection (raw and through drizzle), the
 * settings, the id factory, the transactions and the feed. Built once by the store class.
 */
import type Database from "better-sqlite3";
import type { drizzle } from "drizzle-orm/better-sqlite3";
import type { Feed } from "../feed.ts";
import type { Settings, StoreHooks } from "../open.ts";
import type { Transactions } from "../transaction.ts";

export interface TableContext {
  readonly db: Database.Database;
  readonly orm: ReturnType<typeof drizzle>;
  readonly settings: Settings;
  /** A new ULID on the store's clock. */
  readonly newId: () => string;
  readonly tx: Transactions;
  readonly feed: Feed;
  /** Sees the SQL of reads that bypass drizzle (query-plan tests). */
  readonly logQuery: StoreHooks["logQuery"];
}
