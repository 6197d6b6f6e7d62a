import type { Clock } from '../platform/clock.js';
import type { NotificationTrigger } from './trigger.js';

export interface ReplayGuardOptions {
  /** How long a (server, session id) pair stays remembered after its first sighting. Default 10 minutes. */
  readonly windowMs?: number;
  /** Most pairs remembered; the oldest is forgotten first. Bounds memory under a flood. Default 1024. */
  readonly maxEntries?: number;
}

/**
 * Remembers which triggers already started a session so a replayed or re-sent one starts no second session
 * (security.md §8.4, ets.md DG-NOT-06). The key is (ServerID, session id): a re-trigger of the same pending
 * session reuses its id, and a replay repeats id and digest alike, so both are caught.
 *
 * Feed it only notifications whose digest verified: otherwise anyone could burn session ids by sending forged
 * triggers. Pure: time comes from the Clock port.
 */
export class NotificationReplayGuard {
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  /** key → first-seen time, in insertion (= time) order. */
  readonly #seen = new Map<string, number>();

  constructor(clock: Clock, options: ReplayGuardOptions = {}) {
    this.#clock = clock;
    this.#windowMs = options.windowMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 1024;
    if (!(this.#windowMs > 0) || !Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new RangeError('NotificationReplayGuard: windowMs must be > 0 and maxEntries an integer ≥ 1');
    }
  }

  /** True when this trigger is new within the window (and records it); false for a replay. */
  admit(trigger: Pick<NotificationTrigger, 'serverId' | 'sessionId'>): boolean {
    const now = this.#clock.now();
    this.#prune(now);
    const key = `${trigger.sessionId}:${trigger.serverId}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, now);
    if (this.#seen.size > this.#maxEntries) {
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
    return true;
  }

  /** Number of pairs currently remembered. */
  get size(): number {
    this.#prune(this.#clock.now());
    return this.#seen.size;
  }

  #prune(now: number): void {
    for (const [key, firstSeen] of this.#seen) {
      if (now - firstSeen < this.#windowMs) break;
      this.#seen.delete(key);
    }
  }
}
