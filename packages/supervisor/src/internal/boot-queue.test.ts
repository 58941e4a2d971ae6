import { afterEach, describe, expect, it, vi } from "vitest";
import { BootQueue } from "./boot-queue.ts";

/** A queue whose deferred turns run only when the test says so. */
function manualQueue(
  limit: number,
  quiet: { quietMs?: number; maxQuietWaitMs?: number } = {},
): { queue: BootQueue; turn: () => boolean; drain: () => void } {
  const turns: (() => void)[] = [];
  const queue = new BootQueue({ limit, defer: (fn) => turns.push(fn), ...quiet });
  const turn = (): boolean => {
    const fn = turns.shift();
    if (fn === undefined) return false;
    fn();
    return true;
  };
  const drain = (): void => {
    while (turn()) {
      // Every pending turn, including those the turns schedule.
    }
  };
  return { queue, turn, drain };
}

describe("BootQueue", () => {
  it("starts nothing in the caller's turn, then one boot per turn", () => {
    const { queue, turn } = manualQueue(4);
    const started: number[] = [];
    for (let index = 0; index < 3; index += 1)
      queue.enqueue(
        () => started.push(index),
        () => {},
      );
    expect(started).toEqual([]);
    turn();
    expect(started).toEqual([0]);
    turn();
    expect(started).toEqual([0, 1]);
    turn();
    expect(started).toEqual([0, 1, 2]);
    expect(turn()).toBe(false);
  });

  it("never has more boots in progress than its limit, and starts the next one on a release", () => {
    const { queue, drain } = manualQueue(2);
    const releases: (() => void)[] = [];
    const started: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      queue.enqueue(
        (release) => {
          started.push(index);
          releases.push(release);
        },
        () => {},
      );
    }
    drain();
    expect(started).toEqual([0, 1]);
    expect(queue.booting).toBe(2);
    expect(queue.queued).toBe(3);
    releases[0]!();
    releases[0]!(); // a second release of the same boot frees nothing more
    drain();
    expect(started).toEqual([0, 1, 2]);
    expect(queue.booting).toBe(2);
    releases[1]!();
    releases[2]!();
    drain();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    releases[3]!();
    releases[4]!();
    expect(queue.booting).toBe(0);
  });

  it("keeps arrival order across starts queued while others boot", () => {
    const { queue, drain } = manualQueue(1);
    const started: string[] = [];
    const releases: (() => void)[] = [];
    const add = (name: string): void => {
      queue.enqueue(
        (release) => {
          started.push(name);
          releases.push(release);
        },
        () => {},
      );
    };
    add("a");
    add("b");
    drain();
    add("c");
    releases.shift()!();
    add("d");
    drain();
    releases.shift()!();
    drain();
    releases.shift()!();
    drain();
    expect(started).toEqual(["a", "b", "c", "d"]);
  });

  it("drops a cancelled start without ever starting it, and keeps the others in order", () => {
    const { queue, drain } = manualQueue(1);
    const started: string[] = [];
    const dropped: string[] = [];
    const releases: (() => void)[] = [];
    const add = (name: string): ReturnType<BootQueue["enqueue"]> =>
      queue.enqueue(
        (release) => {
          started.push(name);
          releases.push(release);
        },
        () => dropped.push(name),
      );
    add("a");
    const b = add("b");
    add("c");
    drain();
    expect(b.cancel()).toBe(true);
    expect(b.cancel()).toBe(false);
    releases.shift()!();
    drain();
    releases.shift()!();
    drain();
    expect(started).toEqual(["a", "c"]);
    // A cancel is not a drop: the caller that cancelled settles the start itself.
    expect(dropped).toEqual([]);
    expect(queue.queued).toBe(0);
  });

  it("reports that a start already begun can no longer be cancelled", () => {
    const { queue, drain } = manualQueue(1);
    const ticket = queue.enqueue(
      () => {},
      () => {},
    );
    drain();
    expect(ticket.cancel()).toBe(false);
  });

  it("drops every waiting boot on close, starts nothing afterwards, and drops later ones too", () => {
    const { queue, drain } = manualQueue(1);
    const started: string[] = [];
    const dropped: string[] = [];
    const add = (name: string, lane: "enqueue" | "whenIdle" = "enqueue"): void => {
      queue[lane](
        () => started.push(name),
        () => dropped.push(name),
      );
    };
    add("a");
    add("b");
    add("refill", "whenIdle");
    drain();
    expect(started).toEqual(["a"]);
    queue.close();
    expect(dropped).toEqual(["b", "refill"]);
    add("late");
    drain();
    expect(started).toEqual(["a"]);
    expect(dropped).toEqual(["b", "refill", "late"]);
  });

  it("begins a background boot only when no start waits and a slot is free", () => {
    const { queue, drain } = manualQueue(1);
    const started: string[] = [];
    const releases: (() => void)[] = [];
    const add = (name: string, lane: "enqueue" | "whenIdle"): void => {
      queue[lane](
        (release) => {
          started.push(name);
          releases.push(release);
        },
        () => {},
      );
    };
    add("refill", "whenIdle");
    add("a", "enqueue");
    add("b", "enqueue");
    drain();
    expect(started).toEqual(["a"]);
    releases.shift()!();
    drain();
    expect(started).toEqual(["a", "b"]);
    releases.shift()!();
    drain();
    expect(started).toEqual(["a", "b", "refill"]);
  });

  describe("background boots and runs starting or finishing", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** A queue with a 20 ms quiet period and a 1 s longest wait, on fake timers. */
    function quietQueue(): { queue: BootQueue; drain: () => void; started: string[] } {
      vi.useFakeTimers();
      const { queue, drain } = manualQueue(2, { quietMs: 20, maxQuietWaitMs: 1_000 });
      const started: string[] = [];
      return { queue, drain, started };
    }

    it("waits while a run is starting or finishing, then for the quiet period after it", () => {
      const { queue, drain, started } = quietQueue();
      const done = queue.hold();
      queue.whenIdle(
        () => started.push("refill"),
        () => {},
      );
      drain();
      vi.advanceTimersByTime(500);
      drain();
      expect(started).toEqual([]);
      done();
      done(); // a second call changes nothing
      vi.advanceTimersByTime(19);
      drain();
      expect(started).toEqual([]);
      vi.advanceTimersByTime(1);
      drain();
      expect(started).toEqual(["refill"]);
    });

    it("begins a background boot that may no longer wait at once, even while a run is starting", () => {
      const { queue, drain, started } = quietQueue();
      let mayWait = true;
      queue.hold();
      queue.whenIdle(
        () => started.push("refill"),
        () => {},
        () => mayWait,
      );
      vi.advanceTimersByTime(100);
      drain();
      expect(started).toEqual([]);
      mayWait = false; // say, the pool it refills has just run dry
      queue.recheck();
      drain();
      expect(started).toEqual(["refill"]);
    });

    it("begins no background boot while a start is announced, then the start first", () => {
      const { queue, drain, started } = quietQueue();
      const announced = queue.announce();
      queue.whenIdle(
        () => started.push("refill"),
        () => {},
        () => false, // an empty pool: it would otherwise begin at once
      );
      drain();
      vi.advanceTimersByTime(5_000);
      drain();
      expect(started).toEqual([]);
      queue.enqueue(
        () => started.push("start"),
        () => {},
      );
      announced();
      announced(); // a second call changes nothing
      drain();
      expect(started).toEqual(["start", "refill"]);
    });

    it("starts a queued start at once while a run is starting", () => {
      const { queue, drain, started } = quietQueue();
      queue.hold();
      queue.enqueue(
        () => started.push("start"),
        () => {},
      );
      drain();
      expect(started).toEqual(["start"]);
    });

    it("begins a background boot after its longest wait even when runs keep starting", () => {
      const { queue, drain, started } = quietQueue();
      queue.whenIdle(
        () => started.push("refill"),
        () => {},
      );
      for (let ms = 0; ms < 990; ms += 10) {
        queue.hold()(); // a run started or finished every 10 ms
        vi.advanceTimersByTime(10);
        drain();
      }
      expect(started).toEqual([]);
      vi.advanceTimersByTime(10);
      drain();
      expect(started).toEqual(["refill"]);
    });

    it("drops a background boot still waiting for quiet when the queue closes", () => {
      const { queue, drain, started } = quietQueue();
      const dropped: string[] = [];
      queue.hold();
      queue.whenIdle(
        () => started.push("refill"),
        () => dropped.push("refill"),
      );
      queue.close();
      vi.advanceTimersByTime(2_000);
      drain();
      expect(started).toEqual([]);
      expect(dropped).toEqual(["refill"]);
    });
  });

  it("frees the slot of a starter that throws", () => {
    const { queue, drain } = manualQueue(1);
    const started: string[] = [];
    queue.enqueue(
      () => {
        throw new Error("spawn failed");
      },
      () => {},
    );
    queue.enqueue(
      () => started.push("next"),
      () => {},
    );
    drain();
    expect(started).toEqual(["next"]);
  });
});
