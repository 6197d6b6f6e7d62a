import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildNotification,
  decodeWapPushSms,
  decodeWspPush,
  encodeWapPushSms,
  verifyNotification,
  WapPushDecodeError,
  type NotificationTrigger,
  type WapPushProblem,
} from '../../src/notification/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

const workedExample: NotificationTrigger = {
  version: 11,
  uiMode: 'background',
  initiator: 'user',
  sessionId: 0x1234,
  serverId: 'com.mgmtsrv.manage',
  vendorData: new Uint8Array(0),
};
const credentials = { password: 'srvsecret', nonce: ascii('nonce') };
const notification = buildNotification(workedExample, credentials);

function problemOf(fn: () => unknown): WapPushProblem {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WapPushDecodeError);
    return (error as WapPushDecodeError).code;
  }
  throw new Error('expected a WapPushDecodeError');
}

describe('WAP push over SMS (security.md §8.5, DG-NOT-05)', () => {
  it('golden bytes: UDH to port 2948, WSP Push, content type 0xC4, app id 0xAF 0x87, then the notification', () => {
    const segments = encodeWapPushSms(notification);
    expect(segments).toHaveLength(1);
    expect(toHex(segments[0]!)).toBe(
      '06 05 04 0B 84 C0 02 01 06 03 C4 AF 87'.replace(/ /g, '') + toHex(notification),
    );
    expect(segments[0]!.length).toBe(13 + 42);
  });

  it('routes back to the DM client: decode gives the notification, which verifies', () => {
    const bytes = decodeWapPushSms(encodeWapPushSms(notification));
    expect(toHex(bytes)).toBe(toHex(notification));
    expect(verifyNotification(bytes, () => credentials).sessionIdText).toBe('1234');
  });

  it('splits a long notification into concatenated SMS of at most 140 octets, reassembled in any order', () => {
    const long = buildNotification(
      { ...workedExample, vendorData: new Uint8Array(400).map((_, i) => i & 0xff) },
      credentials,
    );
    const segments = encodeWapPushSms(long, { reference: 0x5a, sourcePort: 0x1234 });
    expect(segments.length).toBe(4);
    for (const [i, segment] of segments.entries()) {
      expect(segment.length).toBeLessThanOrEqual(140);
      expect(toHex(segment.subarray(0, 12))).toBe(`0B00035A040${i + 1}05040B841234`);
    }
    const shuffled = [segments[2]!, segments[0]!, segments[3]!, segments[1]!];
    expect(toHex(decodeWapPushSms(shuffled))).toBe(toHex(long));
  });

  it('round trip for any notification size up to 2 KiB', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 2048 }), fc.nat(255), (bytes, reference) => {
        const segments = encodeWapPushSms(bytes, { reference });
        expect(segments.every((s) => s.length <= 140)).toBe(true);
        expect(toHex(decodeWapPushSms(segments))).toBe(toHex(bytes));
      }),
      { numRuns: 50 },
    );
  });

  it('accepts the textual forms of content type and application id, and the general content-type form', () => {
    const textual = new Uint8Array([
      0x01,
      0x06,
      ...[0x41], // headers length 65
      ...ascii('application/vnd.syncml.notification\0'),
      0xaf,
      ...ascii('x-wap-application:syncml.dm\0'),
      ...notification,
    ]);
    expect(textual[2]).toBe(ascii('application/vnd.syncml.notification\0').length + 1 + 28);
    expect(toHex(decodeWspPush(textual))).toBe(toHex(notification));
    const general = new Uint8Array([0x01, 0x06, 0x05, 0x02, 0xc4, 0x81, 0xaf, 0x87, ...notification]);
    expect(toHex(decodeWspPush(general))).toBe(toHex(notification));
  });

  it('skips unrelated WSP headers', () => {
    // X-WAP-Initiator-URI (0x31) as text, then the application id
    const pdu = new Uint8Array([
      0x01,
      0x06,
      0x0a,
      0xc4,
      0xb1,
      ...ascii('srv\0'),
      0x80 | 0x29,
      0x81,
      0xaf,
      0x87,
      ...notification,
    ]);
    expect(pdu[2]).toBe(1 + 5 + 2 + 2);
    expect(toHex(decodeWspPush(pdu))).toBe(toHex(notification));
  });

  it('refuses what a push router must not hand to the DM client', () => {
    const [segment] = encodeWapPushSms(notification);
    const withByte = (offset: number, value: number): Uint8Array => {
      const copy = segment!.slice();
      copy[offset] = value;
      return copy;
    };
    expect(problemOf(() => decodeWapPushSms([withByte(4, 0x85)]))).toBe('wap-push-wrong-port');
    expect(problemOf(() => decodeWapPushSms([withByte(8, 0x07)]))).toBe('wap-push-not-push');
    expect(problemOf(() => decodeWapPushSms([withByte(10, 0xc3)]))).toBe('wap-push-wrong-content-type');
    expect(problemOf(() => decodeWapPushSms([withByte(12, 0x88)]))).toBe('wap-push-wrong-application');
    expect(problemOf(() => decodeWapPushSms([withByte(0, 0xff)]))).toBe('wap-push-malformed');
    expect(problemOf(() => decodeWapPushSms([]))).toBe('wap-push-incomplete');
    expect(problemOf(() => decodeWapPushSms([hex('06 05 04 0B 84 C0 02 01 06 03 C4')]))).toBe(
      'wap-push-malformed',
    );
  });

  it('refuses an incomplete or mixed set of concatenated segments', () => {
    const long = new Uint8Array(300);
    const a = encodeWapPushSms(long, { reference: 1 });
    const b = encodeWapPushSms(long, { reference: 2 });
    expect(problemOf(() => decodeWapPushSms(a.slice(0, 2)))).toBe('wap-push-incomplete');
    expect(problemOf(() => decodeWapPushSms([a[0]!, b[1]!, a[2]!]))).toBe('wap-push-incomplete');
    expect(problemOf(() => decodeWapPushSms([a[0]!, a[0]!, a[2]!]))).toBe('wap-push-incomplete');
  });

  it('never crashes on random user data', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 140 }), { maxLength: 3 }), (segments) => {
        try {
          decodeWapPushSms(segments);
        } catch (error) {
          expect(error).toBeInstanceOf(WapPushDecodeError);
        }
      }),
    );
  });
});
