/** EventBus for a single server process: events go to this process's subscribers only. */
import { OmadmError } from '../../errors.js';
import { Subscribers } from './event-bus.js';
import type { EventBus, EventFilter, EventListener, ServerEvent, Unsubscribe } from './event-bus.js';

export class InProcessEventBus implements EventBus {
  readonly #subscribers = new Subscribers();
  #closed = false;

  async publish(event: ServerEvent): Promise<void> {
    if (this.#closed) throw new OmadmError('event-bus-closed', 'the event bus is closed');
    // Delivered asynchronously so a publisher never runs subscriber code inside its own call.
    queueMicrotask(() => this.#subscribers.deliver(event));
  }

  subscribe(listener: EventListener, filter?: EventFilter): Unsubscribe {
    return this.#subscribers.add(listener, filter);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subscribers.clear();
  }
}
