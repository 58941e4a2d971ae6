/**
 * What the pieces of one supervisor share: its validated options and the few services its
 * registry provides (starting tracked processes, supervising another run, the closed flag).
 * The `RunSupervisor` builds one and hands it to the pass loop, the process, host-call and budget
 * code, so those files never reach into the class.
 */
import type { ChildProcess } from "node:child_process";
import type { Clock } from "@promenade/workflow/clock";
import type { Redactor } from "@promenade/workflow/redact";
import type { BootQueue } from "./internal/boot-queue.ts";
import { closedError } from "./internal/errors.ts";
import type { WarmPool } from "./internal/pool.ts";
import type { SpareRunDirs } from "./internal/run-dir.ts";
import type { SecretSource } from "./internal/secrets.ts";
import type {
  HostMethod,
  InjectedHostMethodName,
  PriceUsage,
  RunRow,
  SupervisorStore,
} from "./ports.ts";

/** One supervisor's shared state, as the rest of the package sees it. */
export interface SupervisorContext {
  readonly store: SupervisorStore;
  /** Root of artifacts, skills and durable workspace state (shared by a cluster's nodes). */
  readonly dataDir: string;
  /** Root of run working directories (local to the machine); `dataDir` unless set apart. */
  readonly workDir: string;
  /** The SDK root every run dir links to. */
  readonly sdkPackageDir: string;
  readonly secretSource: SecretSource;
  readonly clock: Clock;
  readonly maxRestarts: number;
  readonly cancelGraceMs: number;
  /** The operator's ceiling on the agent's built-in tools, handed to every run process. */
  readonly agentBuiltins: "all" | "read-only" | "none";
  readonly priceUsage: PriceUsage;
  readonly hostMethods: Partial<Record<InjectedHostMethodName, HostMethod>>;
  /** Run dirs prepared ahead of time. */
  readonly spares: SpareRunDirs;
  /** Where run processes wait to be created (a bounded number booting at once). */
  readonly boots: BootQueue;
  /** Pre-spawned run processes, or `null` without a pool. */
  readonly pool: WarmPool | null;
  /** Diagnostics. */
  log(line: string): void;
  /** Starts a run process tracked for shutdown; throws `INTERNAL` once closing. */
  spawn(args: { cwd: string; env: Record<string, string> }): ChildProcess;
  /** `supervise` of the same supervisor (a `workflows.call` / `workflows.run` child). */
  supervise(runId: string): Promise<RunRow>;
  /** True from `shutdown()` on: nothing new is written or started. */
  isClosing(): boolean;
}

/** Throws `INTERNAL` "closed" once the supervisor is shutting down. */
export function assertOpen(ctx: SupervisorContext): void {
  if (ctx.isClosing()) throw closedError();
}

/** A diagnostic about one run; child-provided text in it is redacted like its events. */
export function logRun(
  ctx: SupervisorContext,
  run: { runId: string; redactor: Pick<Redactor, "redact"> },
  line: string,
): void {
  ctx.log(run.redactor.redact(`run ${run.runId}: ${line}`));
}
