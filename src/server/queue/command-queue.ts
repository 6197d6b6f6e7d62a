/**
 * Queueing a management command, as a port the REST API uses, so policies (notify-on-queue, …) wrap it instead of
 * living as flags in the route (STYLE.md habit 8). `storeCommandQueue` is the plain queue: the store's row.
 */
import type { CommandSpec } from '../store/command-spec.js';
import type { CommandRecord, Store } from '../store/store.js';

export interface EnqueueOptions {
  /** After this time a still-queued command expires instead of being sent. */
  readonly expiresAt?: number;
  /** The caller asks for the device to be notified now (`?notify=true`); policies decide what that means. */
  readonly notify?: boolean;
}

/** What a notification attempt made while queueing came to. */
export type QueueNotification =
  | {
      readonly outcome: 'sent';
      readonly sessionId: string;
      readonly notifiedAt: number;
    }
  /** A notification sent moments ago is still unanswered: the device is on its way and will fetch this too. */
  | {
      readonly outcome: 'pending';
      readonly sessionId: string;
      readonly notifiedAt: number;
    }
  /** The command is queued; the device was not notified. `code`/`message` as the notify route would answer. */
  | {
      readonly outcome: 'failed';
      readonly code: string;
      readonly message: string;
      readonly httpStatus: number;
    };

export interface QueuedCommand {
  readonly command: CommandRecord;
  /** Present when the queue tried to notify the device. */
  readonly notification?: QueueNotification;
}

export interface CommandQueue {
  /** Undefined for an unknown device. */
  enqueue(deviceId: string, spec: CommandSpec, options?: EnqueueOptions): Promise<QueuedCommand | undefined>;
}

/** The plain queue: one store write. It cannot notify: `notify: true` is reported as unavailable, not ignored. */
export function storeCommandQueue(store: Pick<Store, 'enqueueCommand'>): CommandQueue {
  return {
    async enqueue(deviceId, spec, options = {}) {
      const command = await store.enqueueCommand(
        deviceId,
        spec,
        options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt },
      );
      if (command === undefined) return undefined;
      if (options.notify !== true) return { command };
      return {
        command,
        notification: {
          outcome: 'failed',
          code: 'notifications-unavailable',
          message: 'this server sends no notifications',
          httpStatus: 501,
        },
      };
    },
  };
}
