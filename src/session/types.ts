/** Types shared by the two engines. */
import type { SyncMLMessage } from '../syncml/model.js';
import type { AuthName } from '../syncml/constants.js';

/** A message ready to encode and send. */
export interface Outgoing {
  readonly message: SyncMLMessage;
  /** Where it goes: the server URL, or the RespURI the server gave (protocol.md §9). Client messages only. */
  readonly url: string | undefined;
  /**
   * The `x-syncml-hmac` header value for the encoded body, when HMAC is in use for this message
   * (security.md §5); undefined otherwise. Call it with the exact bytes you send.
   */
  hmacHeader(body: Uint8Array): string | undefined;
}

/** What arrived with a message besides the decoded model. */
export interface Received {
  /** Exact body bytes as received: needed to verify HMAC. */
  readonly body?: Uint8Array;
  /** Value of the x-syncml-hmac transport header, if present. */
  readonly hmac?: string;
}

export interface Secret {
  readonly auth: AuthName;
  readonly username: string;
  readonly password: string;
}

export type EndReason =
  'completed' | 'aborted-by-peer' | 'aborted' | 'auth-failed' | 'peer-auth-failed' | 'timeout';
