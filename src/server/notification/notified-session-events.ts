/**
 * Ties a session start to the Package 0 that asked for it. A decorator around the EventBus the DM endpoint publishes
 * to: a `session.started` whose Package 1 carried Alert 1200 (initiator `server`) and whose SessionID names a
 * notification still pending for the device (security.md §8.4: the device must use the trigger's session id) gets
 * `notifiedAt` and `latencyMs`, and the pending record is consumed — exactly once across processes, since the store
 * takes it atomically. Every other event passes through unchanged, and all of them reach the inner bus in the order
 * they were published (an event behind a lookup waits for it; the inner bus keeps that order).
 */
import type { EventBus, EventFilter, EventListener, ServerEvent, Unsubscribe } from '../events/event-bus.js';
import type { Store } from '../store/store.js';

export interface NotifiedSessionEventsOptions {
  /** A failed store lookup: the event is still published, without the latency. */
  readonly onError?: (error: unknown) => void;
}

/** protocol.md §3.2: Alert 1200 (initiator `server`) is the answer to a Package 0; 1201 sessions were never notified. */
function answersNotification(event: ServerEvent): boolean {
  return event.type === 'session.started' && event.initiator === 'server';
}

export class NotifiedSessionEvents implements EventBus {
  readonly #inner: EventBus;
  readonly #store: Pick<Store, 'takePendingNotification'>;
  readonly #options: NotifiedSessionEventsOptions;

  constructor(
    inner: EventBus,
    store: Pick<Store, 'takePendingNotification'>,
    options: NotifiedSessionEventsOptions = {},
  ) {
    this.#inner = inner;
    this.#store = store;
    this.#options = options;
  }

  /** Settles once the previous event in the queue was handed to the inner bus. */
  #handedOver: Promise<void> = Promise.resolve();
  /** Events waiting in that queue: while there are none, an event with no lookup goes straight through. */
  #queued = 0;

  publish(event: ServerEvent): Promise<void> {
    const needsLookup = answersNotification(event);
    if (!needsLookup && this.#queued === 0) return this.#inner.publish(event);
    this.#queued++;
    const previous = this.#handedOver;
    let handedOver!: () => void;
    this.#handedOver = new Promise<void>((resolve) => (handedOver = resolve));
    const correlated = needsLookup ? this.#correlate(event) : event;
    return (async () => {
      const ready = await correlated;
      await previous;
      this.#queued--;
      try {
        return this.#inner.publish(ready);
      } finally {
        handedOver();
      }
    })();
  }

  /** Only called for events that `answersNotification`. */
  async #correlate(event: ServerEvent): Promise<ServerEvent> {
    if (event.type !== 'session.started') return event;
    try {
      const pending = await this.#store.takePendingNotification(event.deviceId, event.sessionId);
      if (pending === undefined) return event;
      return {
        ...event,
        notifiedAt: pending.notifiedAt,
        latencyMs: Math.max(0, event.at - pending.notifiedAt),
      };
    } catch (error) {
      this.#options.onError?.(error);
      return event;
    }
  }

  subscribe(listener: EventListener, filter?: EventFilter): Unsubscribe {
    return this.#inner.subscribe(listener, filter);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
