import { ContentType } from '../../syncml/content-type.js';
import { NotificationDeliveryError, parseTarget, type NotificationChannel } from './notification-channel.js';

export interface HttpChannelOptions {
  /** Give up on an endpoint that does not answer within this time. Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * POSTs each notification to an `http://` or `https://` URL with content type
 * `application/vnd.syncml.notification` (protocol.md §3.1). Any 2xx answer counts as accepted.
 */
export class HttpNotificationChannel implements NotificationChannel {
  readonly #timeoutMs: number;

  constructor(options: HttpChannelOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async deliver(target: string, bytes: Uint8Array): Promise<void> {
    const url = parseTarget(target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new NotificationDeliveryError(
        'notification-target-invalid',
        target,
        `HTTP notification target ${JSON.stringify(target)} must be an http:// or https:// URL`,
      );
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': ContentType.NOTIFICATION },
        body: bytes,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new NotificationDeliveryError(
        'notification-delivery-failed',
        target,
        `HTTP POST of the notification to ${target} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    // Drain the body so the connection can be reused or closed.
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      throw new NotificationDeliveryError(
        'notification-delivery-failed',
        target,
        `notification endpoint ${target} answered HTTP ${response.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`,
      );
    }
  }
}
