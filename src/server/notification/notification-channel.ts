/**
 * The port the server uses to put a Package 0 in front of a device. It is deliberately narrow: one URL-shaped
 * target per device (the device record's `notifyAddress`) and the finished notification bytes. Channels know
 * transports, not DM: building the trigger and choosing the session id stay in `src/notification/`.
 *
 * Plugging in an SMS / WAP-push gateway: `sms:` targets (`sms:+15550100`) go through `WapPushSmsChannel`,
 * which wraps the bytes in the WAP-push envelope of security.md §8.5 (UDH to port 2948, WSP Push with
 * content type 0x44 and application id 0x07, concatenated SMS when needed) and hands each segment to an
 * `SmsGateway` — one method, `sendBinary(to, userData)`. `KannelSmsGateway` speaks Kannel's sendsms; for SMPP
 * or a cloud SMS API, implement `SmsGateway` with that service's client and pass it as
 * `createNotificationChannel({ sms: gateway })`. See docs/notification.md.
 */
import { OmadmError } from '../../errors.js';

export interface NotificationChannel {
  /**
   * Sends one notification to `target`. Resolves once the transport accepted it (a UDP datagram left the
   * socket; an HTTP endpoint answered 2xx). Delivery to the device itself is never confirmed: the proof is the
   * device opening a session with the notification's session id.
   * Rejects with NotificationDeliveryError.
   */
  deliver(target: string, bytes: Uint8Array): Promise<void>;
}

export type NotificationDeliveryProblem =
  'notification-target-invalid' | 'notification-scheme-unsupported' | 'notification-delivery-failed';

/**
 * A notification could not be handed over. A bad or unsupported target is a configuration fault of the
 * device record (422); a transport failure is the device's or the network's (502).
 */
export class NotificationDeliveryError extends OmadmError {
  declare readonly code: NotificationDeliveryProblem;
  readonly target: string;

  constructor(
    code: NotificationDeliveryProblem,
    target: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, { httpStatus: code === 'notification-delivery-failed' ? 502 : 422, ...options });
    this.target = target;
  }
}

/** Parses a target URL or throws NotificationDeliveryError('notification-target-invalid'). */
export function parseTarget(target: string): URL {
  try {
    return new URL(target);
  } catch (cause) {
    throw new NotificationDeliveryError(
      'notification-target-invalid',
      target,
      `notification target ${JSON.stringify(target)} is not a URL`,
      { cause },
    );
  }
}
