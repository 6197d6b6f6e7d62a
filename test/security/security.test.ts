import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/platform/random.js';
import {
  basicCredential,
  buildHmacHeader,
  constantTimeEqual,
  fromB64,
  generateNonce,
  hmacMac,
  md5Credential,
  MemoryNonceStore,
  parseBasicCredential,
  parseHmacHeader,
  verifyCredentials,
} from '../../src/security/index.js';

const utf8 = new TextEncoder();

describe('DG-AUT-13 credential vectors (security.md §3, §4)', () => {
  it('basic: Bruce2/OhBehave', () => {
    expect(basicCredential('Bruce2', 'OhBehave')).toBe('QnJ1Y2UyOk9oQmVoYXZl');
    expect(parseBasicCredential('QnJ1Y2UyOk9oQmVoYXZl')).toEqual({
      username: 'Bruce2',
      password: 'OhBehave',
    });
  });
  it('md5 with ASCII nonce "Nonce"', () => {
    expect(md5Credential('Bruce2', 'OhBehave', utf8.encode('Nonce'))).toBe('Zz6EivR3yeaaENcRN6lpAQ==');
  });
  it('md5 uses the decoded nonce bytes, not the Base64 text', () => {
    expect(md5Credential('Bruce2', 'OhBehave', fromB64('ZG9iZWhhdmUNCg=='))).toBe('kHLLLSPq49co1xndU6F2HQ==');
    expect(md5Credential('Bruce2', 'OhBehave', utf8.encode('ZG9iZWhhdmUNCg=='))).toBe(
      'K74ekeIpQ8TKffCemI/Acw==',
    );
  });
});

describe('HMAC integrity (security.md §5)', () => {
  const body = utf8.encode("<SyncML xmlns='SYNCML:SYNCML1.2'></SyncML>");
  it('mac vector', () => {
    expect(body.length).toBe(42);
    expect(hmacMac('Robert Jordan', 'secret', utf8.encode('nonce123'), body)).toBe(
      'ie8ZCO7u3lJSmp2Gkz0o3w==',
    );
  });
  it('builds and parses the header liberally', () => {
    const header = buildHmacHeader('Robert Jordan', 'ie8ZCO7u3lJSmp2Gkz0o3w==');
    expect(header).toBe('algorithm=MD5, username="Robert Jordan", mac=ie8ZCO7u3lJSmp2Gkz0o3w==');
    expect(parseHmacHeader(header)).toEqual({
      algorithm: 'MD5',
      username: 'Robert Jordan',
      mac: 'ie8ZCO7u3lJSmp2Gkz0o3w==',
    });
    expect(parseHmacHeader('algorithm=MD5,username="a,b",mac=xyz=')).toEqual({
      algorithm: 'MD5',
      username: 'a,b',
      mac: 'xyz=',
    });
    expect(parseHmacHeader('MAC=abc, USERNAME="u"')).toEqual({ algorithm: 'MD5', username: 'u', mac: 'abc' });
    expect(parseHmacHeader('algorithm=SHA1, username="u", mac=abc')).toBeUndefined();
    expect(parseHmacHeader('username="u"')).toBeUndefined();
    expect(parseHmacHeader(buildHmacHeader('we"ird\\', 'm'))?.username).toBe('we"ird\\');
  });
  it('verifies over the exact body bytes only', () => {
    const nonce = 'bm9uY2UxMjM='; // "nonce123"
    const hmacHeader = buildHmacHeader('Robert Jordan', 'ie8ZCO7u3lJSmp2Gkz0o3w==');
    const secret = { auth: 'hmac', username: 'Robert Jordan', password: 'secret' } as const;
    expect(verifyCredentials({ hmacHeader, body }, secret, nonce)).toEqual({ ok: true, auth: 'hmac' });
    const tampered = body.slice();
    tampered[10] = 0x41;
    expect(verifyCredentials({ hmacHeader, body: tampered }, secret, nonce).ok).toBe(false);
    expect(verifyCredentials({ body }, secret, nonce)).toEqual({
      ok: false,
      reason: 'missing',
      presented: undefined,
    });
  });
});

describe('verification of Cred', () => {
  const md5Secret = { auth: 'md5', username: 'Bruce2', password: 'OhBehave' } as const;
  const meta = { type: 'syncml:auth-md5', format: 'b64' };
  it('md5 with the issued nonce; stale nonce fails; tolerant of undecoded nonce', () => {
    const nonce = 'ZG9iZWhhdmUNCg==';
    expect(verifyCredentials({ cred: { meta, data: 'kHLLLSPq49co1xndU6F2HQ==' } }, md5Secret, nonce).ok).toBe(
      true,
    );
    expect(verifyCredentials({ cred: { meta, data: 'K74ekeIpQ8TKffCemI/Acw==' } }, md5Secret, nonce).ok).toBe(
      true,
    );
    expect(
      verifyCredentials({ cred: { meta, data: 'kHLLLSPq49co1xndU6F2HQ==' } }, md5Secret, 'b3RoZXI='),
    ).toEqual({
      ok: false,
      reason: 'wrong',
      presented: 'md5',
    });
  });
  it('a different scheme than required is wrong-type (DG-AUT-11 basis)', () => {
    const cred = {
      meta: { type: 'syncml:auth-basic', format: 'b64' },
      data: basicCredential('Bruce2', 'OhBehave'),
    };
    expect(verifyCredentials({ cred }, md5Secret, 'Tm9uY2U=')).toEqual({
      ok: false,
      reason: 'wrong-type',
      presented: 'basic',
    });
  });
  it('basic: wrong password is refused', () => {
    const secret = { auth: 'basic', username: 'Bruce2', password: 'OhBehave' } as const;
    expect(
      verifyCredentials({ cred: { data: basicCredential('Bruce2', 'OhBehave') } }, secret, undefined).ok,
    ).toBe(true);
    expect(
      verifyCredentials({ cred: { data: basicCredential('Bruce2', 'nope') } }, secret, undefined).ok,
    ).toBe(false);
  });
});

describe('nonces and comparison', () => {
  it('16 random bytes from the injected Random, Base64', () => {
    const a = generateNonce(new SeededRandom(7));
    expect(fromB64(a)).toHaveLength(16);
    expect(generateNonce(new SeededRandom(7))).toBe(a);
    expect(generateNonce(new SeededRandom(8))).not.toBe(a);
  });
  it('constant-time comparison handles unequal lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
  it('MemoryNonceStore keeps one nonce per account and direction', () => {
    const store = new MemoryNonceStore();
    store.set('dev1', 'client-to-server', 'A');
    store.set('dev1', 'server-to-client', 'B');
    expect(store.get('dev1', 'client-to-server')).toBe('A');
    expect(store.get('dev1', 'server-to-client')).toBe('B');
    expect(store.get('dev2', 'client-to-server')).toBeUndefined();
  });
});
