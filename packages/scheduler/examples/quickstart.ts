import { Scheduler, nextFire, parseSchedule } from "@promenade/scheduler";
import { InMemorySchedulerStore } from "@promenade/scheduler/testing";
import { createManualClock } from "@promenade/workflow/testing";
import { validateMeta } from "@promenade/workflow";

// Cron evaluation: weekdays at 09:30 London time, DST handled.
const weekdays = parseSchedule("30 9 * * MON-FRI", "Europe/London");
console.log("next:", new Date(nextFire(weekdays, Date.now()) ?? 0).toISOString());

// A scheduler over an in-memory store (asynchronous, like a network database), on a manual clock.
const clock = createManualClock(Date.UTC(2026, 0, 1)); // midnight UTC
const store = new InMemorySchedulerStore({ now: () => clock.now() });
const manifest = validateMeta({ slug: "nightly", triggers: [{ kind: "cron", expr: "0 2 * * *" }] });
await store.upsertWorkflow({ slug: "nightly", manifest, program: "" });
const scheduler = new Scheduler({
  store, // fireCron writes each cron run with its `queued` event, atomically
  clock,
  dispatch: (runId) => console.log("dispatch", runId), // hand the run to your executor
});
await scheduler.tick(); // first sight: nothing fires retroactively
clock.advance(2 * 3_600_000); // 02:00
await scheduler.tick(); // → dispatch run-00000002
