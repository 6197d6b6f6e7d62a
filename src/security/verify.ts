/** Checking the credentials a peer presented (Cred in SyncHdr or the x-syncml-hmac header) against a secret. */
import type { Cred } from '../syncml/model.js';
import { authNameOf, type AuthName } from '../syncml/constants.js';
import {
  constantTimeEqual,
  fromB64,
  hmacMac,
  md5Credential,
  parseBasicCredential,
  toBytes,
} from './digest.js';
import { parseHmacHeader } from './hmac-header.js';

/** What we know about the peer we verify: the scheme it must use, its name and password. */
export interface PeerSecret {
  readonly auth: AuthName;
  readonly username: string;
  readonly password: string;
}

/** What arrived with one message. */
export interface PresentedCredentials {
  readonly cred?: Cred | undefined;
  /** Value of the x-syncml-hmac header, when present. */
  readonly hmacHeader?: string | undefined;
  /** Exact body bytes as received (needed for HMAC). */
  readonly body?: Uint8Array | undefined;
  /** SyncHdr Source/LocName (user name for md5). */
  readonly locName?: string | undefined;
}

export type CredentialCheck =
  | { readonly ok: true; readonly auth: AuthName }
  | {
      readonly ok: false;
      /** missing → answer 407; wrong / wrong-type → 401. */
      readonly reason: 'missing' | 'wrong' | 'wrong-type';
      readonly presented: AuthName | undefined;
    };

/** Which scheme the peer used in this message, if any. A Cred without Meta/Type is basic (SyncML default). */
export function presentedScheme(presented: PresentedCredentials): AuthName | 'unknown' | undefined {
  if (presented.hmacHeader !== undefined) return 'hmac';
  if (presented.cred === undefined) return undefined;
  const type = presented.cred.meta?.type;
  if (type === undefined) return 'basic';
  return authNameOf(type) ?? 'unknown';
}

/**
 * Verifies credentials. `nonce` is the Base64 text of the nonce the verifier issued (for md5 and HMAC).
 * md5 is also tried with the nonce's Base64 text as bytes, because some peers hash it undecoded
 * (security.md §4 interop note).
 */
export function verifyCredentials(
  presented: PresentedCredentials,
  secret: PeerSecret,
  nonce: string | undefined,
): CredentialCheck {
  const scheme = presentedScheme(presented);
  if (scheme === undefined) return { ok: false, reason: 'missing', presented: undefined };
  if (scheme === 'unknown') return { ok: false, reason: 'wrong-type', presented: undefined };
  if (scheme !== secret.auth) return { ok: false, reason: 'wrong-type', presented: scheme };
  const fail: CredentialCheck = { ok: false, reason: 'wrong', presented: scheme };
  switch (scheme) {
    case 'basic': {
      const parsed = parseBasicCredential(presented.cred?.data ?? '');
      if (parsed === undefined) return fail;
      const userOk = constantTimeEqual(parsed.username, secret.username);
      const passOk = constantTimeEqual(parsed.password, secret.password);
      return userOk && passOk ? { ok: true, auth: scheme } : fail;
    }
    case 'md5': {
      if (presented.locName !== undefined && presented.locName !== secret.username) return fail;
      const data = presented.cred?.data ?? '';
      const nonceText = nonce ?? '';
      const decoded = md5Credential(secret.username, secret.password, fromB64(nonceText));
      const undecoded = md5Credential(secret.username, secret.password, toBytes(nonceText));
      const okDecoded = constantTimeEqual(data, decoded);
      const okUndecoded = constantTimeEqual(data, undecoded);
      return okDecoded || okUndecoded ? { ok: true, auth: scheme } : fail;
    }
    case 'hmac': {
      const header = parseHmacHeader(presented.hmacHeader);
      if (header === undefined || presented.body === undefined) return fail;
      if (!constantTimeEqual(header.username, secret.username)) return fail;
      const expected = hmacMac(secret.username, secret.password, fromB64(nonce ?? ''), presented.body);
      return constantTimeEqual(header.mac, expected) ? { ok: true, auth: scheme } : fail;
    }
  }
}
