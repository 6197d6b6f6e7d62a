/**
 * Nonce resynchronisation on the DM endpoint (security.md §8.3, steps 2–3). A device whose stored server nonce no
 * longer matches ours fails every ordinary Package 0; the server may then send one signed with the special nonce
 * (4 zero bytes), and a device accepting it presents Package 1 credentials built on that same nonce. Those are
 * accepted only while the device holds an unexpired offer, written when such a trigger was sent
 * (device-notifier.ts) and taken by the exchange's commit, so once: without an offer they are wrong credentials.
 */
import { RESYNC_NONCE } from '../../notification/digest.js';
import { b64 } from '../../security/digest.js';
import type { DeviceRecord } from '../store/store.js';
import { verifyClient, type Presented } from './credentials.js';

/** The special nonce as the store and the wire keep nonces: Base64 (`AAAAAA==`, as the Motorola engine stores it). */
export const RESYNC_NONCE_B64 = b64(RESYNC_NONCE);

/** The device was sent a resync trigger whose offer still stands at `now`. */
export function resyncOffered(device: DeviceRecord, now: number): boolean {
  return device.nonceResyncUntil !== null && now < device.nonceResyncUntil;
}

/**
 * Credentials that fail with the nonce we issued may still be the answer to our resync trigger: built on the special
 * nonce, in the device's own scheme (md5 or HMAC; basic carries no nonce). Only with a standing offer.
 */
export function acceptsResyncCredentials(presented: Presented, device: DeviceRecord, now: number): boolean {
  if (device.authType === 'basic' || !resyncOffered(device, now)) return false;
  return verifyClient(presented, { ...device, clientNonce: RESYNC_NONCE_B64 }).ok;
}
