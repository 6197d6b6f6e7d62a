/**
 * Server events as a port: the DM endpoint, the notifier and the queue publish; the SSE route and any operator
 * tooling subscribe. Two implementations: in-process (one server) and PostgreSQL LISTEN/NOTIFY (every process of a
 * cluster sees every event).
 *
 * Contract:
 * - `publish` resolves once the event is handed to the transport; delivery to listeners is asynchronous (never
 *   inside `publish`), in publish order per publisher.
 * - A listener that throws is isolated: other listeners still get the event.
 * - `subscribe` returns an unsubscribe function; after it, the listener gets nothing more.
 * - `close` stops delivery and frees the transport; publishing after close throws.
 */

interface EventBase<T extends string> {
  readonly type: T;
  readonly deviceId: string;
  /** Milliseconds since the epoch, set by the publisher. */
  readonly at: number;
}

export interface SessionStartedEvent extends EventBase<'session.started'> {
  readonly sessionId: string;
  /** `server` when Package 1 carried Alert 1200 (answering a Package 0), `client` for Alert 1201. */
  readonly initiator?: 'client' | 'server';
  /**
   * When the session answers a Package 0 this server sent (Alert 1200 with the notification's session id): when
   * it was sent, and the milliseconds from then to this Package 1.
   */
  readonly notifiedAt?: number;
  readonly latencyMs?: number;
}
export interface SessionEndedEvent extends EventBase<'session.ended'> {
  readonly sessionId: string;
  /** `completed`, `aborted`, `auth-failed`, `timeout`… free text for operators. */
  readonly reason?: string;
}
export interface CommandDoneEvent extends EventBase<'command.done'> {
  readonly commandId: number;
  readonly state: 'done' | 'failed' | 'expired' | 'cancelled';
  readonly status: number | null;
  /**
   * Why a command failed without the device's status: `unanswered` (status null: no answer after its last delivery
   * allowed, `maxDeliveries`), `too-large` (status 413: never sent, it cannot reach the device within its limits).
   */
  readonly reason?: 'unanswered' | 'too-large';
}
export interface GenericAlertEvent extends EventBase<'generic-alert'> {
  readonly alertId: number;
  readonly code: number;
  readonly correlator: string | null;
  /** The alert items' Meta/Type values, for filtering without another request. */
  readonly types: readonly string[];
}
export interface AuthFailureEvent extends EventBase<'auth.failure'> {
  /** `missing`, `wrong`, `wrong-type`, `locked`, `unknown-device`. */
  readonly reason: string;
  readonly lockedUntil?: number | null;
}
export interface NotificationSentEvent extends EventBase<'notification.sent'> {
  readonly sessionId?: string;
  /** Channel used (`http`, `sms`, …). */
  readonly channel?: string;
  /** The trigger's UI mode (security.md §8.1). */
  readonly uiMode?: 'not-specified' | 'background' | 'informative' | 'user-interaction';
}

export type ServerEvent =
  | SessionStartedEvent
  | SessionEndedEvent
  | CommandDoneEvent
  | GenericAlertEvent
  | AuthFailureEvent
  | NotificationSentEvent;

export type ServerEventType = ServerEvent['type'];
export const SERVER_EVENT_TYPES: readonly ServerEventType[] = [
  'session.started',
  'session.ended',
  'command.done',
  'generic-alert',
  'auth.failure',
  'notification.sent',
];

export interface EventFilter {
  /** Only events of this device. */
  readonly deviceId?: string;
  /** Only these event types. */
  readonly types?: readonly ServerEventType[];
}

export type EventListener = (event: ServerEvent) => void;
export type Unsubscribe = () => void;

export interface EventBus {
  /**
   * Delivers `event` to every subscriber (of every process, for a shared bus). Events reach subscribers in the order
   * `publish` was called in this process, whether or not the caller waited for the previous one.
   */
  publish(event: ServerEvent): Promise<void>;
  subscribe(listener: EventListener, filter?: EventFilter): Unsubscribe;
  close(): Promise<void>;
}

export function matchesFilter(event: ServerEvent, filter: EventFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.deviceId !== undefined && event.deviceId !== filter.deviceId) return false;
  if (filter.types !== undefined && !filter.types.includes(event.type)) return false;
  return true;
}

/** Whether untrusted JSON (a NOTIFY payload) is a ServerEvent. */
export function isServerEvent(value: unknown): value is ServerEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['type'] === 'string' &&
    (SERVER_EVENT_TYPES as readonly string[]).includes(v['type']) &&
    typeof v['deviceId'] === 'string' &&
    typeof v['at'] === 'number'
  );
}

/** Subscriber bookkeeping shared by both implementations. */
export class Subscribers {
  readonly #entries = new Set<{ listener: EventListener; filter: EventFilter | undefined }>();

  add(listener: EventListener, filter: EventFilter | undefined): Unsubscribe {
    const entry = { listener, filter };
    this.#entries.add(entry);
    return () => {
      this.#entries.delete(entry);
    };
  }

  get size(): number {
    return this.#entries.size;
  }

  deliver(event: ServerEvent): void {
    for (const entry of [...this.#entries]) {
      if (!matchesFilter(event, entry.filter)) continue;
      try {
        entry.listener(event);
      } catch {
        // A failing listener must not stop the others (contract above).
      }
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
