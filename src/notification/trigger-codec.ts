/**
 * The Package 0 byte layout (security.md §8.1), pure and symmetric: `decodeNotification(d ‖ encodeTrigger(t))`
 * gives back `t`. All multi-byte fields are big-endian.
 *
 *   0..15  digest (raw MD5)
 *   16..17 version(10) ui-mode(2) initiator(1) future(3)
 *   18..20 future (24 bits, zero)
 *   21..22 session id
 *   23     length N of the server identifier
 *   24..   server identifier (N bytes), then vendor-specific bytes to the end
 */
import { NotificationDecodeError, NotificationEncodeError } from './notification-errors.js';
import { assertSessionId } from './session-id.js';
import {
  NOTIFICATION_VERSION,
  TriggerLayout,
  UI_MODES,
  type NotificationTrigger,
  type UiMode,
} from './trigger.js';

export interface NotificationDecodeLimits {
  /** Largest accepted notification (digest included). Default 2048: a trigger fits in a few SMS. */
  readonly maxBytes: number;
  /**
   * Accepted version range. Default 10..12: the 1.2.1 text fixes 11, and security.md §8.1 recommends leniency
   * around it (libdmclient's 11-only check is an interop trap); widen to 0..1023 to never reject on version.
   */
  readonly minVersion: number;
  readonly maxVersion: number;
}

export const DEFAULT_NOTIFICATION_LIMITS: NotificationDecodeLimits = {
  maxBytes: 2048,
  minVersion: NOTIFICATION_VERSION - 1,
  maxVersion: NOTIFICATION_VERSION + 1,
};

/** A parsed, not yet authenticated notification. */
export interface DecodedNotification {
  readonly digest: Uint8Array;
  /** The bytes the digest covers: everything after the digest (security.md §8.2). */
  readonly triggerBytes: Uint8Array;
  readonly trigger: NotificationTrigger;
}

const HEADER_END = TriggerLayout.DIGEST_BYTES + TriggerLayout.HEADER_BYTES;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The trigger bytes (header + body, without the digest) for a trigger; validates every field first. */
export function encodeTrigger(trigger: NotificationTrigger): Uint8Array {
  const { version, uiMode, initiator, sessionId, serverId, vendorData } = trigger;
  if (!Number.isInteger(version) || version < 0 || version > TriggerLayout.MAX_VERSION) {
    throw new NotificationEncodeError('version', `version ${String(version)} does not fit in 10 bits`);
  }
  const ui = UI_MODES.indexOf(uiMode);
  if (ui < 0) throw new NotificationEncodeError('uiMode', `unknown ui mode ${JSON.stringify(uiMode)}`);
  if (initiator !== 'user' && initiator !== 'server') {
    throw new NotificationEncodeError('initiator', `unknown initiator ${JSON.stringify(initiator)}`);
  }
  assertSessionId(sessionId);
  const problem = serverIdProblem(serverId);
  if (problem !== undefined) throw new NotificationEncodeError('serverId', problem);
  const id = utf8.encode(serverId);
  if (id.length > TriggerLayout.MAX_SERVER_ID_BYTES) {
    throw new NotificationEncodeError(
      'serverId',
      `server id is ${id.length} UTF-8 bytes, the length byte allows 255`,
    );
  }
  if (!(vendorData instanceof Uint8Array))
    throw new NotificationEncodeError('vendorData', 'vendor data must be bytes');

  const out = new Uint8Array(TriggerLayout.HEADER_BYTES + id.length + vendorData.length);
  out[0] = version >> 2;
  out[1] = ((version & 0b11) << 6) | (ui << 4) | (initiator === 'server' ? 1 << 3 : 0);
  // bytes 2..4 stay zero: the 27 future-use bits are all zero (§8.1)
  out[5] = sessionId >> 8;
  out[6] = sessionId & 0xff;
  out[7] = id.length;
  out.set(id, TriggerLayout.HEADER_BYTES);
  out.set(vendorData, TriggerLayout.HEADER_BYTES + id.length);
  return out;
}

/** Parses a whole notification (digest ‖ trigger). Throws NotificationDecodeError naming the problem. */
export function decodeNotification(
  bytes: Uint8Array,
  limits: Partial<NotificationDecodeLimits> = {},
): DecodedNotification {
  const { maxBytes, minVersion, maxVersion } = { ...DEFAULT_NOTIFICATION_LIMITS, ...limits };
  if (bytes.length > maxBytes) {
    throw new NotificationDecodeError(
      'notification-too-long',
      `notification of ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
    );
  }
  if (bytes.length < HEADER_END) {
    throw new NotificationDecodeError(
      'notification-too-short',
      `notification of ${bytes.length} bytes is shorter than digest + header (${HEADER_END} bytes)`,
    );
  }
  const b = (i: number): number => bytes[i] ?? 0;
  const h = TriggerLayout.DIGEST_BYTES;
  const version = (b(h) << 2) | (b(h + 1) >> 6);
  if (version < minVersion || version > maxVersion) {
    throw new NotificationDecodeError(
      'notification-version-unsupported',
      `notification version ${version} is outside the accepted range ${minVersion}..${maxVersion}`,
      h,
    );
  }
  if ((b(h + 1) & 0b111) !== 0 || b(h + 2) !== 0 || b(h + 3) !== 0 || b(h + 4) !== 0) {
    throw new NotificationDecodeError(
      'notification-reserved-bits-set',
      'future-use bits must be zero (§8.1)',
      h + 1,
    );
  }
  const sessionId = (b(h + 5) << 8) | b(h + 6);
  if (sessionId === 0) {
    throw new NotificationDecodeError(
      'notification-session-id-zero',
      'session id 0 is not a valid session id',
      h + 5,
    );
  }
  const idLength = b(h + 7);
  if (idLength === 0) {
    throw new NotificationDecodeError('notification-server-id-empty', 'server identifier length is 0', h + 7);
  }
  if (bytes.length < HEADER_END + idLength) {
    throw new NotificationDecodeError(
      'notification-too-short',
      `server identifier of ${idLength} bytes runs past the end of a ${bytes.length}-byte notification`,
      h + 7,
    );
  }
  let serverId: string;
  try {
    serverId = strictUtf8.decode(bytes.subarray(HEADER_END, HEADER_END + idLength));
  } catch (cause) {
    throw new NotificationDecodeError(
      'notification-server-id-invalid',
      `server identifier is not UTF-8 (${String(cause)})`,
      HEADER_END,
    );
  }
  const problem = serverIdProblem(serverId);
  if (problem !== undefined)
    throw new NotificationDecodeError('notification-server-id-invalid', problem, HEADER_END);

  return {
    digest: bytes.slice(0, h),
    triggerBytes: bytes.slice(h),
    trigger: {
      version,
      uiMode: UI_MODES[(b(h + 1) >> 4) & 0b11] as UiMode,
      initiator: (b(h + 1) & 0b1000) === 0 ? 'user' : 'server',
      sessionId,
      serverId,
      vendorData: bytes.slice(HEADER_END + idLength),
    },
  };
}

/** Why a string cannot be a ServerID in a trigger, or undefined. Control characters would corrupt logs. */
function serverIdProblem(serverId: string): string | undefined {
  if (typeof serverId !== 'string' || serverId.length === 0) return 'server id must be a non-empty string';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(serverId))
    return `server id ${JSON.stringify(serverId)} contains control characters`;
  return undefined;
}
