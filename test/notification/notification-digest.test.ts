import { describe, expect, it } from 'vitest';
import {
  authenticateNotification,
  buildNotification,
  computeNotificationDigest,
  decodeNotification,
  makeTrigger,
  NotificationAuthError,
  NotificationDecodeError,
  RESYNC_NONCE,
  RESYNC_NONCE_ASCII,
  verifyNotification,
  type NotificationTrigger,
  type ServerCredentials,
} from '../../src/notification/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

const SERVER_ID = 'com.mgmtsrv.manage';
const WORKED_TRIGGER = hex('02 D0 00 00 00 12 34 12 63 6F 6D 2E 6D 67 6D 74 73 72 76 2E 6D 61 6E 61 67 65');
const workedExample: NotificationTrigger = {
  version: 11,
  uiMode: 'background',
  initiator: 'user',
  sessionId: 0x1234,
  serverId: SERVER_ID,
  vendorData: new Uint8Array(0),
};

function authError(fn: () => unknown): NotificationAuthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(NotificationAuthError);
    return error as NotificationAuthError;
  }
  throw new Error('expected a NotificationAuthError');
}

describe('Package 0 digest (security.md §8.2) — §8.6 worked example byte for byte', () => {
  it('password "srvsecret", nonce four zero bytes → 4e151d30268a5c88c53be0bc0a7bc3aa', () => {
    const digest = computeNotificationDigest({
      serverId: SERVER_ID,
      serverPassword: 'srvsecret',
      nonce: new Uint8Array(4),
      trigger: WORKED_TRIGGER,
    });
    expect(toHex(digest)).toBe('4e151d30268a5c88c53be0bc0a7bc3aa');
  });

  it('password "srvsecret", nonce ASCII "nonce" → e53ea8c793c47c763a8279107eaf99e7', () => {
    const digest = computeNotificationDigest({
      serverId: SERVER_ID,
      serverPassword: 'srvsecret',
      nonce: ascii('nonce'),
      trigger: WORKED_TRIGGER,
    });
    expect(toHex(digest)).toBe('e53ea8c793c47c763a8279107eaf99e7');
  });

  it('DG-NOT-01: buildNotification gives the whole 42-byte Package 0 of the worked example', () => {
    const bytes = buildNotification(workedExample, { password: 'srvsecret', nonce: ascii('nonce') });
    expect(toHex(bytes)).toBe('e53ea8c793c47c763a8279107eaf99e7' + toHex(WORKED_TRIGGER));
    expect(bytes.length).toBe(42);
  });

  it('a password given as bytes hashes the same as its UTF-8 text', () => {
    const a = buildNotification(workedExample, { password: 'srvsecret', nonce: ascii('nonce') });
    const b = buildNotification(workedExample, { password: ascii('srvsecret'), nonce: ascii('nonce') });
    expect(toHex(b)).toBe(toHex(a));
  });

  it('the digest covers vendor data: changing it changes the digest', () => {
    const creds = { password: 'srvsecret', nonce: ascii('nonce') };
    const plain = buildNotification(workedExample, creds);
    const vendor = buildNotification({ ...workedExample, vendorData: hex('01') }, creds);
    expect(toHex(vendor.subarray(0, 16))).not.toBe(toHex(plain.subarray(0, 16)));
  });
});

describe('authentication on the device', () => {
  const creds: ServerCredentials = { password: 'srvsecret', nonce: ascii('nonce') };
  const lookup = (serverId: string): ServerCredentials | undefined =>
    serverId === SERVER_ID ? creds : undefined;

  it('round trip: a built notification verifies with the same credentials', () => {
    const trigger = makeTrigger({ serverId: SERVER_ID, sessionId: 0x1234, uiMode: 'informative' });
    const verified = verifyNotification(buildNotification(trigger, creds), lookup);
    expect(verified.trigger).toEqual(trigger);
    expect(verified.nonceUsed).toBe('stored');
    expect(verified.sessionIdText).toBe('1234');
  });

  it('DG-SES-02: the session id text is 1234 for 0x1234 and AB for 0x00AB', () => {
    for (const [sessionId, text] of [
      [0x1234, '1234'],
      [0x00ab, 'AB'],
      [1, '1'],
      [0xffff, 'FFFF'],
    ] as const) {
      const verified = verifyNotification(
        buildNotification(makeTrigger({ serverId: SERVER_ID, sessionId }), creds),
        lookup,
      );
      expect(verified.sessionIdText).toBe(text);
    }
  });

  it('DG-NOT-02: a tampered digest is rejected', () => {
    const bytes = buildNotification(workedExample, creds);
    bytes[3] = bytes[3]! ^ 0x01;
    const error = authError(() => verifyNotification(bytes, lookup));
    expect(error.code).toBe('notification-digest-mismatch');
    expect(error.serverId).toBe(SERVER_ID);
    expect(error.httpStatus).toBe(401);
  });

  it('DG-NOT-02: a tampered trigger (ui mode flipped in transit) is rejected', () => {
    const bytes = buildNotification(workedExample, creds);
    bytes[17] = 0xf0; // background → user-interaction
    expect(decodeNotification(bytes).trigger.uiMode).toBe('user-interaction');
    expect(authError(() => verifyNotification(bytes, lookup)).code).toBe('notification-digest-mismatch');
  });

  it('DG-NOT-02: a notification built with another server password is rejected', () => {
    const bytes = buildNotification(workedExample, { password: 'not-the-secret', nonce: ascii('nonce') });
    expect(authError(() => verifyNotification(bytes, lookup)).code).toBe('notification-digest-mismatch');
  });

  it('DG-NOT-02: a notification built with a stale nonce is rejected when resync is off', () => {
    const bytes = buildNotification(workedExample, { password: 'srvsecret', nonce: ascii('old-nonce') });
    expect(authError(() => verifyNotification(bytes, lookup, { resync: 'zero-bytes' })).code).toBe(
      'notification-digest-mismatch',
    );
  });

  it('an unknown ServerID is refused as such, not as a digest failure', () => {
    const bytes = buildNotification({ ...workedExample, serverId: 'evil.example' }, creds);
    const error = authError(() => verifyNotification(bytes, lookup));
    expect(error.code).toBe('notification-unknown-server');
    expect(error.message).toContain('evil.example');
  });

  it('a malformed notification is a decode error before any lookup', () => {
    let looked = false;
    expect(() =>
      verifyNotification(new Uint8Array(10), () => {
        looked = true;
        return creds;
      }),
    ).toThrow(NotificationDecodeError);
    expect(looked).toBe(false);
  });

  it('an account without a nonce verifies against the empty nonce', () => {
    const bytes = buildNotification(workedExample, { password: 'srvsecret' });
    const verified = verifyNotification(bytes, () => ({ password: 'srvsecret', nonce: new Uint8Array(0) }));
    expect(verified.nonceUsed).toBe('stored');
    expect(verified.nonce.length).toBe(0);
  });

  it('digestName hashes the SRVCRED AAuthName instead of the ServerID (libdmclient interop)', () => {
    const libdm: ServerCredentials = { password: 'srvsecret', nonce: ascii('nonce'), digestName: 'srvuser' };
    const bytes = buildNotification(workedExample, libdm);
    expect(verifyNotification(bytes, () => libdm).trigger.serverId).toBe(SERVER_ID);
    expect(authError(() => verifyNotification(bytes, lookup)).code).toBe('notification-digest-mismatch');
  });
});

describe('nonce resynchronisation (security.md §8.3, DG-NOT-03)', () => {
  const stored: ServerCredentials = { password: 'srvsecret', nonce: ascii('nonce') };
  const resyncBytes = buildNotification(workedExample, { password: 'srvsecret', nonce: RESYNC_NONCE });
  const asciiResyncBytes = buildNotification(workedExample, {
    password: 'srvsecret',
    nonce: RESYNC_NONCE_ASCII,
  });

  it('the zero-nonce notification of the worked example carries digest 4e151d30…', () => {
    expect(toHex(resyncBytes.subarray(0, 16))).toBe('4e151d30268a5c88c53be0bc0a7bc3aa');
  });

  it('policy off (the default): a zero-nonce trigger is dropped', () => {
    expect(authError(() => verifyNotification(resyncBytes, () => stored)).code).toBe(
      'notification-digest-mismatch',
    );
  });

  it('policy zero-bytes: retried with four zero bytes and reported as a resync', () => {
    const verified = verifyNotification(resyncBytes, () => stored, { resync: 'zero-bytes' });
    expect(verified.nonceUsed).toBe('resync');
    expect(toHex(verified.nonce)).toBe('00000000');
  });

  it('policy zero-bytes refuses libdmclient\'s ASCII "0x00000000"; zero-bytes-or-ascii accepts it', () => {
    expect(
      authError(() => verifyNotification(asciiResyncBytes, () => stored, { resync: 'zero-bytes' })).code,
    ).toBe('notification-digest-mismatch');
    const verified = verifyNotification(asciiResyncBytes, () => stored, { resync: 'zero-bytes-or-ascii' });
    expect(verified.nonceUsed).toBe('resync');
    expect(new TextDecoder().decode(verified.nonce)).toBe('0x00000000');
  });

  it('the stored nonce is tried first: a matching stored nonce is never reported as a resync', () => {
    const zeroStored: ServerCredentials = { password: 'srvsecret', nonce: new Uint8Array(4) };
    expect(verifyNotification(resyncBytes, () => zeroStored, { resync: 'zero-bytes' }).nonceUsed).toBe(
      'stored',
    );
  });

  it('resync does not rescue a wrong password', () => {
    const bytes = buildNotification(workedExample, { password: 'wrong', nonce: RESYNC_NONCE });
    const error = authError(() => verifyNotification(bytes, () => stored, { resync: 'zero-bytes-or-ascii' }));
    expect(error.message).toContain('resync');
  });

  it('authenticateNotification works on an already decoded notification', () => {
    const decoded = decodeNotification(resyncBytes);
    expect(authenticateNotification(decoded, stored, { resync: 'zero-bytes' }).nonceUsed).toBe('resync');
    expect(authError(() => authenticateNotification(decoded, undefined)).code).toBe(
      'notification-unknown-server',
    );
  });
});
