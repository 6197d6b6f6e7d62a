/**
 * Server-alerted sessions: sends one device the Package 0 that asks it to open a session (protocol.md §3.1,
 * security.md §8). The notifier owns the DM side (credentials, session id, the pending record, the event); the
 * channel owns the transport.
 *
 * For each notification, in order:
 * 1. the device must exist (404) and have a `notifyAddress` (409) some channel handles (422);
 * 2. a fresh session id, different from every notification still pending for the device (§8.4: different sessions
 *    need different trigger session ids);
 * 3. the trigger, signed with the device's server credentials: our ServerID, the SRVCRED password and the latest
 *    nonce the device issued to us (§8.2);
 * 4. the pending record is written *before* delivery, so a device answering faster than `deliver` resolves is still
 *    matched to it (any server process can match it: the record is in the store);
 * 5. delivery; on failure the pending record is removed again and the error surfaces (422 / 502);
 * 6. `notification.sent` is published.
 *
 * With `nonceResync` (security.md §8.3) the trigger is signed with the special nonce (4 zero bytes) instead of the
 * device's, and the device is offered, in the store, one session whose Package 1 credentials are built on that
 * nonce, until `nonceResyncOfferMs` from now (the DM endpoint takes the offer; exchange.ts). The offer is written
 * with the pending record, before delivery, and withdrawn if delivery fails.
 */
import { OmadmError } from '../../errors.js';
import {
  buildNotification,
  makeTrigger,
  RESYNC_NONCE,
  randomSessionId,
  sessionIdFromText,
  sessionIdText,
  type UiMode,
} from '../../notification/index.js';
import type { Random } from '../../platform/random.js';
import { cryptoRandom } from '../../platform/random.js';
import { fromB64 } from '../../security/digest.js';
import type { EventBus } from '../events/event-bus.js';
import type { Store } from '../store/store.js';
import { NotificationDeliveryError, parseTarget, type NotificationChannel } from './notification-channel.js';

/** What a sent notification is known by: the session the device is asked to open, and when it was asked. */
export interface NotificationSent {
  readonly deviceId: string;
  /** SyncHdr SessionID text the device will use (upper-case hex, no leading zeros). */
  readonly sessionId: string;
  readonly uiMode: UiMode;
  /** Milliseconds since the epoch. */
  readonly notifiedAt: number;
  /** The target's scheme (`udp`, `http`, `sms`, …). */
  readonly channel: string;
  /** Signed with the special resync nonce: the offer of a resync session stands until this time (ms since epoch). */
  readonly nonceResyncUntil?: number;
}

/** What `notify` may be asked for. */
export interface NotifyOptions {
  readonly uiMode?: UiMode;
  /**
   * security.md §8.3: sign with the special resync nonce (for a device whose stored server nonce no longer matches
   * ours, so ordinary triggers fail its digest check) and offer it one session on that nonce.
   */
  readonly nonceResync?: boolean;
}

/** How long a resync offer stands unless configured: long enough for a device asked to confirm first. */
export const DEFAULT_NONCE_RESYNC_OFFER_MS = 10 * 60_000;

/** The device is unknown (404) or has nowhere to be notified (409). Delivery problems are NotificationDeliveryError. */
export class NotifyError extends OmadmError {
  declare readonly code: 'device-not-found' | 'notify-address-missing';
  constructor(code: 'device-not-found' | 'notify-address-missing', message: string) {
    super(code, message, { httpStatus: code === 'device-not-found' ? 404 : 409 });
  }
}

export interface DeviceNotifierOptions {
  readonly store: Store;
  /** Usually `createNotificationChannel()`; `supports` (when present) refuses an unhandled scheme before signing. */
  readonly channel: NotificationChannel & { supports?(target: string): boolean };
  /** Our ServerID: the trigger's server identifier, matched by the device against its DMAcc ServerID. */
  readonly serverId: string;
  readonly events?: EventBus;
  readonly random?: Random;
  /** How long a nonce resync offer stands (security.md §8.3). Default DEFAULT_NONCE_RESYNC_OFFER_MS (10 minutes). */
  readonly nonceResyncOfferMs?: number;
  /** A failed `notification.sent` publish (the notification itself went out). */
  readonly onError?: (error: unknown) => void;
}

/** The port the REST API and the notify-on-queue policy use. */
export interface Notifier {
  /** Throws NotifyError or NotificationDeliveryError (both carry `code` and `httpStatus`). */
  notify(deviceId: string, options?: NotifyOptions): Promise<NotificationSent>;
}

export class DeviceNotifier implements Notifier {
  readonly #o: DeviceNotifierOptions;
  readonly #random: Random;

  constructor(options: DeviceNotifierOptions) {
    this.#o = options;
    this.#random = options.random ?? cryptoRandom;
  }

  async notify(deviceId: string, options: NotifyOptions = {}): Promise<NotificationSent> {
    const { store, channel } = this.#o;
    const uiMode = options.uiMode ?? 'not-specified';
    const device = await store.getDevice(deviceId);
    if (device === undefined)
      throw new NotifyError('device-not-found', `no device ${JSON.stringify(deviceId)}`);
    const target = device.notifyAddress;
    if (target === null) {
      throw new NotifyError(
        'notify-address-missing',
        `device ${JSON.stringify(deviceId)} has no notifyAddress: set one (PATCH the device) to notify it`,
      );
    }
    const scheme = parseTarget(target).protocol.slice(0, -1).toLowerCase();
    if (channel.supports !== undefined && !channel.supports(target)) {
      throw new NotificationDeliveryError(
        'notification-scheme-unsupported',
        target,
        `this server has no notification channel for ${scheme}: targets`,
      );
    }

    const pending = new Set(
      (await store.listPendingNotifications(deviceId)).flatMap((n) => {
        const id = sessionIdFromText(n.sessionId);
        return id === undefined ? [] : [id];
      }),
    );
    const sessionId = randomSessionId(this.#random, (id) => pending.has(id));
    const resync = options.nonceResync === true;
    // security.md §8.2: digest over our ServerID, the SRVCRED secret and the nonce the device last issued to us;
    // §8.3: or the special resync nonce, when that nonce is what went out of sync.
    const nonce = resync
      ? RESYNC_NONCE
      : device.serverNonce === null
        ? undefined
        : fromB64(device.serverNonce);
    const bytes = buildNotification(
      makeTrigger({ serverId: this.#o.serverId, sessionId, uiMode, initiator: 'server' }),
      { password: device.serverPassword, ...(nonce === undefined ? {} : { nonce }) },
    );
    const text = sessionIdText(sessionId);
    const record = await store.recordNotification(deviceId, { sessionId: text, uiMode });
    if (record === undefined)
      throw new NotifyError('device-not-found', `no device ${JSON.stringify(deviceId)}`);
    // Before delivery, like the pending record: a device answering at once must find the offer. Timed by the
    // store's clock, which the DM endpoint shares.
    const nonceResyncUntil = resync
      ? record.notifiedAt + (this.#o.nonceResyncOfferMs ?? DEFAULT_NONCE_RESYNC_OFFER_MS)
      : undefined;
    if (nonceResyncUntil !== undefined) await store.updateDevice(deviceId, { nonceResyncUntil });
    try {
      await channel.deliver(target, bytes);
    } catch (error) {
      // Nothing went out: the session id is free again and no session can answer it, nor take the offer.
      await store.takePendingNotification(deviceId, text).catch(() => undefined);
      if (nonceResyncUntil !== undefined)
        await store.updateDevice(deviceId, { nonceResyncUntil: null }).catch(() => undefined);
      if (error instanceof NotificationDeliveryError) throw error;
      throw new NotificationDeliveryError(
        'notification-delivery-failed',
        target,
        `delivering the notification to ${target} failed`,
        { cause: error },
      );
    }
    const sent: NotificationSent = {
      deviceId,
      sessionId: text,
      uiMode,
      notifiedAt: record.notifiedAt,
      channel: scheme,
      ...(nonceResyncUntil === undefined ? {} : { nonceResyncUntil }),
    };
    this.#o.events
      ?.publish({
        type: 'notification.sent',
        deviceId,
        sessionId: text,
        uiMode,
        channel: scheme,
        at: record.notifiedAt,
      })
      .catch((error: unknown) => this.#o.onError?.(error));
    return sent;
  }
}
