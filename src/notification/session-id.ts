import type { Random } from '../platform/random.js';
import { NotificationEncodeError } from './notification-errors.js';
import { TriggerLayout } from './trigger.js';

/**
 * The SyncHdr/SessionID text for a trigger's session id: upper-case hex, no leading zeros, 1–4 characters
 * (security.md §8.4, protocol.md §5.1): 0x1234 → "1234", 0x00AB → "AB".
 */
export function sessionIdText(sessionId: number): string {
  assertSessionId(sessionId);
  return sessionId.toString(16).toUpperCase();
}

/**
 * The trigger session id a SyncHdr/SessionID text names, or undefined when the text is not one we could have
 * sent (a client-chosen id of a client-initiated session, leading zeros, lower case, out of range). The server
 * uses it to match package 1 to the notification that asked for it.
 */
export function sessionIdFromText(text: string): number | undefined {
  if (!/^[1-9A-F][0-9A-F]{0,3}$/.test(text)) return undefined;
  return Number.parseInt(text, 16);
}

/**
 * A fresh session id for a new server-initiated session. Different sessions need different ids (§8.4), so the
 * caller passes `inUse` to skip ids of sessions still pending for the device; re-triggering the same pending
 * session must reuse its id instead of calling this.
 */
export function randomSessionId(random: Random, inUse: (sessionId: number) => boolean = () => false): number {
  // 64 draws make a collision with a realistic pending set practically impossible; the scan below is the fallback.
  for (let attempt = 0; attempt < 64; attempt++) {
    const b = random.bytes(2);
    const id = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
    if (id >= TriggerLayout.MIN_SESSION_ID && !inUse(id)) return id;
  }
  for (let id = TriggerLayout.MIN_SESSION_ID; id <= TriggerLayout.MAX_SESSION_ID; id++) {
    if (!inUse(id)) return id;
  }
  throw new NotificationEncodeError('sessionId', 'every session id 1..0xFFFF is in use for this device');
}

export function assertSessionId(sessionId: number): void {
  if (
    !Number.isInteger(sessionId) ||
    sessionId < TriggerLayout.MIN_SESSION_ID ||
    sessionId > TriggerLayout.MAX_SESSION_ID
  ) {
    // protocol.md §5.1: a server-initiated session id is a 16-bit value 1..0xFFFF.
    throw new NotificationEncodeError(
      'sessionId',
      `session id ${String(sessionId)} is not an integer in 1..0xFFFF`,
    );
  }
}
