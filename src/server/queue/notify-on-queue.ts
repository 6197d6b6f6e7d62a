/**
 * The notify-on-queue policy, a decorator around a CommandQueue (like Leshan's queue mode around its request
 * sender): after the inner queue took the command, the device is sent a Package 0 when the caller asked for it
 * (`notify: true`, i.e. `POST …/commands?notify=true`) or when the device record says so (`notifyOnQueue`).
 *
 * Coalescing: a notification sent less than `coalesceMs` ago and still unanswered is not repeated. The device is
 * already on its way, and its session fetches everything queued (the store hands every queued command to each
 * exchange), so a burst of queued commands costs one Package 0 and one session. "Unanswered" means pending in the
 * store *and* no message from the device since it was sent: the pending record is consumed only after the exchange
 * that answers it has committed, and a command queued meanwhile may have missed that exchange's read.
 *
 * A failed notification never un-queues the command: the outcome is reported beside it.
 */
import { OmadmError } from '../../errors.js';
import type { UiMode } from '../../notification/index.js';
import type { Clock } from '../../platform/clock.js';
import { systemClock } from '../../platform/clock.js';
import type { Notifier } from '../notification/device-notifier.js';
import type { Store } from '../store/store.js';
import type { CommandQueue, QueueNotification } from './command-queue.js';

export interface NotifyOnQueueOptions {
  readonly store: Pick<Store, 'getDevice' | 'listPendingNotifications'>;
  readonly notifier: Notifier;
  readonly clock?: Clock;
  /** An unanswered notification younger than this is not repeated. Default 30 s; 0 notifies every time. */
  readonly coalesceMs?: number;
  /** The UI mode of the notifications this policy sends. Default `not-specified`. */
  readonly uiMode?: UiMode;
  /** A notification that failed through our own fault (not an OmadmError), for logging. */
  readonly onError?: (error: unknown) => void;
}

export const DEFAULT_NOTIFY_COALESCE_MS = 30_000;

export function notifyOnQueue(inner: CommandQueue, options: NotifyOnQueueOptions): CommandQueue {
  const clock = options.clock ?? systemClock;
  const coalesceMs = options.coalesceMs ?? DEFAULT_NOTIFY_COALESCE_MS;

  async function notification(deviceId: string, lastSeen: number | null): Promise<QueueNotification> {
    if (coalesceMs > 0) {
      const recent = (await options.store.listPendingNotifications(deviceId)).filter(
        (n) => n.notifiedAt >= clock.now() - coalesceMs,
      );
      const newest = recent[recent.length - 1];
      if (newest !== undefined && (lastSeen === null || lastSeen < newest.notifiedAt))
        return { outcome: 'pending', sessionId: newest.sessionId, notifiedAt: newest.notifiedAt };
    }
    try {
      const sent = await options.notifier.notify(deviceId, { uiMode: options.uiMode ?? 'not-specified' });
      return { outcome: 'sent', sessionId: sent.sessionId, notifiedAt: sent.notifiedAt };
    } catch (error) {
      if (error instanceof OmadmError)
        return { outcome: 'failed', code: error.code, message: error.message, httpStatus: error.httpStatus };
      // The command is queued whatever happened here: answering 500 would invite a retry that queues it twice.
      options.onError?.(error);
      return { outcome: 'failed', code: 'internal', message: 'notifying the device failed', httpStatus: 500 };
    }
  }

  return {
    async enqueue(deviceId, spec, enqueueOptions = {}) {
      const queued = await inner.enqueue(deviceId, spec, enqueueOptions);
      if (queued === undefined) return undefined;
      const device = await options.store.getDevice(deviceId);
      if (device === undefined || (enqueueOptions.notify !== true && !device.notifyOnQueue)) return queued;
      return { ...queued, notification: await notification(deviceId, device.lastSeen) };
    },
  };
}
