// The per-run event log over the in-memory store: write order under an asynchronous store,
// batching while a write is in flight, completion in the caller's turn over a synchronous store,
// and what happens after a failed write or a terminal transition.
import { describe, expect, it } from "vitest";
import type { RunEvent } from "@promenade/workflow";
import { Redactor } from "@promenade/workflow/redact";
import { EventLog } from "./event-log.ts";
import type { EventAppend, StatusChange } from "./ports.ts";
import { createInMemorySupervisorStore } from "./testing/index.ts";
import type { InMemorySupervisorStore, InMemorySupervisorStoreOptions } from "./testing/index.ts";

function redactorWith(label: string, value: string): Redactor {
  const redactor = new Redactor();
  redactor.add(label, value);
  return redactor;
}

async function setup(options: InMemorySupervisorStoreOptions = {}) {
  const store = createInMemorySupervisorStore(options);
  const workflow = store.addWorkflow({
    slug: "wf",
    manifest: { slug: "wf", triggers: [{ kind: "manual" }] } as never,
    program: "",
  });
  const { run } = await store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
  const logs: string[] = [];
  const fatal: Error[] = [];
  const appends: EventAppend[][] = [];
  const commits: StatusChange[] = [];
  const append = store.appendEvents.bind(store);
  store.appendEvents = (runId, rows) => {
    appends.push([...rows]);
    return append(runId, rows);
  };
  const commit = store.commitStatus.bind(store);
  store.commitStatus = (runId, change) => {
    commits.push(change);
    return commit(runId, change);
  };
  const log = new EventLog({
    store,
    runId: run.id,
    now: () => 5,
    redactor: redactorWith("TOKEN", "s3cr3t-value"),
    log: (line) => logs.push(line),
    onFatal: (err) => fatal.push(err),
  });
  log.resume(await store.maxCursor(run.id));
  const phase = (name: string) => ({ kind: "phase", name, id: name });
  const kinds = () => store.peek.events(run.id).map((e) => e.event);
  return { store, run, log, logs, fatal, appends, commits, phase, kinds };
}

function nameOf(event: RunEvent): string {
  if (event.kind === "phase") return event.name;
  if (event.kind === "run_status") return event.status;
  return event.kind;
}

describe("EventLog", () => {
  it("commits synchronously over a synchronous store with nothing in flight", async () => {
    const { log, run, store, phase } = await setup({ synchronous: true });
    log.stamp(phase("a"));
    const row = log.commitStatus({ to: "pending", expect: ["queued"] }, { terminal: false });
    expect(row).toMatchObject({ id: run.id, status: "pending" });
    expect(store.peek.events(run.id).map((e) => e.cursor)).toEqual([1, 1_000_001, 1_000_002]);
    expect(log.write("count", () => store.incrementRestarts(run.id))).toBe(1);
  });

  it("queues writes behind one in flight and grows the waiting batch instead of adding round trips", async () => {
    const { log, run, store, appends, commits, phase, kinds } = await setup();
    log.stamp(phase("a"));
    log.flush();
    for (const name of ["b", "c", "d"]) {
      log.stamp(phase(name));
      log.flush();
    }
    const row = log.commitStatus({ to: "pending", expect: ["queued"] }, { terminal: false });
    log.stamp(phase("e"));
    log.flush();
    expect(row).toBeInstanceOf(Promise);
    expect(await row).toMatchObject({ status: "pending" });
    await log.idle();
    expect(appends.map((batch) => batch.map((r) => nameOf(r.event)))).toEqual([
      ["a"],
      ["b", "c", "d"],
      ["e"],
    ]);
    expect(commits).toHaveLength(1);
    expect(kinds().map(nameOf)).toEqual(["queued", "a", "b", "c", "d", "pending", "e"]);
    const cursors = store.peek.events(run.id).map((e) => e.cursor);
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
  });

  it("sends buffered events with the transition and redacts known secrets", async () => {
    const { log, commits, phase, kinds } = await setup();
    log.stamp(phase("uses s3cr3t-value"));
    await log.commitStatus({ to: "pending", expect: ["queued"] }, { terminal: false });
    expect(commits[0]?.pending?.map((r) => nameOf(r.event))).toEqual(["uses [redacted:TOKEN]"]);
    expect(commits[0]?.stamp).toEqual({ cursor: 1_000_002, seq: 2 });
    expect(kinds().map(nameOf)).toEqual(["queued", "uses [redacted:TOKEN]", "pending"]);
  });

  it("drops and logs events stamped after a terminal transition", async () => {
    const { log, logs, phase, kinds } = await setup();
    const ended = log.commitStatus(
      { to: "cancelled", expect: ["queued"], endedAt: 1 },
      { terminal: true },
    );
    log.stamp(phase("late"));
    await ended;
    await log.idle();
    expect(kinds().map(nameOf)).toEqual(["queued", "cancelled"]);
    expect(logs).toEqual(['dropped a late "phase" event (run already ended)']);
  });

  it("stops appending after a failed write, reports it once, and still commits the end", async () => {
    const { log, store, logs, fatal, phase, kinds } = await setup();
    const append = store.appendEvents.bind(store);
    store.appendEvents = () => Promise.reject(new Error("disk full"));
    log.stamp(phase("lost"));
    log.flush();
    await log.idle();
    store.appendEvents = append;
    log.stamp(phase("after"));
    log.flush();
    await log.idle();
    expect(fatal.map((e) => e.message)).toEqual(["disk full"]);
    expect(logs).toEqual(["could not persist events: disk full"]);
    expect(log.fatal?.message).toBe("disk full");
    await log.commitStatus({ to: "failed", expect: ["queued"], endedAt: 1 }, { terminal: true });
    expect(kinds().map(nameOf)).toEqual(["queued", "failed"]);
  });

  it("lets the store stamp a transition issued before the envelope was resumed", async () => {
    const store = createInMemorySupervisorStore();
    const workflow = store.addWorkflow({
      slug: "wf",
      manifest: { slug: "wf", triggers: [{ kind: "manual" }] } as never,
      program: "",
    });
    const { run } = await store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
    const log = new EventLog({
      store,
      runId: run.id,
      now: () => 1,
      redactor: new Redactor(),
      log: () => undefined,
      onFatal: () => undefined,
    });
    await log.commitStatus({ to: "failed", expect: ["queued"], endedAt: 1 }, { terminal: true });
    expect(store.peek.events(run.id).map((e) => e.cursor)).toEqual([1, 1_000_001]);
  });

  it("refuses new writes once sealed but completes the ones queued before", async () => {
    const { log, phase, kinds } = await setup();
    log.stamp(phase("before"));
    log.flush();
    log.seal();
    log.stamp(phase("after"));
    expect(() =>
      log.commitStatus({ to: "pending", expect: ["queued"] }, { terminal: false }),
    ).toThrow(/closed/);
    await log.idle();
    expect(kinds().map(nameOf)).toEqual(["queued", "before"]);
  });
});

describe("EventLog.resumeFromStore", () => {
  /** A pass's log before it resumed (the shared `setup` resumes its own). */
  function unresumedLog(store: InMemorySupervisorStore, runId: string): EventLog {
    return new EventLog({
      store,
      runId,
      now: () => 5,
      redactor: new Redactor(),
      log: () => undefined,
      onFatal: () => undefined,
    });
  }

  it("stamps a write issued while the pass reads its cursors from the envelope, after the read", async () => {
    const { store, run } = await setup();
    const log = unresumedLog(store, run.id);
    let release: (max: number) => void = () => undefined;
    const resumed = log.resumeFromStore(
      () => new Promise<number>((resolve) => (release = resolve)),
    );
    // An answer arriving while the read is in flight: it must not take a fresh block of its own
    // (the block the pass is about to use), but the envelope's first cursor, after the read.
    const stamps: ({ cursor: number; seq: number } | undefined)[] = [];
    const committed = log.commitEvent("answer", (_pending, stamp) => {
      stamps.push(stamp);
      return null;
    });
    expect(stamps).toEqual([]);
    release(1_000_003);
    await resumed;
    await committed;
    expect(stamps).toEqual([{ cursor: 2_000_001, seq: 1 }]);
    // The pass's own next event follows it.
    log.stamp({ kind: "phase", name: "next", id: "next" });
    log.flush();
    await log.idle();
    expect(store.peek.events(run.id).at(-1)?.cursor).toBe(2_000_002);
  });

  it("leaves a write issued before the read to the store, in a fresh block the pass then comes after", async () => {
    const { store, run } = await setup();
    const log = unresumedLog(store, run.id);
    const stamps: ({ cursor: number; seq: number } | undefined)[] = [];
    const committed = log.commitEvent("answer", (_pending, stamp) => {
      stamps.push(stamp);
      return store.appendEvents(run.id, [
        { cursor: 1_000_001, event: { kind: "phase", name: "fresh", id: "fresh" } as never },
      ]);
    });
    await log.resumeFromStore(() => store.maxCursor(run.id));
    await committed;
    expect(stamps).toEqual([undefined]);
    log.stamp({ kind: "phase", name: "next", id: "next" });
    log.flush();
    await log.idle();
    expect(store.peek.events(run.id).at(-1)?.cursor).toBe(2_000_001);
  });
});
