/**
 * The engine core: the one place store, supervisor, scheduler, agent and MCP meet. It wires the
 * store into the supervisor and the scheduler (typed as their ports), listens to the store's
 * event feed (terminal `run_status` events release gated queued runs and settle waiters), and
 * holds one body per engine operation, written over `Awaitable` store results: over the SQLite
 * store each operation finishes before it returns, over PostgreSQL it returns a promise. The
 * public facade (`engine.ts`) decides which of the two a caller may use.
 *
 * Invariants: the core never writes a run row itself except through the store's `createRun`
 * (which also writes the run's `queued` event); it publishes nothing (the store's feed is the
 * one feed); after `close()` it starts nothing new.
 */
import { join } from "node:path";
import { createModelResolver, createPriceUsage, searchBackend } from "@promenade/agent";
import { FileTokenStore, isMcpError, TokenBroker } from "@promenade/mcp/oauth";
import type {
  EventListener,
  PublishedEvent,
  RunRow,
  WorkflowRow,
} from "@promenade/workflow/records";
import { nextFire, parseSchedule, Scheduler } from "@promenade/scheduler";
import { RunSupervisor } from "@promenade/supervisor";
import type { RecoveryReport } from "@promenade/supervisor";
import type { JsonValue } from "@promenade/workflow";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { andThen, attempt, isTerminal } from "@promenade/workflow/records";
import type {
  Awaitable,
  HumanInputRequestRow,
  ListInputRequestsFilter,
} from "@promenade/workflow/records";
import { createEngineAgentHooks } from "./agent-plug.ts";
import { portsOf } from "./backend.ts";
import type { Backend } from "./backend.ts";
import { ClusterNode } from "./cluster.ts";
import { DatabaseWatch } from "./database-watch.ts";
import { prepareDeploy, readSkills, writeSkills } from "./deploy.ts";
import type { DeployArgs } from "./deploy.ts";
import { checkRunInput } from "./input-schema.ts";
import type { ResolvedEngineOptions } from "./options.ts";
import { RetentionSweep } from "./retention-sweep.ts";
import type { CheckedStart } from "./start-run.ts";

/** What `deployWorkflowsFromDir` compares an entry against. */
export interface DeployedState {
  program: string;
  config: Record<string, JsonValue>;
  skills: Record<string, string>;
}

/** The wired pieces of one engine, and one body per operation. */
export class EngineCore {
  readonly backend: Backend;
  readonly #options: ResolvedEngineOptions;
  readonly #supervisor: RunSupervisor;
  readonly #scheduler: Scheduler;
  /** This engine as a node of a cluster; `null` outside cluster mode. */
  readonly cluster: ClusterNode | null;
  /** Pings a database that can go away; `null` on SQLite. */
  readonly #watch: DatabaseWatch | null;
  /** Waiters for runs that are queued behind the gate, keyed by run id. */
  readonly #terminalWaiters = new Map<string, Set<(row: RunRow) => void>>();
  /** Runs whose supervision stopped on a store failure, resumed once the database answers. */
  readonly #unsupervised = new Set<string>();
  readonly #unsubscribeFeed: () => void;
  /** The background retention sweep (started with the loops). */
  readonly retention: RetentionSweep;
  #releaseScheduled = false;
  #closed = false;

  /** Builds supervisor and scheduler over `backend`; spawns nothing unless a warm pool is set. */
  constructor(options: ResolvedEngineOptions, backend: Backend) {
    this.#options = options;
    this.backend = backend;
    const { clock } = options;
    const ports = portsOf(backend.store);
    const getEnv = (name: string): string | undefined => {
      const fromEnv = options.env[name];
      if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
      const fromProcess = options.processEnv[name];
      return fromProcess === "" ? undefined : fromProcess;
    };
    const hooks = createEngineAgentHooks({
      inference: options.inference,
      getEnv,
      tokenStorePath: join(options.dataDir, "mcp_tokens.json"),
      now: () => clock.now(),
      webSearchUrl: options.webSearchUrl,
      agent: { createModelResolver, createPriceUsage, searchBackend },
      oauth: { TokenBroker, FileTokenStore, isMcpError },
    });
    this.#supervisor = new RunSupervisor({
      store: ports.supervisor,
      dataDir: options.dataDir,
      workDir: options.workDir,
      childEntryPath: options.childEntryPath,
      ...(options.sdkPackageDir === null ? {} : { sdkPackageDir: options.sdkPackageDir }),
      env: new Map(Object.entries(options.env)),
      processEnv: options.processEnv,
      envLabel: options.envLabel,
      clock,
      log: options.log,
      maxRestarts: options.maxRestarts,
      cancelGraceMs: options.cancelGraceMs,
      agentBuiltins: options.builtins,
      priceUsage: hooks.priceUsage,
      hostMethods: hooks.hostMethods,
      ...(options.warmPoolSize > 0 ? { pool: { size: options.warmPoolSize } } : {}),
      ...(options.maxBooting === undefined ? {} : { maxBooting: options.maxBooting }),
      runNiceness: options.runNiceness,
      ...(backend.cluster === null
        ? {}
        : { superviseChild: (runId: string) => this.#clusterNode().superviseChild(runId) }),
    });
    const { store } = backend;
    this.cluster =
      backend.cluster === null
        ? null
        : new ClusterNode({
            store: backend.cluster,
            getRun: async (runId) => store.getRun(runId),
            getInputRequest: async (runId, key) => store.getInputRequest(runId, key),
            supervisor: this.#supervisor,
            log: options.log,
          });
    this.#scheduler = new Scheduler({
      store: ports.scheduler,
      // In a cluster the database decides who runs what: a released run is a reason to look.
      dispatch: (runId) => (this.cluster === null ? this.#dispatch(runId) : this.cluster.poke()),
      clock,
      log: options.log,
      tickIntervalMs: options.tickIntervalMs,
      lateFireThresholdMs: options.lateFireThresholdMs,
    });
    this.#watch =
      backend.sync === null
        ? new DatabaseWatch({
            ping: () => backend.store.ping(),
            label: backend.label,
            clock,
            intervalMs: options.tickIntervalMs,
            log: options.log,
            recover: () => this.#recoverAfterOutage(),
          })
        : null;
    this.#unsubscribeFeed = backend.store.subscribe((row) => this.#onCommitted(row));
    this.retention = new RetentionSweep({
      backend,
      dataDir: options.dataDir,
      workDir: options.workDir,
      policy: options.retention,
      intervalMs: options.retentionIntervalMs,
      batchSize: options.retentionBatchSize,
      now: () => clock.now(),
      log: options.log,
    });
  }

  /** Human-input requests matching `filter`, newest first. */
  listInputRequests(filter?: ListInputRequestsFilter): Awaitable<HumanInputRequestRow[]> {
    return this.backend.store.listInputRequests(filter);
  }

  /** Answers a pending human-input request; see `RunSupervisor.respondToInput`. */
  respondToInput(
    runId: string,
    key: string,
    value: unknown,
    opts: { respondedBy?: string },
  ): Awaitable<HumanInputRequestRow> {
    // In a cluster a run executing on another node gets the answer through the database.
    const { cluster } = this;
    if (cluster !== null && !this.#supervisor.isExecuting(runId)) {
      return cluster.respondToInput(runId, key, value, opts.respondedBy ?? null);
    }
    return this.#supervisor.respondToInput(runId, key, value, opts);
  }

  /** Whether calls on this backend finish before they return (SQLite). */
  get synchronous(): boolean {
    return this.backend.sync !== null;
  }

  /** Validate and upsert a workflow, then replace its skills on disk. */
  deploy(args: DeployArgs): Awaitable<WorkflowRow> {
    const prepared = prepareDeploy(args, {
      validate: (expr, timezone) => {
        const schedule = parseSchedule(expr, timezone);
        if (nextFire(schedule, this.#options.clock.now()) === null) {
          throw new EngineError("VALIDATION", "the schedule never fires");
        }
      },
    });
    if (prepared.ignoredFields.length > 0) {
      this.#options.log(
        `deploy "${prepared.manifest.slug}": platform-extension field(s) ${prepared.ignoredFields.join(", ")} accepted but not enforced by this engine`,
      );
    }
    const upserted = this.backend.store.upsertWorkflow({
      slug: prepared.manifest.slug,
      manifest: prepared.manifest,
      program: prepared.program,
      config: prepared.config,
      skills: prepared.skills,
    });
    return andThen(upserted, (row) => {
      writeSkills(this.#options.dataDir, row.id, prepared.skills);
      return row;
    });
  }

  /**
   * Undeploy `slug`: it is no longer listed, starts no new run (by API, webhook, cron or
   * `workflows.call`) and fires no cron; its runs, events, versions, artifacts and stored files
   * are kept, and runs already started finish on their version. `NOT_FOUND` when no workflow is
   * deployed under `slug`.
   */
  undeploy(slug: string): Awaitable<WorkflowRow> {
    if (typeof slug !== "string" || slug.length === 0) {
      throw new EngineError("VALIDATION", "undeploy expects a workflow slug (non-empty string).");
    }
    return andThen(this.backend.store.undeployWorkflow(slug), (row) => {
      if (row === null) {
        throw new EngineError(
          "NOT_FOUND",
          `Workflow "${slug}" is not deployed on this engine.`,
          "List the deployed workflows to find its slug.",
        );
      }
      this.#options.log(`undeployed "${slug}" (its runs are kept)`);
      return row;
    });
  }

  /** The deployed workflows' programs, each with its slug. */
  deployedPrograms(): Awaitable<ReadonlyMap<string, string>> {
    return andThen(
      this.backend.store.listWorkflows(),
      (rows) => new Map(rows.map((row) => [row.program, row.slug])),
    );
  }

  /** The stored program, config and skills of `slug`, or `null` when it is not deployed. */
  deployed(slug: string): Awaitable<DeployedState | null> {
    return andThen(this.backend.store.getWorkflow(slug), (row) =>
      row === null
        ? null
        : {
            program: row.program,
            config: row.config,
            skills: readSkills(this.#options.dataDir, row.id),
          },
    );
  }

  /**
   * Create a `queued` run (the store writes its `queued` event with it) and offer it to the
   * concurrency gate at once. A found run (same idempotency key) is returned as it is now.
   */
  startRun(start: CheckedStart): Awaitable<RunRow> {
    return andThen(this.startRunOnce(start), (result) => result.run);
  }

  /**
   * {@link startRun}, telling whether this call created the run (`false`: the idempotency key or
   * request key found one, returned as it is now).
   */
  startRunOnce(start: CheckedStart): Awaitable<{ run: RunRow; created: boolean }> {
    const { store } = this.backend;
    return andThen(store.getWorkflow(start.slug), (workflow) => {
      if (workflow === null) {
        throw new EngineError(
          "NOT_FOUND",
          `Workflow "${start.slug}" is not deployed on this engine.`,
          this.synchronous
            ? "Deploy it first with engine.deployWorkflow({ program })."
            : "Deploy it first with await engine.deploy({ program }).",
        );
      }
      checkRunInput(start.slug, workflow.manifest, start.input);
      const created = store.createRun({
        workflowId: workflow.id,
        triggerKind: start.triggerKind,
        input: start.input,
        ...(start.idempotencyKey === undefined ? {} : { idempotencyKey: start.idempotencyKey }),
        ...(start.requestKey === undefined ? {} : { requestKey: start.requestKey }),
        ...(start.delivery === undefined ? {} : { delivery: start.delivery }),
        ...(start.version === undefined ? {} : { version: start.version }),
      });
      return andThen(created, (result) => {
        // A new run of an ungated workflow is handed out without re-listing the queue.
        const released = attempt(
          () =>
            result.created
              ? this.#scheduler.releaseStarted(result.run)
              : this.#scheduler.releaseQueued(),
          (error) => this.#options.log(`releasing queued runs failed: ${describe(error)}`),
        );
        return andThen(released, () =>
          result.created
            ? result
            : andThen(store.getRun(result.run.id), (row) => ({
                run: row ?? result.run,
                created: false,
              })),
        );
      });
    });
  }

  /** One scheduler pass: fire due crons, then offer queued runs to the gate. */
  tick(): Awaitable<void> {
    return this.#scheduler.tick();
  }

  /** The boot recovery sweep (in a cluster: of this node's own runs and of expired leases). */
  recover(): Awaitable<RecoveryReport> {
    if (this.cluster !== null) return this.cluster.recover();
    return this.#supervisor.recoverOnBoot();
  }

  #clusterNode(): ClusterNode {
    if (this.cluster === null) throw new EngineError("INTERNAL", "Not a cluster node.");
    return this.cluster;
  }

  /** Starts the tick loop (its first tick runs now) and, on PostgreSQL, the database watch. */
  startLoops(): void {
    this.#scheduler.start();
    this.cluster?.start();
    this.#watch?.start();
    this.retention.start();
  }

  /** The run's row; `VALIDATION` for a malformed id, `NOT_FOUND` for an unknown one. */
  requireRun(runId: string): Awaitable<RunRow> {
    if (typeof runId !== "string" || runId.length === 0) {
      throw new EngineError("VALIDATION", "Expected a run id (non-empty string).");
    }
    return andThen(this.backend.store.getRun(runId), (run) => {
      if (run === null) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
      return run;
    });
  }

  /**
   * The run's terminal row. A queued run is offered to the gate; an orphan left by a dead
   * engine is recovered here.
   */
  waitForRun(runId: string): Awaitable<RunRow> {
    return andThen(this.requireRun(runId), (run) => {
      if (isTerminal(run.status)) return run;
      if (this.#supervisor.isExecuting(runId)) return this.#supervisor.supervise(runId);
      if (this.cluster !== null) {
        // Whichever node executes it (a queued one may be claimed here).
        if (run.status === "queued") this.cluster.poke();
        return this.cluster.waitForEnd(runId);
      }
      if (run.status !== "queued") return this.#supervisor.recoverOne(runId);
      const terminal = this.#whenTerminal(runId);
      if (!this.synchronous) {
        // The run may have ended between the read above and the waiter: read it again.
        void attempt(
          () =>
            andThen(this.backend.store.getRun(runId), (again) => {
              if (again !== null && isTerminal(again.status)) this.#settle(runId, again);
            }),
          () => undefined,
        );
      }
      void attempt(
        () => this.#scheduler.releaseQueued(),
        (error) => this.#options.log(`releasing queued runs failed: ${describe(error)}`),
      );
      return terminal;
    });
  }

  /** Cancel a run; settles once it is terminal. */
  cancelRun(runId: string): Awaitable<void> {
    const { cluster } = this;
    return andThen(this.requireRun(runId), () =>
      cluster === null ? this.#supervisor.cancel(runId) : cluster.cancel(runId),
    );
  }

  /** One trivial database read; `INTERNAL` naming the database when it cannot be read. */
  ping(): Awaitable<void> {
    return attempt(
      () => this.backend.store.ping(),
      (error) => {
        throw new EngineError(
          "INTERNAL",
          `The engine database cannot be read: ${describe(error)}`,
          `Check ${this.backend.label}.`,
          { cause: error },
        );
      },
    );
  }

  /** Every committed event, right after its commit; a throwing listener is logged. */
  subscribe(listener: (row: PublishedEvent) => void): () => void {
    const wrapped: EventListener = (row) => {
      try {
        listener(row);
      } catch (error) {
        this.#options.log(
          `onEvent listener threw for run ${row.runId} (cursor ${row.cursor}): ${describe(error)}`,
        );
      }
    };
    return this.backend.store.subscribe(wrapped);
  }

  /**
   * Stop the loops, SIGTERM every run process (their runs stay non-terminal for the next boot's
   * sweep) and close the store — at once on SQLite, once the supervisor's last writes settled
   * on PostgreSQL. The promise settles when everything is down; it never rejects.
   */
  close(childGraceMs: number | undefined): Promise<void> {
    this.#closed = true;
    this.cluster?.stop();
    this.#watch?.stop();
    this.#scheduler.stop();
    const sweepDone = this.retention.stop();
    this.#terminalWaiters.clear();
    const shutdown = this.#supervisor.shutdown(childGraceMs).catch((error: unknown) => {
      this.#options.log(`engine close: run process shutdown failed: ${describe(error)}`);
    });
    this.#unsubscribeFeed();
    const { sync } = this.backend;
    if (sync !== null) {
      sync.close();
      return shutdown;
    }
    return Promise.all([shutdown, sweepDone])
      .then(() => this.cluster?.releaseAll())
      .then(() => this.backend.store.close())
      .catch((error: unknown) => {
        this.#options.log(`engine close: closing the database failed: ${describe(error)}`);
      });
  }

  #dispatch(runId: string): void {
    this.#supervisor
      .supervise(runId)
      .catch((error: unknown) => this.#supervisionFailed(runId, error));
  }

  #supervisionFailed(runId: string, error: unknown): void {
    if (this.#closed && isEngineError(error) && error.code === "INTERNAL") return;
    this.#options.log(`run ${runId}: supervision failed: ${describe(error)}`);
    if (this.#watch !== null && !this.#closed) {
      this.#unsupervised.add(runId);
      this.#watch.reportFailure();
    }
  }

  /** Once the database answers again: supervise the runs the outage stopped, then sweep. */
  async #recoverAfterOutage(): Promise<void> {
    if (this.#closed) return;
    // A cluster node's heartbeat and takeovers recover its runs (and other nodes' runs).
    if (this.cluster !== null) {
      this.cluster.poke();
      return;
    }
    const runs = [...this.#unsupervised];
    this.#unsupervised.clear();
    for (const runId of runs) {
      if (!this.#supervisor.isExecuting(runId)) this.#dispatch(runId);
    }
    await this.#supervisor.recoverOnBoot();
    await this.#scheduler.releaseQueued();
  }

  #onCommitted(row: PublishedEvent): void {
    const { event } = row;
    if (event.kind !== "run_status" || !isTerminal(event.status)) return;
    this.#scheduleRelease();
    if (!this.#terminalWaiters.has(row.runId)) return;
    void attempt(
      () =>
        andThen(this.backend.store.getRun(row.runId), (run) => {
          if (run !== null) this.#settle(row.runId, run);
        }),
      (error) => this.#options.log(`run ${row.runId}: reading the ended run: ${describe(error)}`),
    );
  }

  /**
   * Queued runs are released on every terminal transition (one pass per turn, however many
   * runs ended in it), so a serial queue drains without the tick loop.
   */
  #scheduleRelease(): void {
    if (this.#releaseScheduled) return;
    this.#releaseScheduled = true;
    setImmediate(() => {
      this.#releaseScheduled = false;
      if (this.#closed) return;
      void attempt(
        () => this.#scheduler.releaseQueued(),
        (error) => this.#options.log(`releasing queued runs failed: ${describe(error)}`),
      );
    });
  }

  /** Resolves with the run's row once a terminal `run_status` event for it is committed. */
  #whenTerminal(runId: string): Promise<RunRow> {
    return new Promise<RunRow>((resolve) => {
      let waiters = this.#terminalWaiters.get(runId);
      if (waiters === undefined) {
        waiters = new Set();
        this.#terminalWaiters.set(runId, waiters);
      }
      waiters.add(resolve);
    });
  }

  #settle(runId: string, run: RunRow): void {
    const waiters = this.#terminalWaiters.get(runId);
    if (waiters === undefined) return;
    this.#terminalWaiters.delete(runId);
    for (const resolve of waiters) resolve(run);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
