/**
 * A bounded in-memory set of keys that expire: the memory of webhook deliveries already
 * accepted. Knows nothing about HTTP or signatures. Invariants: at most `maxEntries` keys are
 * held (the oldest is forgotten first when full), an expired key is never reported as seen, and
 * admitting a group of keys is all-or-nothing. Lives in process memory: a restart forgets it.
 */

/** Options of {@link ReplayCache}. */
export interface ReplayCacheOptions {
  /** Most keys held at once. */
  maxEntries: number;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** Remembers keys until they expire; see the module header. */
export class ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: ReplayCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** The clock, epoch ms. */
  now(): number {
    return this.#now();
  }

  /** Keys held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Remembers every key until `expiresAtMs`, unless one of them is already remembered and
   * unexpired: then nothing changes and the result is `null`. Otherwise the result forgets the
   * keys again (for a delivery whose run could not be started, so its retry is accepted).
   */
  admit(keys: readonly string[], expiresAtMs: number): (() => void) | null {
    const now = this.#now();
    this.#dropExpired(now);
    for (const key of keys) {
      const expiresAt = this.#entries.get(key);
      if (expiresAt !== undefined && expiresAt > now) return null;
    }
    for (const key of keys) {
      this.#entries.delete(key);
      this.#entries.set(key, expiresAtMs);
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
    }
    return () => {
      for (const key of keys) {
        if (this.#entries.get(key) === expiresAtMs) this.#entries.delete(key);
      }
    };
  }

  /** Drops expired keys from the oldest end (amortised: each key is dropped once). */
  #dropExpired(now: number): void {
    for (const [key, expiresAt] of this.#entries) {
      if (expiresAt > now) return;
      this.#entries.delete(key);
    }
  }
}
