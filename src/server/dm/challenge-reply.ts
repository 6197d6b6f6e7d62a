/**
 * The answer to a message whose sender is not (yet) authenticated: only Status elements, one for the SyncHdr with
 * 401/407 and a Chal, and one per command received with the same code (protocol.md §4.1; libdmclient only
 * resends Package 1 when the Alert and the Replace got 401/407 too). Built the same way whether the device is
 * unknown, locked out, presented no credentials or wrong ones, so the answer never tells whether a device ID
 * exists: same elements, same Chal (type, format, a fresh 16-byte NextNonce), same server Cred shape.
 */
import type { Chal, Command, Cred, SyncMLMessage } from '../../syncml/model.js';
import { AUTH_TYPE_BY_NAME, StatusCode, type AuthName } from '../../syncml/constants.js';
import { basicCredential, fromB64, hmacMac, md5Credential, b64 } from '../../security/digest.js';
import { buildHmacHeader } from '../../security/hmac-header.js';
import {
  buildHeader,
  challenge,
  headerStatus,
  numberCommands,
  statusesForAll,
} from '../../session/commands.js';

/** How the server presents itself to a device (DMAcc SRVCRED on the device). */
export interface ServerIdentity {
  readonly auth: AuthName;
  readonly username: string;
  readonly password: string;
  /** Base64 nonce the device issued to us last, or null. */
  readonly nonce: string | null;
}

/** The server's credentials for one message: a Cred (basic/md5) or an x-syncml-hmac header (HMAC). */
export interface ServerCredentials {
  readonly cred?: Cred;
  readonly locName?: string;
  hmacHeader(body: Uint8Array): string | undefined;
}

export function serverCredentials(identity: ServerIdentity): ServerCredentials {
  const meta = { type: AUTH_TYPE_BY_NAME[identity.auth], format: 'b64' };
  const nonce = fromB64(identity.nonce ?? '');
  switch (identity.auth) {
    case 'basic':
      return {
        cred: { meta, data: basicCredential(identity.username, identity.password) },
        hmacHeader: () => undefined,
      };
    case 'md5':
      return {
        cred: { meta, data: md5Credential(identity.username, identity.password, nonce) },
        locName: identity.username,
        hmacHeader: () => undefined,
      };
    case 'hmac':
      return {
        locName: identity.username,
        hmacHeader: (body) =>
          buildHmacHeader(identity.username, hmacMac(identity.username, identity.password, nonce, body)),
      };
  }
}

/**
 * Credentials of the same shape as `serverCredentials` but made of random bytes: for a device ID we do not know,
 * so the answer looks like one for a known device.
 */
export function decoyCredentials(
  auth: AuthName,
  username: string,
  random: (n: number) => Uint8Array,
): ServerCredentials {
  const meta = { type: AUTH_TYPE_BY_NAME[auth], format: 'b64' };
  switch (auth) {
    case 'basic':
      return {
        cred: { meta, data: basicCredential(username, b64(random(12))) },
        hmacHeader: () => undefined,
      };
    case 'md5':
      return { cred: { meta, data: b64(random(16)) }, locName: username, hmacHeader: () => undefined };
    case 'hmac':
      return { locName: username, hmacHeader: () => buildHmacHeader(username, b64(random(16))) };
  }
}

export interface ChallengeInput {
  readonly request: SyncMLMessage;
  /** 401 (wrong credentials) or 407 (missing). */
  readonly code: number;
  readonly auth: AuthName;
  /** NextNonce for md5/HMAC; undefined for basic. */
  readonly nonce: string | undefined;
  /** SyncHdr Source/LocURI of our messages. */
  readonly serverUri: string;
  readonly credentials: ServerCredentials;
  readonly respUri?: string;
  /** Our MsgID for this message: one after the last the client acknowledged (msg-ids.ts). */
  readonly msgId: number;
  /**
   * The last answer of a session that failed authentication too often (protocol.md §10: repeated authentication
   * failure terminates the session): the SyncHdr Status keeps its 401/407 but carries no Chal, and the commands
   * get 215 (not executed) instead of 401/407, which a client such as libdmclient would otherwise resend
   * (it re-queues every element whose Status is 401/407, with or without a challenge).
   */
  readonly final?: boolean;
}

export function challengeReply(input: ChallengeInput): SyncMLMessage {
  const { header, body } = input.request;
  const final = input.final === true;
  const chal: Chal | undefined = final ? undefined : challenge(input.auth, input.nonce);
  const statuses: Command[] = [
    headerStatus(header, input.code, chal),
    ...statusesForAll(body, header.msgId, final ? StatusCode.NOT_EXECUTED : input.code),
  ];
  const { cred, locName } = input.credentials;
  return {
    header: buildHeader({
      sessionId: header.sessionId,
      msgId: input.msgId,
      target: { locUri: header.source.locUri },
      source: { locUri: input.serverUri, ...(locName === undefined ? {} : { locName }) },
      ...(cred === undefined ? {} : { cred }),
      ...(input.respUri === undefined ? {} : { respUri: input.respUri }),
    }),
    body: numberCommands(statuses).commands,
    final: true,
  };
}
