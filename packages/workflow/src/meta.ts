/**
 * The author-facing manifest types: what programs write with
 * `export const meta = { … } satisfies WorkflowMeta`. They mirror the input side of the manifest
 * schema (defaults optional, arrays readonly so `as const` works) and also accept the legacy
 * spellings. Types only: no JavaScript is emitted. A unit test keeps them key-for-key in step
 * with `canonicalManifestSchema`.
 */

/** A cron schedule; `timezone` is an IANA zone, UTC when omitted. */
export interface CronTrigger {
  kind: "cron";
  /** 5 fields (`minute hour day-of-month month day-of-week`) or 6 (`second` first). */
  expr: string;
  timezone?: string;
  /** Static input of every fire: each run this trigger starts gets it as its input. */
  input?: Record<string, unknown>;
}

/** An HTTP webhook; `token` = bearer token, `signature` = HMAC-SHA256 of the body. */
export interface WebhookTrigger {
  kind: "webhook";
  auth: "token" | "signature";
}

/** Declarative manual start (starting through the API does not require it). */
export interface ManualTrigger {
  kind: "manual";
}

/**
 * Runs of other workflows ending with one of `conclusions` (every conclusion when omitted).
 * Accepted and stored; this engine never fires it (deploy logs a notice).
 */
export interface WorkflowRunTrigger {
  kind: "workflow_run";
  /** 1–20 workflow slugs. */
  workflows: readonly string[];
  conclusions?: readonly ("success" | "failure" | "cancelled")[];
}

/** What starts a workflow; a trigger's index in `triggers` is its identity. */
export type Trigger = CronTrigger | WebhookTrigger | ManualTrigger | WorkflowRunTrigger;

/** A secret allow-list entry: a name, never a value. 1–120 chars. */
export interface SecretRef {
  name: string;
}

/** Environment overlay; a value may be exactly one `${{ secrets.NAME }}` reference. */
export type EnvVars = Record<string, string>;

/** Persisted workspace state: `true` = everything, a list = these relative directories. */
export interface Workspace {
  persist?: boolean | readonly string[];
}

/** Enforced run budgets; a breach fails the run with `BUDGET_EXCEEDED`. */
export interface Budget {
  /** Integer > 0: input + output tokens over every leaf. */
  max_tokens?: number;
  /** Finite number > 0: estimated spend in US dollars. */
  max_usd?: number;
  /**
   * Integer > 0: time the run's processes were alive, summed over its passes (held waits and
   * sleeps count; time between passes and engine downtime do not).
   */
  max_duration_seconds?: number;
  /**
   * Integer > 0: wall clock from the first start, everything included (waits, engine downtime,
   * restarts); the run fails once that many seconds have passed.
   */
  deadline_seconds?: number;
}

/**
 * Waits between attempts of a {@link RetryPolicy}: the first retry waits `initial_seconds`, each
 * later one `factor` times the previous, never more than `max_seconds`.
 */
export interface RetryBackoff {
  /** Number > 0, at most 86 400: the wait before the first retry. */
  initial_seconds: number;
  /** Number ≥ 1 (default 2): how much each wait grows. */
  factor?: number;
  /** Number ≥ `initial_seconds`, at most 86 400: the longest wait. */
  max_seconds?: number;
}

/**
 * Promenade addition, off when absent: a run whose program fails with a retryable error code
 * starts again from the top (a pass with reason `retry`) until `attempts` are used. Budgets span
 * every attempt. `VALIDATION`, `BUDGET_EXCEEDED`, `SECRET_UNDECLARED`, `CANCELLED` and the other
 * deliberate outcomes never retry.
 */
export interface RetryPolicy {
  /** Integer 1–100: the most attempts, the first try included. */
  attempts: number;
  /** Waits between attempts; without it the next attempt starts at once. */
  backoff?: RetryBackoff;
  /** Codes to retry: any of `PROGRAM_ERROR`, `PROVIDER_ERROR`, `INTERNAL` (default: all three). */
  retry_on?: readonly ("PROGRAM_ERROR" | "PROVIDER_ERROR" | "INTERNAL")[];
}

/** How runs of one workflow may overlap. Default `{ mode: "unlimited" }`. */
export type Concurrency =
  { mode: "unlimited" } | { mode: "serial" } | { mode: "serial_by_key"; key: string };

/** Hosted runner labels (accepted and ignored by self-hosted engines). */
export type HostedRunsOn =
  "boardwalk/linux" | "boardwalk/linux-node" | "boardwalk/linux-python" | "boardwalk/linux-large";

/** Hosted runner sizes. */
export type HostedRunnerSize = "small" | "medium" | "large" | "xlarge";

/** A hosted runner label with a size. */
export interface HostedRunsOnObject {
  label: HostedRunsOn;
  size?: HostedRunnerSize;
}

/** A self-hosted runner pool. */
export interface SelfHostedRunsOn {
  kind: "self-hosted";
  /** Default `"default"`. */
  pool?: string;
  labels?: readonly string[];
}

/** Where a run executes. Default `"boardwalk/linux"`; stored, not enforced, when self-hosted. */
export type RunsOn = HostedRunsOn | HostedRunsOnObject | SelfHostedRunsOn;

/** A container image for hosted platforms (platform extension). */
export interface Container {
  image: string;
}

/** Access level of a platform permission. */
export type RunPermissionAccess = "none" | "read" | "write";

/** @deprecated Legacy tool grant: validated, then dropped (it never had an effect). */
export interface ToolGrant {
  name: string;
  config?: Record<string, unknown>;
  scope?: readonly string[];
}

/** Access grants; `secrets` is the enforced secret allow-list, the rest platform extensions. */
export interface RunPermissions {
  id_token?: "none" | "write";
  artifacts?: RunPermissionAccess;
  contents?: RunPermissionAccess;
  secrets?: readonly SecretRef[];
  /** @deprecated Tool grants are per call now (`agent({ tools })`); validated and dropped. */
  tools?: readonly ToolGrant[];
}

/** Organisation roles for `callable_by`. */
export type OrgRole = "owner" | "admin" | "member" | "viewer";

/** Who may start the workflow (platform extension). Default `"anyone_in_org"`. */
export type CallableBy =
  | "anyone_in_org"
  | "users_only"
  | "workflows_only"
  | { roles: readonly OrgRole[] }
  | { workflows: readonly string[] };

/** Network egress policy (platform extension). */
export type EgressPolicy =
  | { level: "none" | "trusted" | "full" }
  | { level: "custom"; allow: readonly string[]; include_defaults?: boolean };

/** A run notification (platform extension); `budget_exceeded` takes no `template`. */
export type Notification =
  | {
      on: "completion" | "failure" | "cancelled";
      channel: "email" | "webhook";
      target: string;
      template?: string;
    }
  | { on: "budget_exceeded"; channel: "email"; target: string };

/** Every manifest field except the identity (`slug` / legacy `name`). */
export interface WorkflowMetaFields {
  /** Display label, 1–200 chars, single line. */
  title?: string;
  /** Up to 1000 chars. */
  description?: string;
  /** At least one trigger. */
  triggers: readonly Trigger[];
  /** @deprecated use `permissions.secrets` */
  secrets?: readonly SecretRef[];
  env?: EnvVars;
  input_schema?: Record<string, unknown>;
  output_schema?: Record<string, unknown>;
  workspace?: Workspace;
  budget?: Budget;
  retry?: RetryPolicy;
  concurrency?: Concurrency;
  runs_on?: RunsOn;
  container?: Container;
  permissions?: RunPermissions;
  callable_by?: CallableBy;
  egress?: EgressPolicy;
  notifications?: readonly Notification[];
  /** Session recording of hosted runs (platform extension; not enforced). */
  recording?: boolean;
}

/**
 * The type of a workflow's `export const meta` (use with `satisfies`). `slug` is 1–100 chars of
 * letters, digits and hyphens; legacy programs may spell it `name`, but not both.
 */
export type WorkflowMeta = WorkflowMetaFields &
  (
    | { slug: string; name?: never }
    | {
        /** @deprecated use `slug` */
        name: string;
        slug?: never;
      }
  );
