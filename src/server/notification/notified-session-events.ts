/**
 * Ties a session start to the Package 0 that asked for it. A decorator around the EventBus the DM endpoint publishes
 * to: a `session.started` whose Package 1 carried Alert 1200 (initiator `server`) and whose SessionID names a
 * notification still pending for the device (security.md §8.4: the device must use the trigger's session id) gets
 * `notifiedAt` and `latencyMs`, and the pending record is consumed — exactly once across processes, since the store
 * takes it atomically. Every other event passes through unchanged.
 */
import type { EventBus, EventFilter, EventListener, ServerEvent, Unsubscribe } from '../events/event-bus.js';
import type { Store } from '../store/store.js';

export interface NotifiedSessionEventsOptions {
  /** A failed store lookup: the event is still published, without the latency. */
  readonly onError?: (error: unknown) => void;
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

  async publish(event: ServerEvent): Promise<void> {
    return this.#inner.publish(await this.#correlate(event));
  }

  async #correlate(event: ServerEvent): Promise<ServerEvent> {
    // protocol.md §3.2: Alert 1200 is the answer to a Package 0; 1201 sessions were never notified.
    if (event.type !== 'session.started' || event.initiator !== 'server') return event;
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
