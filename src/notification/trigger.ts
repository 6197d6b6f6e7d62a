/**
 * The Package 0 trigger as readonly data: the "General Notification Initiated Session" alert of DM 1.2
 * (security.md §8.1). Behaviour lives beside it: `trigger-codec.ts` (bytes), `digest.ts` (MD5),
 * `notification.ts` (build and authenticate).
 */

/** How the device involves the user before the session (security.md §8.1, ets.md DG-NOT-04). */
export type UiMode = 'not-specified' | 'background' | 'informative' | 'user-interaction';

/** Who asked for the session: bit 0 = user/client initiated, bit 1 = server initiated (security.md §8.1). */
export type Initiator = 'user' | 'server';

export interface NotificationTrigger {
  /** Notification version ×10; DM 1.2 servers send 11 (security.md §8.1 "version surprise"). */
  readonly version: number;
  readonly uiMode: UiMode;
  readonly initiator: Initiator;
  /** 16-bit session id, 1..0xFFFF; the device echoes it as hex text in SyncHdr/SessionID (§8.4). */
  readonly sessionId: number;
  /** The ServerID the device matches against its DMAcc `ServerID`. */
  readonly serverId: string;
  /** Opaque vendor-specific bytes after the server identifier; empty when absent. */
  readonly vendorData: Uint8Array;
}

/** What the DM 1.2.1 notification text fixes the version field at (security.md §8.1). */
export const NOTIFICATION_VERSION = 11;

/** The ui-mode field values, in wire order (2 bits). */
export const UI_MODES: readonly UiMode[] = ['not-specified', 'background', 'informative', 'user-interaction'];

export const TriggerLayout = {
  /** Raw MD5 digest in front of the trigger. */
  DIGEST_BYTES: 16,
  /** version(10) ui(2) initiator(1) future(27) sessionid(16) length(8) = 64 bits. */
  HEADER_BYTES: 8,
  /** The length-identifier is one byte, so a server identifier has at most 255 bytes. */
  MAX_SERVER_ID_BYTES: 255,
  MAX_VERSION: 0x3ff,
  MIN_SESSION_ID: 1,
  MAX_SESSION_ID: 0xffff,
} as const;

/** A trigger with the defaults a DM 1.2 server sends: version 11, server initiated, no vendor data. */
export function makeTrigger(
  fields: Pick<NotificationTrigger, 'serverId' | 'sessionId'> & Partial<NotificationTrigger>,
): NotificationTrigger {
  return {
    version: NOTIFICATION_VERSION,
    uiMode: 'not-specified',
    initiator: 'server',
    vendorData: new Uint8Array(0),
    ...fields,
  };
}
