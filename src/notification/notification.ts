/**
 * The two operations on a whole Package 0: the server builds one, the device authenticates one.
 * Pure: the caller supplies the credentials (the DMAcc SRVCRED entry) and decides the resync policy.
 */
import { computeNotificationDigest, digestsEqual, RESYNC_NONCE, RESYNC_NONCE_ASCII } from './digest.js';
import { NotificationAuthError } from './notification-errors.js';
import { sessionIdText } from './session-id.js';
import {
  decodeNotification,
  encodeTrigger,
  type DecodedNotification,
  type NotificationDecodeLimits,
} from './trigger-codec.js';
import { TriggerLayout, type NotificationTrigger } from './trigger.js';

/** The server's credentials toward the device: the DMAcc `AppAuth` entry with AAuthLevel SRVCRED (security.md §9). */
export interface ServerCredentials {
  /** AAuthSecret. */
  readonly password: string | Uint8Array;
  /** AAuthData, Base64-decoded. Absent or empty when the account holds no nonce yet. */
  readonly nonce?: Uint8Array;
  /**
   * Name hashed into the digest. Default: the trigger's server identifier, as security.md §8.2 says. Set it to
   * the SRVCRED AAuthName only to interoperate with libdmclient, which hashes that instead.
   */
  readonly digestName?: string;
}

/**
 * What the device does when the digest fails with the stored nonce (security.md §8.3, step 1). Resync is
 * optional for clients (Microsoft's UseNonceResync defaults to off), so the device policy chooses:
 * - 'off': drop the trigger;
 * - 'zero-bytes': retry with four zero bytes (the encoding the digest recommends);
 * - 'zero-bytes-or-ascii': also accept libdmclient's ASCII "0x00000000".
 */
export type ResyncPolicy = 'off' | 'zero-bytes' | 'zero-bytes-or-ascii';

export interface AuthenticateOptions {
  readonly resync?: ResyncPolicy;
}

export interface VerifiedNotification {
  readonly trigger: NotificationTrigger;
  /** The SyncHdr/SessionID the device must send in package 1 (§8.4): "1234" for 0x1234, "AB" for 0x00AB. */
  readonly sessionIdText: string;
  /**
   * 'stored' when the account's nonce matched. 'resync' when only the special nonce did: the server lost nonce
   * sync, so package 1 credentials are built on `nonce` and both nonces are refreshed (§8.3 steps 2–4).
   */
  readonly nonceUsed: 'stored' | 'resync';
  /** The nonce bytes the digest matched with. */
  readonly nonce: Uint8Array;
  readonly digest: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Package 0 for a trigger: digest ‖ trigger (security.md §8.1–8.2). The nonce is the SRVCRED AAuthData. */
export function buildNotification(trigger: NotificationTrigger, credentials: ServerCredentials): Uint8Array {
  const body = encodeTrigger(trigger);
  const digest = computeNotificationDigest({
    serverId: credentials.digestName ?? trigger.serverId,
    serverPassword: credentials.password,
    nonce: credentials.nonce ?? EMPTY,
    trigger: body,
  });
  const out = new Uint8Array(TriggerLayout.DIGEST_BYTES + body.length);
  out.set(digest, 0);
  out.set(body, TriggerLayout.DIGEST_BYTES);
  return out;
}

/**
 * Checks a decoded notification against the server's credentials in constant time per candidate nonce.
 * `credentials` undefined means the device has no DMAcc for that ServerID. Throws NotificationAuthError.
 */
export function authenticateNotification(
  decoded: DecodedNotification,
  credentials: ServerCredentials | undefined,
  options: AuthenticateOptions = {},
): VerifiedNotification {
  const { trigger } = decoded;
  if (credentials === undefined) {
    throw new NotificationAuthError(
      'notification-unknown-server',
      trigger.serverId,
      `no account for server ${JSON.stringify(trigger.serverId)}: notification ignored`,
    );
  }
  const stored = credentials.nonce ?? EMPTY;
  const candidates: { nonce: Uint8Array; used: 'stored' | 'resync' }[] = [{ nonce: stored, used: 'stored' }];
  const resync = options.resync ?? 'off';
  if (resync !== 'off') candidates.push({ nonce: RESYNC_NONCE, used: 'resync' });
  if (resync === 'zero-bytes-or-ascii') candidates.push({ nonce: RESYNC_NONCE_ASCII, used: 'resync' });

  for (const { nonce, used } of candidates) {
    const expected = computeNotificationDigest({
      serverId: credentials.digestName ?? trigger.serverId,
      serverPassword: credentials.password,
      nonce,
      trigger: decoded.triggerBytes,
    });
    if (digestsEqual(expected, decoded.digest)) {
      // A stored nonce equal to the resync nonce is still the stored one: no resync needed.
      return {
        trigger,
        sessionIdText: sessionIdText(trigger.sessionId),
        nonceUsed: used,
        nonce,
        digest: decoded.digest,
      };
    }
  }
  // security.md §8.3: if the resync nonce also fails, the trigger is ignored.
  throw new NotificationAuthError(
    'notification-digest-mismatch',
    trigger.serverId,
    `digest of the notification from ${JSON.stringify(trigger.serverId)} does not match the account's password and nonce` +
      (resync === 'off' ? '' : ' (nor the resync nonce)'),
  );
}

export interface VerifyOptions extends AuthenticateOptions {
  readonly limits?: Partial<NotificationDecodeLimits>;
}

/** Decode then authenticate, for callers whose credential lookup is synchronous. */
export function verifyNotification(
  bytes: Uint8Array,
  lookup: (serverId: string) => ServerCredentials | undefined,
  options: VerifyOptions = {},
): VerifiedNotification {
  const decoded = decodeNotification(bytes, options.limits);
  return authenticateNotification(decoded, lookup(decoded.trigger.serverId), options);
}
