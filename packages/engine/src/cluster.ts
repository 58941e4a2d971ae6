/**
 * One node of a cluster: many engines on one PostgreSQL database, the `runs` table their queue.
 * The node executes a run only after claiming it in the database (`ClusterStore`): queued runs
 * through the cross-node concurrency gate, `workflows.call` children directly, runs whose
 * holder's lease expired by takeover (restarted from the top with reason `failover`). It renews
 * the leases of the runs it holds every `leaseMs / 3` and acts on what the heartbeat reads back:
 * a run no longer held is abandoned at once (its process killed, nothing more written), a cancel
 * requested through another node is carried out here.
 *
 * Invariants: a run is handed to the supervisor only under a hold this node just obtained; a run
 * whose supervision stopped without ending is released (its lease ended) so any node restarts it;
 * when the database has not confirmed a heartbeat for longer than the lease (measured on this
 * process's monotonic clock), every held run is abandoned, since another node may already have
 * taken them over; a draining or closed node claims nothing.
 */
import { performance } from "node:perf_hooks";
import type { ClusterStore, HeldRun } from "@promenade/store/pg";
import { isLeaseLost } from "@promenade/store/pg";
import type { RunSupervisor } from "@promenade/supervisor";
import { answerLost, checkAnswerArguments, checkedAnswer } from "@promenade/supervisor";
import { EngineError } from "@promenade/workflow/errors";
import { isTerminal } from "@promenade/workflow/records";
import type { HumanInputRequestRow, RunRow } from "@promenade/workflow/records";

/** Runs claimed per statement. */
const CLAIM_BATCH = 50;
/** Expired runs taken over per heartbeat. */
const TAKEOVER_BATCH = 20;

/** Options of {@link ClusterNode}. */
export interface ClusterNodeOptions {
  store: ClusterStore;
  getRun: (runId: string) => Promise<RunRow | null>;
  getInputRequest: (runId: string, key: string) => Promise<HumanInputRequestRow | null>;
  supervisor: RunSupervisor;
  log: (line: string) => void;
  /** How often the node looks for queued runs without being poked, in ms. Default 1000. */
  pollMs?: number;
}

/** What `/healthz` and `/metrics` report about the node. */
export interface ClusterHealth {
  nodeId: string;
  leaseMs: number;
  /** Runs this node holds now. */
  heldRuns: number;
  /** Ms since the database last confirmed a heartbeat; `null` before the first. */
  lastHeartbeatAgeMs: number | null;
  /** The last heartbeat is younger than the lease. */
  leaseHealthy: boolean;
  draining: boolean;
}

/** The claim loop, heartbeat and takeover of one cluster node. */
export class ClusterNode {
  readonly #store: ClusterStore;
  readonly #getRun: (runId: string) => Promise<RunRow | null>;
  readonly #getInputRequest: (runId: string, key: string) => Promise<HumanInputRequestRow | null>;
  readonly #unsubscribeSignals: () => void;
  /** A signal arrived during a heartbeat: beat once more right after it. */
  #beatAgain = false;
  readonly #supervisor: RunSupervisor;
  readonly #log: (line: string) => void;
  readonly #pollMs: number;
  #pollTimer: NodeJS.Timeout | undefined;
  #beatTimer: NodeJS.Timeout | undefined;
  /** Monotonic time of the last heartbeat the database confirmed. */
  #lastBeat: number | null = null;
  #beating = false;
  #claiming = false;
  #claimAgain = false;
  #draining = false;
  #closed = false;
  /** Held runs whose cancel (requested through another node) was passed to the supervisor. */
  readonly #cancelling = new Set<string>();
  /** Held runs nobody executes any more: their leases are ended at the next chance. */
  readonly #toRelease = new Set<string>();
  /** Runs whose supervision here has not settled yet. */
  readonly #supervising = new Set<string>();
  /** Children being claimed, so a second call for one joins the first. */
  readonly #childClaims = new Map<string, Promise<RunRow>>();

  constructor(options: ClusterNodeOptions) {
    this.#store = options.store;
    this.#getRun = options.getRun;
    this.#getInputRequest = options.getInputRequest;
    this.#supervisor = options.supervisor;
    this.#log = options.log;
    this.#pollMs = options.pollMs ?? 1000;
    // Another node asked something of a run (a cancel, an answer): if this node holds it, look
    // now rather than at the next heartbeat.
    this.#unsubscribeSignals = this.#store.onSignal((runId) => {
      if (this.#store.held().has(runId)) void this.#beat();
    });
  }

  /**
   * Answers a pending human-input request of a run this node does not execute: checks as the
   * supervisor does (unknown run or no pending request: `NOT_FOUND`; an answer that does not fit
   * the form: `VALIDATION`; another answer won: `CONFLICT`), then stores it for the run's holder,
   * which writes the answer's event and wakes the waiting call.
   */
  async respondToInput(
    runId: string,
    key: string,
    value: unknown,
    respondedBy: string | null,
  ): Promise<HumanInputRequestRow> {
    checkAnswerArguments(runId, key, respondedBy);
    if ((await this.#getRun(runId)) === null) {
      throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
    }
    const row = await this.#getInputRequest(runId, key);
    const response = checkedAnswer(row, runId, key, value);
    const stored = await this.#store.answerRemotely(runId, key, { response, respondedBy });
    if (stored !== null) return stored;
    throw answerLost(await this.#getInputRequest(runId, key), runId, key);
  }

  get nodeId(): string {
    return this.#store.nodeId;
  }

  /** The node's state for health checks and metrics. */
  health(): ClusterHealth {
    const age = this.#lastBeat === null ? null : Math.round(performance.now() - this.#lastBeat);
    return {
      nodeId: this.#store.nodeId,
      leaseMs: this.#store.leaseMs,
      heldRuns: this.#store.held().size,
      lastHeartbeatAgeMs: age,
      leaseHealthy: age !== null && age < this.#store.leaseMs,
      draining: this.#draining,
    };
  }

  /**
   * The boot sweep of a node: registers it, takes back the runs recorded under its own id (a
   * restart with a fixed node id) and takes over the runs whose lease expired, restarting each
   * from the top, then claims queued runs.
   */
  async recover(): Promise<{ resumed: string[]; cancelled: string[] }> {
    await this.#beat();
    const resumed: string[] = [];
    const cancelled: string[] = [];
    for (;;) {
      const taken = await this.#store.takeOverExpired(TAKEOVER_BATCH, true);
      for (const held of taken) {
        (held.cancelRequested || held.status === "cancelling" ? cancelled : resumed).push(
          held.runId,
        );
        void this.#execute(held);
      }
      if (taken.length < TAKEOVER_BATCH) break;
    }
    this.#log(
      `cluster node ${this.nodeId}: restarted ${String(resumed.length)} run(s), cancelled ${String(cancelled.length)}`,
    );
    this.poke();
    return { resumed, cancelled };
  }

  /** Starts the poll and heartbeat loops. */
  start(): void {
    if (this.#closed || this.#pollTimer !== undefined) return;
    this.#pollTimer = setInterval(() => this.poke(), this.#pollMs);
    this.#beatTimer = setInterval(
      () => void this.#beat(),
      Math.max(100, Math.floor(this.#store.leaseMs / 3)),
    );
  }

  /** Looks for queued runs now (coalesced with a look already under way). */
  poke(): void {
    if (this.#closed || this.#draining) return;
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    this.#claiming = true;
    void this.#claimLoop().finally(() => {
      this.#claiming = false;
    });
  }

  async #claimLoop(): Promise<void> {
    do {
      this.#claimAgain = false;
      let claimed: HeldRun[];
      try {
        claimed = await this.#store.claimQueued(CLAIM_BATCH);
      } catch (error) {
        if (!this.#closed) this.#log(`cluster: claiming queued runs failed: ${describe(error)}`);
        return;
      }
      for (const held of claimed) void this.#execute(held);
      if (claimed.length === CLAIM_BATCH) this.#claimAgain = true;
    } while (this.#claimAgain && !this.#closed && !this.#draining);
  }

  /**
   * Executes (or finishes) a `workflows.call` child: claimed here when nobody holds it, else
   * waited for through the store, wherever it runs.
   */
  superviseChild(runId: string): Promise<RunRow> {
    if (this.#supervisor.isExecuting(runId)) return this.#supervisor.supervise(runId);
    const joined = this.#childClaims.get(runId);
    if (joined !== undefined) return joined;
    const settled = (async () => {
      const held = this.#closed || this.#draining ? null : await this.#store.claimRun(runId);
      if (held !== null) return this.#execute(held);
      return this.waitForEnd(runId);
    })();
    this.#childClaims.set(runId, settled);
    const forget = (): void => {
      if (this.#childClaims.get(runId) === settled) this.#childClaims.delete(runId);
    };
    settled.then(forget, forget);
    return settled;
  }

  /** The run's terminal row, whichever node executes it (read from the store). */
  async waitForEnd(runId: string): Promise<RunRow> {
    for (;;) {
      if (this.#closed) throw closedError();
      if (this.#supervisor.isExecuting(runId)) return this.#supervisor.supervise(runId);
      const row = await this.#getRun(runId);
      if (row === null) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
      if (isTerminal(row.status)) return row;
      await sleep(Math.max(50, Math.floor(this.#pollMs / 4)));
    }
  }

  /**
   * Cancels a run wherever it runs: here when this node executes it or can claim it (nobody
   * holds it), else by recording the request for its holder. Settles once it is terminal.
   */
  async cancel(runId: string): Promise<void> {
    if (this.#supervisor.isExecuting(runId)) return this.#supervisor.cancel(runId);
    const held = await this.#store.claimRun(runId);
    if (held !== null) {
      this.#cancelling.add(runId);
      await this.#settle(runId, this.#supervisor.cancel(runId));
      return;
    }
    const row = await this.#getRun(runId);
    if (row === null) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
    if (isTerminal(row.status)) return;
    await this.#store.requestCancel(runId);
    await this.waitForEnd(runId);
  }

  /**
   * Drain: claims and takes over nothing more and waits until every held run ended or
   * `graceMs` passed. Returns the number of runs still held (released by `close`).
   */
  async drain(graceMs: number): Promise<number> {
    this.#draining = true;
    await this.#store.setDraining(true).catch((error: unknown) => {
      this.#log(`cluster: marking the node draining failed: ${describe(error)}`);
    });
    const deadline = performance.now() + graceMs;
    while (this.#store.held().size > 0 && performance.now() < deadline && !this.#closed) {
      await sleep(100);
    }
    return this.#store.held().size;
  }

  /** Stops the loops; claims nothing more. */
  stop(): void {
    this.#closed = true;
    this.#unsubscribeSignals();
    clearInterval(this.#pollTimer);
    clearInterval(this.#beatTimer);
  }

  /**
   * After the supervisor shut down: ends the leases of the runs still held, so another node
   * takes them over at once instead of after the lease.
   */
  async releaseAll(): Promise<void> {
    const count = await this.#store.release().catch((error: unknown) => {
      this.#log(`cluster: releasing the held runs failed: ${describe(error)}`);
      return 0;
    });
    if (count > 0) this.#log(`cluster node ${this.nodeId}: released ${String(count)} run(s)`);
  }

  // ---------------------------------------------------------------------------------------------

  /** Runs the supervisor still executes here (held or not). */
  #executing(): string[] {
    return [...this.#supervising];
  }

  /** Hands a run just claimed to the supervisor; resolves with its terminal row. */
  #execute(held: HeldRun): Promise<RunRow> {
    const { runId } = held;
    if (held.cancelRequested || held.status === "cancelling") {
      this.#cancelling.add(runId);
      const done = this.#supervisor.cancel(runId).then(() => this.#terminalRow(runId));
      return this.#settle(runId, done);
    }
    return this.#settle(runId, this.#supervisor.supervise(runId, { failover: held.takenOver }));
  }

  /** What follows a supervision of a held run, whichever way it ends. */
  #settle<T>(runId: string, supervision: Promise<T>): Promise<T> {
    this.#supervising.add(runId);
    const done = (): void => {
      this.#supervising.delete(runId);
    };
    void supervision.then(done, done);
    const after = (row: unknown): void => {
      this.#cancelling.delete(runId);
      const ended = row !== undefined && isTerminal((row as RunRow).status);
      if (ended || row === undefined) this.#store.forget(runId);
      else this.#release(runId);
      this.poke();
    };
    void supervision.then(after, (error: unknown) => {
      this.#cancelling.delete(runId);
      if (this.#closed) return;
      if (isLeaseLost(error)) {
        this.#log(`run ${runId}: lease lost; another node executes it now`);
        return;
      }
      this.#log(`run ${runId}: supervision stopped: ${describe(error)}; releasing it`);
      this.#release(runId);
    });
    return supervision;
  }

  async #terminalRow(runId: string): Promise<RunRow> {
    const row = await this.#getRun(runId);
    if (row === null) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
    return row;
  }

  /** Ends the lease of a held run nobody executes here any more (retried on each heartbeat). */
  #release(runId: string): void {
    this.#toRelease.add(runId);
    void this.#store.release([runId]).then(
      () => this.#toRelease.delete(runId),
      () => undefined,
    );
  }

  /** Abandons a run this node no longer holds: kill its process, write nothing more. */
  #lost(runId: string, why: string): void {
    this.#cancelling.delete(runId);
    const error = new EngineError(
      "CONFLICT",
      `Lease lost: node ${this.nodeId} no longer holds run ${runId} (${why}).`,
    );
    if (this.#supervisor.abandon(runId, error)) {
      this.#log(`run ${runId}: lease lost (${why}); its process was stopped`);
    }
  }

  async #beat(): Promise<void> {
    if (this.#closed) return;
    const lease = this.#store.leaseMs;
    if (this.#lastBeat !== null && performance.now() - this.#lastBeat > lease) {
      // Cut off from the database for longer than the lease: another node may own them now.
      for (const runId of this.#store.held().keys()) {
        this.#lost(runId, "no heartbeat reached the database within the lease");
        // Not executed here any more: a later heartbeat must not renew its lease.
        this.#release(runId);
      }
    }
    if (this.#beating) {
      this.#beatAgain = true;
      return;
    }
    this.#beating = true;
    try {
      const sentAt = performance.now();
      // A database that stopped answering must not stall the heartbeat for good: after a lease
      // without an answer this beat counts as failed (the next one is sent on the next tick).
      const { held, lost } = await withTimeout(this.#store.heartbeat(), lease);
      this.#lastBeat = sentAt;
      for (const runId of lost) this.#lost(runId, "the lease expired or another node took it");
      for (const run of held) {
        if (run.cancelRequested && !this.#cancelling.has(run.runId)) {
          if (this.#supervisor.isExecuting(run.runId)) {
            this.#cancelling.add(run.runId);
            void this.#supervisor.cancel(run.runId).catch(() => undefined);
          }
        }
      }
      // Answers other nodes stored for runs executing here: write their events, wake the calls.
      const executing = held
        .map((run) => run.runId)
        .filter((id) => this.#supervisor.isExecuting(id));
      for (const { runId, key } of await this.#store.unannouncedAnswers(executing)) {
        void this.#supervisor.takeRemoteAnswer(runId, key).catch((error: unknown) => {
          this.#log(`run ${runId}: delivering the answer to "${key}" failed: ${describe(error)}`);
        });
      }
      for (const runId of [...this.#toRelease]) {
        if (!this.#supervisor.isExecuting(runId)) this.#release(runId);
      }
      if (!this.#draining && !this.#closed) {
        // A run whose old supervision here is still winding down is not taken back yet: its
        // writes would pass under the new hold.
        const busy = [...this.#store.held().keys(), ...this.#executing()];
        const taken = await this.#store.takeOverExpired(TAKEOVER_BATCH, false, busy);
        for (const run of taken) {
          this.#log(`run ${run.runId}: taken over (its lease expired); restarting it`);
          void this.#execute(run);
        }
      }
    } catch (error) {
      if (!this.#closed) this.#log(`cluster: heartbeat failed: ${describe(error)}`);
    } finally {
      this.#beating = false;
      if (this.#beatAgain && !this.#closed) {
        this.#beatAgain = false;
        void this.#beat();
      }
    }
  }
}

/** `promise`, or a rejection once `ms` passed without it settling. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer from the database within ${String(ms)} ms`));
    }, ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function closedError(): EngineError {
  return new EngineError("INTERNAL", "This engine has been closed.");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
