/**
 * The Package 0 digest (security.md §8.2), computed here with node:crypto so this package stands alone:
 *
 *   digest = H( B64(H(server-identifier ":" server-password)) ":" server-nonce ":" B64(H(trigger)) )
 *
 * H = MD5 (16 raw bytes), B64 = padded Base64 text used as bytes, nonce = raw (decoded) bytes, trigger = every
 * byte after the digest. Unlike the SyncML Cred, the result stays raw: it is the first 16 bytes of Package 0.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface DigestInput {
  /** The server identifier from the trigger (or, for libdmclient-style peers, the SRVCRED AAuthName). */
  readonly serverId: string;
  /** SRVCRED AAuthSecret: text (UTF-8) or raw bytes. */
  readonly serverPassword: string | Uint8Array;
  /** SRVCRED AAuthData, Base64-decoded. Empty when the account holds no nonce yet. */
  readonly nonce: Uint8Array;
  /** Trigger header + body: everything after the 16 digest bytes. */
  readonly trigger: Uint8Array;
}

/**
 * The nonce of the resynchronisation path (security.md §8.3): "0x00000000" read as four zero bytes, as the
 * Motorola engine stores it (`AAAAAA==`). The digest recommends this encoding.
 */
export const RESYNC_NONCE: Uint8Array = new Uint8Array(4);

/** The same special nonce as libdmclient spells it: the ten ASCII characters `0x00000000` (ets.md §3). */
export const RESYNC_NONCE_ASCII: Uint8Array = new TextEncoder().encode('0x00000000');

const COLON = new Uint8Array([0x3a]);

function md5(...parts: readonly (string | Uint8Array)[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

export function computeNotificationDigest(input: DigestInput): Uint8Array {
  const credential = md5(input.serverId, COLON, input.serverPassword).toString('base64');
  const body = md5(input.trigger).toString('base64');
  return new Uint8Array(md5(credential, COLON, input.nonce, COLON, body));
}

/** Compares two digests in constant time for equal lengths (the length itself is public: always 16). */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
