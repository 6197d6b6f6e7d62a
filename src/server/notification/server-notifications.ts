/**
 * Server-alerted sessions wired for one server process: the Package 0 sender, the queue with its notify-on-queue
 * policy, and the event bus the DM endpoint publishes to (which ties `session.started` to the notification it
 * answers). `startServer` (app.ts) composes these; everything they keep is in the store, so any process of a
 * cluster can send a notification and any other can match the device's answer.
 */
import type { Clock } from '../../platform/clock.js';
import type { Random } from '../../platform/random.js';
import type { EventBus } from '../events/event-bus.js';
import { storeCommandQueue, type CommandQueue } from '../queue/command-queue.js';
import { notifyOnQueue } from '../queue/notify-on-queue.js';
import type { Store } from '../store/store.js';
import { createNotificationChannel } from './channel-router.js';
import { DeviceNotifier } from './device-notifier.js';
import type { NotificationChannel } from './notification-channel.js';
import { NotifiedSessionEvents } from './notified-session-events.js';

export interface ServerNotificationsOptions {
  readonly store: Store;
  readonly events: EventBus;
  readonly serverId: string;
  readonly clock: Clock;
  readonly random: Random;
  /** Default `createNotificationChannel()` (udp:, http:, https:); pass one with an SMS gateway for `sms:`. */
  readonly channel?: NotificationChannel & { supports?(target: string): boolean };
  /** Unanswered notifications younger than this are not repeated by the notify-on-queue policy. Default 30 s. */
  readonly coalesceMs?: number;
  /** How long a nonce resync offer stands (security.md §8.3). Default 10 minutes. */
  readonly nonceResyncOfferMs?: number;
  /** Our own failures (a publish, a store lookup), for logging; never secrets. */
  readonly onError?: (error: unknown) => void;
}

export interface ServerNotifications {
  readonly notifier: DeviceNotifier;
  /** The store queue wrapped in the notify-on-queue policy. */
  readonly queue: CommandQueue;
  /** Give this to the DM endpoint instead of the bare bus. */
  readonly dmEvents: EventBus;
}

export function serverNotifications(options: ServerNotificationsOptions): ServerNotifications {
  const { store, events, clock } = options;
  const onError = options.onError ?? (() => undefined);
  const notifier = new DeviceNotifier({
    store,
    channel: options.channel ?? createNotificationChannel(),
    serverId: options.serverId,
    events,
    random: options.random,
    ...(options.nonceResyncOfferMs === undefined ? {} : { nonceResyncOfferMs: options.nonceResyncOfferMs }),
    onError,
  });
  const queue = notifyOnQueue(storeCommandQueue(store), {
    store,
    notifier,
    clock,
    ...(options.coalesceMs === undefined ? {} : { coalesceMs: options.coalesceMs }),
    onError,
  });
  return { notifier, queue, dmEvents: new NotifiedSessionEvents(events, store, { onError }) };
}
