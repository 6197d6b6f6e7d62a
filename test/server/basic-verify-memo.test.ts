/** The idle fast path's memo of accepted basic credentials (src/server/dm/credentials.ts). */
import { describe, expect, it } from 'vitest';
import { BasicVerifyMemo, type Presented, type StoredClientSecret } from '../../src/server/dm/credentials.js';
import { clientSecretDigest } from '../../src/server/store/rows.js';
import { basicCredential } from '../../src/security/digest.js';

const secret = (username: string, password: string): StoredClientSecret => ({
  authType: 'basic',
  username,
  clientSecretDigest: clientSecretDigest(username, password),
  clientNonce: null,
});
const presented = (username: string, password: string): Presented => ({
  cred: { meta: { type: 'syncml:auth-basic', format: 'b64' }, data: basicCredential(username, password) },
  locName: undefined,
  hmacHeader: undefined,
  body: new Uint8Array(),
});

describe('BasicVerifyMemo', () => {
  it('accepts the credentials it accepted before, and still refuses others for the same device', () => {
    const memo = new BasicVerifyMemo();
    const stored = secret('alice', 'pw-1');
    expect(memo.verify('dev', presented('alice', 'pw-1'), stored)).toEqual({ ok: true });
    expect(memo.verify('dev', presented('alice', 'pw-1'), stored)).toEqual({ ok: true });
    expect(memo.verify('dev', presented('alice', 'pw-2'), stored)).toEqual({ ok: false, reason: 'wrong' });
    expect(memo.verify('dev', presented('mallory', 'pw-1'), stored)).toEqual({ ok: false, reason: 'wrong' });
    // A wrong attempt did not replace what was accepted.
    expect(memo.verify('dev', presented('alice', 'pw-1'), stored)).toEqual({ ok: true });
  });

  it('verifies in full again after the password changed: the old credentials are refused at once', () => {
    const memo = new BasicVerifyMemo();
    expect(memo.verify('dev', presented('alice', 'old'), secret('alice', 'old'))).toEqual({ ok: true });
    expect(memo.verify('dev', presented('alice', 'old'), secret('alice', 'new'))).toEqual({
      ok: false,
      reason: 'wrong',
    });
    expect(memo.verify('dev', presented('alice', 'new'), secret('alice', 'new'))).toEqual({ ok: true });
  });

  it('does not carry one device’s acceptance to another device or another scheme', () => {
    const memo = new BasicVerifyMemo();
    expect(memo.verify('dev-1', presented('alice', 'pw'), secret('alice', 'pw'))).toEqual({ ok: true });
    expect(memo.verify('dev-2', presented('alice', 'pw'), secret('alice', 'other'))).toEqual({
      ok: false,
      reason: 'wrong',
    });
    const md5Device: StoredClientSecret = { ...secret('alice', 'pw'), authType: 'md5', clientNonce: 'AAAA' };
    expect(memo.verify('dev-1', presented('alice', 'pw'), md5Device)).toEqual({
      ok: false,
      reason: 'wrong-type',
    });
  });

  it('stays bounded: the oldest device is forgotten first (and then verified in full, still accepted)', () => {
    const memo = new BasicVerifyMemo(2);
    for (const id of ['a', 'b', 'c'])
      expect(memo.verify(id, presented(id, 'pw'), secret(id, 'pw')).ok).toBe(true);
    // 'a' was evicted; a wrong password for it is refused by the full check, the right one accepted.
    expect(memo.verify('a', presented('a', 'bad'), secret('a', 'pw')).ok).toBe(false);
    expect(memo.verify('a', presented('a', 'pw'), secret('a', 'pw')).ok).toBe(true);
  });
});
