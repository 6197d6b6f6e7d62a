/** The DM endpoint's verification against the stored B64(MD5(user:pass)) (src/server/dm/credentials.ts). */
import { describe, expect, it } from 'vitest';
import { verifyClient, type Presented, type StoredClientSecret } from '../../src/server/dm/credentials.js';
import { clientSecretDigest } from '../../src/server/store/rows.js';
import { b64, fromB64, md5, md5Key, toBytes } from '../../src/security/digest.js';

const NONCE = 'ZG9iZWhhdmUNCg==';
const stored: StoredClientSecret = {
  authType: 'md5',
  username: 'Bruce2',
  clientSecretDigest: clientSecretDigest('Bruce2', 'OhBehave'),
  clientNonce: NONCE,
};
const md5Presented = (data: string, locName?: string): Presented => ({
  cred: { meta: { type: 'syncml:auth-md5', format: 'b64' }, data },
  locName,
  hmacHeader: undefined,
  body: new Uint8Array(),
});

describe('verifyClient (md5)', () => {
  const key = md5Key('Bruce2', 'OhBehave');
  const standard = b64(md5(key, ':', fromB64(NONCE)));
  const overText = b64(md5(key, ':', toBytes(NONCE)));

  it('accepts the digest over the nonce bytes (security.md §4), the form every conforming client sends', () => {
    expect(standard).toBe('kHLLLSPq49co1xndU6F2HQ==');
    expect(verifyClient(md5Presented(standard, 'Bruce2'), stored)).toEqual({ ok: true });
  });

  it('also accepts the interop form hashed over the nonce’s Base64 text', () => {
    expect(overText).not.toBe(standard);
    expect(verifyClient(md5Presented(overText), stored)).toEqual({ ok: true });
  });

  it('refuses a digest over another nonce, a wrong password, and another user name in LocName', () => {
    expect(verifyClient(md5Presented(standard), { ...stored, clientNonce: 'b3RoZXI=' })).toEqual({
      ok: false,
      reason: 'wrong',
    });
    const otherKey = md5Key('Bruce2', 'wrong');
    expect(verifyClient(md5Presented(b64(md5(otherKey, ':', fromB64(NONCE)))), stored)).toEqual({
      ok: false,
      reason: 'wrong',
    });
    expect(verifyClient(md5Presented(standard, 'Mallory'), stored)).toEqual({ ok: false, reason: 'wrong' });
  });

  it('refuses another scheme than the device’s as wrong-type, and no credentials as missing', () => {
    const basic: Presented = {
      ...md5Presented(b64(toBytes('Bruce2:OhBehave'))),
      cred: { meta: { type: 'syncml:auth-basic', format: 'b64' }, data: b64(toBytes('Bruce2:OhBehave')) },
    };
    expect(verifyClient(basic, stored)).toEqual({ ok: false, reason: 'wrong-type' });
    expect(verifyClient({ ...basic, cred: undefined }, stored)).toEqual({ ok: false, reason: 'missing' });
  });
});
