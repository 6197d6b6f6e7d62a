/**
 * Verifying a device's credentials against what the store keeps: `B64(MD5(user:pass))` (security.md §4: "the
 * verifier may store only H(username:password)"), never the password. Every scheme starts from that key:
 * - basic: hash the presented `user:pass` and compare keys (security.md §3);
 * - md5: `B64(H(key ":" nonce))` with the nonce the server issued (security.md §4);
 * - HMAC: `B64(H(key ":" nonce ":" B64(H(body))))` over the exact request bytes (security.md §5).
 * All comparisons are constant-time. The scheme the device is registered with is the only one accepted:
 * DM 1.2 §5.1.4.1 ("a side challenged for one scheme that answers with another": DG-AUT-11).
 */
import type { Cred } from '../../syncml/model.js';
import type { AuthName } from '../../syncml/constants.js';
import {
  b64,
  constantTimeEqual,
  fromB64,
  md5,
  md5Key,
  parseBasicCredential,
  toBytes,
} from '../../security/digest.js';
import { parseHmacHeader } from '../../security/hmac-header.js';
import { presentedScheme } from '../../security/verify.js';

export interface StoredClientSecret {
  readonly authType: AuthName;
  readonly username: string;
  /** B64(MD5(username ":" password)). */
  readonly clientSecretDigest: string;
  /** Base64 nonce the server issued last (md5 / HMAC), or null. */
  readonly clientNonce: string | null;
}

export interface Presented {
  readonly cred: Cred | undefined;
  readonly locName: string | undefined;
  readonly hmacHeader: string | undefined;
  readonly body: Uint8Array;
}

export type ClientCheck =
  | { readonly ok: true }
  /** `missing` → 407; `wrong` / `wrong-type` → 401 (security.md §6). */
  | { readonly ok: false; readonly reason: 'missing' | 'wrong' | 'wrong-type' };

/** The scheme a message presents credentials in (HMAC header wins), or undefined when none. */
export function schemeOf(presented: Presented): AuthName | 'unknown' | undefined {
  return presentedScheme({ cred: presented.cred, hmacHeader: presented.hmacHeader });
}

export function verifyClient(presented: Presented, secret: StoredClientSecret): ClientCheck {
  const scheme = schemeOf(presented);
  if (scheme === undefined) return { ok: false, reason: 'missing' };
  if (scheme !== secret.authType) return { ok: false, reason: 'wrong-type' };
  const wrong: ClientCheck = { ok: false, reason: 'wrong' };
  const key = secret.clientSecretDigest;
  switch (scheme) {
    case 'basic': {
      const parsed = parseBasicCredential(presented.cred?.data ?? '');
      if (parsed === undefined) return wrong;
      const userOk = constantTimeEqual(parsed.username, secret.username);
      const keyOk = constantTimeEqual(md5Key(parsed.username, parsed.password), key);
      return userOk && keyOk ? { ok: true } : wrong;
    }
    case 'md5': {
      if (presented.locName !== undefined && !constantTimeEqual(presented.locName, secret.username))
        return wrong;
      const data = presented.cred?.data ?? '';
      const nonce = secret.clientNonce ?? '';
      // security.md §4 interop note: some peers hash the nonce's Base64 text instead of its bytes. That form is
      // computed only when the standard one does not match: which form matched is no secret (the answer says
      // whether the credentials were accepted), and each comparison stays constant-time.
      if (constantTimeEqual(data, b64(md5(key, ':', fromB64(nonce))))) return { ok: true };
      return constantTimeEqual(data, b64(md5(key, ':', toBytes(nonce)))) ? { ok: true } : wrong;
    }
    case 'hmac': {
      const header = parseHmacHeader(presented.hmacHeader);
      if (header === undefined) return wrong;
      const userOk = constantTimeEqual(header.username, secret.username);
      const expected = b64(md5(key, ':', fromB64(secret.clientNonce ?? ''), ':', b64(md5(presented.body))));
      const macOk = constantTimeEqual(header.mac, expected);
      return userOk && macOk ? { ok: true } : wrong;
    }
  }
}

/**
 * Basic credentials are the same text in every session, so hashing them again on each check-in (Base64 decode,
 * MD5, two comparisons) proves nothing new. This remembers, per device, the Cred/Data last accepted together with
 * the stored secret it was checked against; the same text against the same stored secret is accepted after one
 * constant-time comparison. A changed password (new digest), user name or scheme misses the memo and is verified
 * in full. Bounded (oldest forgotten first), per process; md5 and HMAC always verify (their nonce changes).
 */
export class BasicVerifyMemo {
  readonly #accepted = new Map<
    string,
    { readonly data: string; readonly digest: string; readonly username: string }
  >();
  constructor(readonly capacity = 100_000) {}

  /** Devices remembered. */
  get size(): number {
    return this.#accepted.size;
  }

  verify(deviceId: string, presented: Presented, secret: StoredClientSecret): ClientCheck {
    const data = presented.cred?.data;
    const basic = secret.authType === 'basic' && data !== undefined && schemeOf(presented) === 'basic';
    if (basic) {
      const hit = this.#accepted.get(deviceId);
      if (
        hit !== undefined &&
        hit.digest === secret.clientSecretDigest &&
        hit.username === secret.username &&
        constantTimeEqual(hit.data, data)
      ) {
        return { ok: true };
      }
    }
    const check = verifyClient(presented, secret);
    if (basic && check.ok) {
      this.#accepted.delete(deviceId);
      this.#accepted.set(deviceId, { data, digest: secret.clientSecretDigest, username: secret.username });
      if (this.#accepted.size > this.capacity) {
        const oldest = this.#accepted.keys().next();
        if (oldest.done !== true) this.#accepted.delete(oldest.value);
      }
    }
    return check;
  }
}
