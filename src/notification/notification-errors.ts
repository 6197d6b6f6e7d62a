import { AuthenticationError, DecodeError, EncodeError } from '../errors.js';

/** Every way a received Package 0 can be malformed; one stable `code` per problem. */
export type NotificationDecodeProblem =
  | 'notification-too-short'
  | 'notification-too-long'
  | 'notification-version-unsupported'
  | 'notification-reserved-bits-set'
  | 'notification-session-id-zero'
  | 'notification-server-id-empty'
  | 'notification-server-id-invalid';

/** The peer (the server or whoever sent the datagram) sent bytes that are not an acceptable trigger. */
export class NotificationDecodeError extends DecodeError {
  declare readonly code: NotificationDecodeProblem;

  constructor(code: NotificationDecodeProblem, message: string, byteOffset?: number) {
    super(code, message, byteOffset === undefined ? undefined : `byte ${byteOffset}`, {
      httpStatus: code === 'notification-too-long' ? 413 : 400,
    });
  }
}

export type NotificationAuthProblem = 'notification-unknown-server' | 'notification-digest-mismatch';

/**
 * The trigger is well formed but not from a server we trust: no DMAcc for its ServerID, or the digest does
 * not match the stored server password and nonce (security.md §8.2–8.3). The device drops it silently.
 */
export class NotificationAuthError extends AuthenticationError {
  declare readonly code: NotificationAuthProblem;
  readonly serverId: string;

  constructor(code: NotificationAuthProblem, serverId: string, message: string) {
    super(code, message);
    this.serverId = serverId;
  }
}

/** We (the server side caller) asked to build a trigger the format cannot carry. */
export class NotificationEncodeError extends EncodeError {
  /** The trigger field at fault. */
  readonly field: string;

  constructor(field: string, message: string) {
    super('notification-invalid-trigger', `cannot build Package 0: ${message}`);
    this.field = field;
  }
}
