import { HttpNotificationChannel, type HttpChannelOptions } from './http-channel.js';
import { NotificationDeliveryError, parseTarget, type NotificationChannel } from './notification-channel.js';
import { WapPushSmsChannel, type SmsGateway } from './sms-channel.js';
import { UdpNotificationChannel } from './udp-channel.js';

/** A channel that hands each target to the channel registered for its URL scheme. */
export class SchemeRoutingChannel implements NotificationChannel {
  readonly #routes: ReadonlyMap<string, NotificationChannel>;

  /** `routes` maps a scheme without the colon (`udp`, `http`, `sms`) to its channel. */
  constructor(routes: ReadonlyMap<string, NotificationChannel>) {
    this.#routes = new Map([...routes].map(([scheme, channel]) => [scheme.toLowerCase(), channel]));
  }

  /** The schemes this router delivers to, for validating a device's notifyAddress up front. */
  get schemes(): readonly string[] {
    return [...this.#routes.keys()];
  }

  /** Whether `target` names a scheme some channel handles (no deeper validation). */
  supports(target: string): boolean {
    try {
      return this.#routes.has(parseTarget(target).protocol.slice(0, -1));
    } catch {
      return false;
    }
  }

  async deliver(target: string, bytes: Uint8Array): Promise<void> {
    const scheme = parseTarget(target).protocol.slice(0, -1);
    const channel = this.#routes.get(scheme);
    if (channel === undefined) {
      throw new NotificationDeliveryError(
        'notification-scheme-unsupported',
        target,
        `no notification channel for ${scheme}: targets (configured: ${this.schemes.join(', ')})`,
      );
    }
    return channel.deliver(target, bytes);
  }
}

export interface NotificationChannelOptions {
  readonly http?: HttpChannelOptions;
  /** When given, `sms:` targets go out as WAP push through this gateway (e.g. a KannelSmsGateway). */
  readonly sms?: SmsGateway;
  /** More channels by scheme, e.g. `{ sms: mySmsGatewayChannel }`; they may also replace udp/http/https. */
  readonly extra?: Readonly<Record<string, NotificationChannel>>;
}

/** The server's default channel: `udp:` datagrams, `http:`/`https:` POSTs, `sms:` with a gateway, `extra`. */
export function createNotificationChannel(options: NotificationChannelOptions = {}): SchemeRoutingChannel {
  const http = new HttpNotificationChannel(options.http);
  const routes = new Map<string, NotificationChannel>([
    ['udp', new UdpNotificationChannel()],
    ['http', http],
    ['https', http],
  ]);
  if (options.sms !== undefined) routes.set('sms', new WapPushSmsChannel(options.sms));
  for (const [scheme, channel] of Object.entries(options.extra ?? {}))
    routes.set(scheme.toLowerCase(), channel);
  return new SchemeRoutingChannel(routes);
}
