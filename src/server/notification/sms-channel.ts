/**
 * Package 0 to phones: WAP push over SMS (security.md §8.5) for `sms:<msisdn>` targets (RFC 5724 form,
 * e.g. `sms:+15550100`). The channel builds the push and its SMS segments; an `SmsGateway` only sends one
 * binary SMS, so any operator interface (Kannel, SMPP, a cloud API) plugs in behind that one method.
 */
import { encodeWapPushSms } from '../../notification/index.js';
import { NotificationDeliveryError, type NotificationChannel } from './notification-channel.js';

/** Sends one 8-bit SMS whose user data starts with a UDH (the UDH-indicator bit set). */
export interface SmsGateway {
  sendBinary(to: string, userData: Uint8Array): Promise<void>;
}

export class WapPushSmsChannel implements NotificationChannel {
  readonly #gateway: SmsGateway;
  /** Concatenation reference, advanced per notification so segments of two pushes never mix. */
  #reference = 0;

  constructor(gateway: SmsGateway) {
    this.#gateway = gateway;
  }

  async deliver(target: string, bytes: Uint8Array): Promise<void> {
    const to = msisdnOf(target);
    this.#reference = (this.#reference + 1) & 0xff;
    const segments = encodeWapPushSms(bytes, { reference: this.#reference });
    for (const segment of segments) {
      try {
        await this.#gateway.sendBinary(to, segment);
      } catch (cause) {
        if (cause instanceof NotificationDeliveryError) throw cause;
        throw new NotificationDeliveryError(
          'notification-delivery-failed',
          target,
          `SMS gateway refused the notification for ${to}: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
      }
    }
  }
}

/** The phone number of an `sms:` target; parameters (`?body=`) are ignored. */
export function msisdnOf(target: string): string {
  const match = /^sms:(\+?[0-9]{3,20})(\?.*)?$/i.exec(target.trim());
  if (match?.[1] === undefined) {
    throw new NotificationDeliveryError(
      'notification-target-invalid',
      target,
      `SMS notification target ${JSON.stringify(target)} must look like sms:+15550100`,
    );
  }
  return match[1];
}

export interface KannelGatewayOptions {
  /** The sendsms endpoint, e.g. `http://127.0.0.1:13013/cgi-bin/sendsms`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Route through a named SMSC (Kannel `smsc`); optional. */
  readonly smsc?: string;
  readonly timeoutMs?: number;
}

/**
 * Kannel's HTTP `sendsms` interface: `udh` and `text` carry raw bytes percent-encoded, `coding=1` selects
 * 8-bit data. Kannel answers 2xx ("0: Accepted for delivery", "3: Queued for later delivery") or an error.
 */
export class KannelSmsGateway implements SmsGateway {
  readonly #options: KannelGatewayOptions;

  constructor(options: KannelGatewayOptions) {
    this.#options = options;
  }

  async sendBinary(to: string, userData: Uint8Array): Promise<void> {
    const udhLength = (userData[0] ?? 0) + 1;
    const params: [string, string][] = [
      ['username', encodeText(this.#options.username)],
      ['password', encodeText(this.#options.password)],
      ['to', encodeText(to)],
      ['coding', '1'],
      ['udh', percentEncodeBytes(userData.subarray(0, udhLength))],
      ['text', percentEncodeBytes(userData.subarray(udhLength))],
    ];
    if (this.#options.smsc !== undefined) params.push(['smsc', encodeText(this.#options.smsc)]);
    const query = params.map(([k, v]) => `${k}=${v}`).join('&');
    const response = await fetch(`${this.#options.url}?${query}`, {
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
    });
    const text = await response.text().catch(() => '');
    if (!response.ok)
      throw new Error(`Kannel answered HTTP ${response.status}: ${text.trim().slice(0, 200)}`);
  }
}

function encodeText(text: string): string {
  return percentEncodeBytes(new TextEncoder().encode(text));
}

/** Every byte that is not URL-unreserved becomes %XX, so binary survives the query string exactly. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
