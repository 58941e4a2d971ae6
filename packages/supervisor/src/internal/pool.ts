/**
 * Warm pool of pre-spawned run processes. Each process serves exactly one run (one run = one
 * process still holds): it idles waiting for `init`, which carries the run's env and workspace,
 * and is refilled in the background after a take: one spawn at a time through the boot queue's
 * background lane, which creates it only when no run start waits for a process and a boot slot
 * is free — never ahead of a queued start, and never inside a run's start or finish while the
 * pool still has a process to give (an empty pool refills at once: a cold start costs more). A refill
 * holds its boot slot until the process says it is ready (or is taken, or dies). A pooled
 * process that dies while idle is dropped; repeated early deaths stop the refill so a broken
 * entry cannot spin. A process that is ready is sent `warm_up`: it rehearses a run's start while
 * it idles.
 */
import type { ChildProcess } from "node:child_process";
import { BOOT_SLOT_MS } from "./boot-queue.ts";
import type { BootQueue } from "./boot-queue.ts";
import { sendToChild } from "./child-process.ts";
import type { WarmUpMessage } from "../protocol.ts";

const MAX_CONSECUTIVE_FAILURES = 3;
const warmUp: WarmUpMessage = { type: "warm_up" };

/** A fixed-size set of idle run processes. */
export class WarmPool {
  private readonly idle = new Set<ChildProcess>();
  /** The pool's own listeners per idle process, removed when the process is taken. */
  private readonly handlers = new Map<
    ChildProcess,
    {
      exit: () => void;
      error: (err: Error) => void;
      message: () => void;
      /** Ends the process's boot (frees its boot slot); idempotent. */
      bootOver: () => void;
    }
  >();
  private readonly size: number;
  private readonly spawnOne: () => ChildProcess;
  private readonly boots: BootQueue;
  private readonly log: (line: string) => void;
  private failures = 0;
  private closed = false;
  private refillQueued = false;

  constructor(
    size: number,
    spawnOne: () => ChildProcess,
    boots: BootQueue,
    log: (line: string) => void,
  ) {
    this.size = size;
    this.spawnOne = spawnOne;
    this.boots = boots;
    this.log = log;
  }

  /**
   * Tops the pool up to its size, one spawn at a time, when the boot queue is idle and no run is
   * starting or finishing — or at once when the pool is empty (a cold start costs more).
   */
  fill(): void {
    if (this.closed) return;
    if (this.refillQueued) {
      this.boots.recheck(); // the pool may have just run dry
      return;
    }
    if (this.idle.size >= this.size || this.failures >= MAX_CONSECUTIVE_FAILURES) return;
    this.refillQueued = true;
    this.boots.whenIdle(
      (release) => {
        this.refillQueued = false;
        if (this.closed || this.idle.size >= this.size) {
          release();
          return;
        }
        if (this.failures >= MAX_CONSECUTIVE_FAILURES) {
          release();
          return;
        }
        if (this.addOne(release)) this.fill();
      },
      () => {
        this.refillQueued = false;
      },
      () => this.idle.size > 0,
    );
  }

  /** An idle, still-connected process, or `null` when none is ready. Triggers a refill. */
  take(): ChildProcess | null {
    for (const child of this.idle) {
      this.idle.delete(child);
      this.detach(child);
      if (child.connected && child.exitCode === null && child.signalCode === null) {
        this.failures = 0;
        child.ref();
        child.channel?.ref();
        for (const stream of [child.stdout, child.stderr]) {
          (stream as { ref?: () => void } | null)?.ref?.();
          // Idle streams were pause()d explicitly, and a 'data' listener added later does not
          // restart an explicitly paused stream: without this the run's output would sit in
          // the pipe until exit (and a run printing more than a pipe buffer would hang).
          // Flow starts on the next tick, after the caller has attached its listeners.
          stream?.resume();
        }
        this.fill();
        return child;
      }
    }
    this.fill();
    return null;
  }

  /** Kills every idle process; the pool refills no more. Resolves when they have exited. */
  close(): Promise<void> {
    this.closed = true;
    const exits: Promise<void>[] = [];
    for (const child of this.idle) {
      this.detach(child);
      exits.push(
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once("exit", () => resolve());
        }),
      );
      child.kill("SIGKILL");
    }
    this.idle.clear();
    return Promise.all(exits).then(() => undefined);
  }

  /** Removes the pool's listeners; the process's boot is over for the pool either way. */
  private detach(child: ChildProcess): void {
    const own = this.handlers.get(child);
    if (own === undefined) return;
    this.handlers.delete(child);
    child.off("exit", own.exit);
    child.off("error", own.error);
    child.off("message", own.message);
    own.bootOver();
  }

  private addOne(release: () => void): boolean {
    let child: ChildProcess;
    try {
      child = this.spawnOne();
    } catch (err) {
      release();
      this.failures += 1;
      this.log(`warm pool: could not spawn a run process: ${String(err)}`);
      return false;
    }
    const spawnedAt = Date.now();
    this.idle.add(child);
    let booting = true;
    const bootOver = (): void => {
      if (!booting) return;
      booting = false;
      clearTimeout(valve);
      release();
    };
    // A process that never says it is ready frees its slot after a while anyway.
    const valve = setTimeout(bootOver, BOOT_SLOT_MS);
    valve.unref();
    // The runtime's `ready` (its first message) ends the boot; the process stays idle, and
    // rehearses a start meanwhile.
    let rehearsed = false;
    const message = (): void => {
      bootOver();
      if (rehearsed) return;
      rehearsed = true;
      sendToChild(child, warmUp);
    };
    const error = (err: Error): void => {
      this.idle.delete(child);
      this.detach(child);
      this.failures += 1;
      this.log(`warm pool: run process error: ${err.message}`);
    };
    const exit = (): void => {
      this.idle.delete(child);
      this.detach(child);
      if (this.closed) return;
      if (Date.now() - spawnedAt < 1000) this.failures += 1;
      this.log(
        `warm pool: idle run process exited (${child.signalCode ?? `code ${String(child.exitCode)}`})`,
      );
      this.fill();
    };
    child.on("error", error);
    child.on("exit", exit);
    child.on("message", message);
    this.handlers.set(child, { exit, error, message, bootOver });
    // Idle processes must not keep the engine's event loop alive.
    child.unref();
    child.channel?.unref();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.pause();
      (stream as { unref?: () => void } | null)?.unref?.();
    }
    return true;
  }
}
