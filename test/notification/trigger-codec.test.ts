import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeNotification,
  encodeTrigger,
  makeTrigger,
  NotificationDecodeError,
  NotificationEncodeError,
  UI_MODES,
  type NotificationDecodeProblem,
  type NotificationTrigger,
} from '../../src/notification/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** security.md §8.6: ServerID com.mgmtsrv.manage, version 11, ui background, initiator 0, session 0x1234. */
const WORKED_TRIGGER = hex('02 D0 00 00 00 12 34 12 63 6F 6D 2E 6D 67 6D 74 73 72 76 2E 6D 61 6E 61 67 65');
const workedExample: NotificationTrigger = {
  version: 11,
  uiMode: 'background',
  initiator: 'user',
  sessionId: 0x1234,
  serverId: 'com.mgmtsrv.manage',
  vendorData: new Uint8Array(0),
};

function problemOf(fn: () => unknown): NotificationDecodeProblem {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(NotificationDecodeError);
    return (error as NotificationDecodeError).code;
  }
  throw new Error('expected a NotificationDecodeError');
}

/** digest (16 arbitrary bytes) ‖ trigger */
const withDigest = (trigger: Uint8Array): Uint8Array => {
  const out = new Uint8Array(16 + trigger.length);
  out.fill(0xee, 0, 16);
  out.set(trigger, 16);
  return out;
};

describe('Package 0 trigger layout (security.md §8.1)', () => {
  it('DG-NOT-01: header bytes 02 D0 00 00 00 12 34 12 followed by the ServerID', () => {
    const bytes = encodeTrigger(workedExample);
    expect(toHex(bytes.subarray(0, 8))).toBe('02D0000000123412');
    expect(new TextDecoder().decode(bytes.subarray(8))).toBe('com.mgmtsrv.manage');
  });

  it('§8.6 worked example: the 26 trigger bytes, byte for byte', () => {
    expect(toHex(encodeTrigger(workedExample))).toBe(toHex(WORKED_TRIGGER));
    expect(WORKED_TRIGGER.length).toBe(26);
  });

  it('§8.6 worked example decodes to version 11, ui background, initiator user, session 0x1234, len 18', () => {
    const { trigger, triggerBytes, digest } = decodeNotification(withDigest(WORKED_TRIGGER));
    expect(trigger).toEqual(workedExample);
    expect(toHex(triggerBytes)).toBe(toHex(WORKED_TRIGGER));
    expect(toHex(digest)).toBe('EE'.repeat(16));
  });

  it('encodes each ui mode in bits 4–5 of the second header byte (DG-NOT-04)', () => {
    const byUi = UI_MODES.map((uiMode) =>
      toHex(
        encodeTrigger(makeTrigger({ serverId: 's', sessionId: 1, uiMode, initiator: 'user' })).subarray(0, 2),
      ),
    );
    expect(byUi).toEqual(['02C0', '02D0', '02E0', '02F0']);
    for (const uiMode of UI_MODES) {
      const bytes = withDigest(encodeTrigger(makeTrigger({ serverId: 's', sessionId: 1, uiMode })));
      expect(decodeNotification(bytes).trigger.uiMode).toBe(uiMode);
    }
  });

  it('server initiator sets bit 3 of the second header byte', () => {
    const bytes = encodeTrigger(makeTrigger({ serverId: 's', sessionId: 1, uiMode: 'user-interaction' }));
    expect(toHex(bytes.subarray(0, 2))).toBe('02F8');
    expect(decodeNotification(withDigest(bytes)).trigger.initiator).toBe('server');
  });

  it('session id is big-endian in bytes 21–22 (not byte-swapped as libdmclient does on little-endian hosts)', () => {
    const bytes = encodeTrigger(makeTrigger({ serverId: 's', sessionId: 0x00ab }));
    expect(toHex(bytes.subarray(5, 7))).toBe('00AB');
    expect(decodeNotification(withDigest(bytes)).trigger.sessionId).toBe(0xab);
  });

  it('vendor-specific bytes follow the server identifier and round-trip opaque', () => {
    const vendorData = hex('00 FF 10 20');
    const bytes = encodeTrigger(makeTrigger({ serverId: 'srv', sessionId: 7, vendorData }));
    expect(toHex(bytes)).toBe('02C8000000000703' + toHex(ascii('srv')) + '00FF1020');
    expect(toHex(decodeNotification(withDigest(bytes)).trigger.vendorData)).toBe('00FF1020');
  });

  it('round trip: decode(digest ‖ encode(t)) gives t for any valid trigger', () => {
    const trigger = fc.record({
      version: fc.integer({ min: 10, max: 12 }),
      uiMode: fc.constantFrom(...UI_MODES),
      initiator: fc.constantFrom('user' as const, 'server' as const),
      sessionId: fc.integer({ min: 1, max: 0xffff }),
      serverId: fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
        .filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && Buffer.byteLength(s) <= 255), // eslint-disable-line no-control-regex
      vendorData: fc.uint8Array({ maxLength: 100 }),
    });
    fc.assert(
      fc.property(trigger, (t) => {
        expect(decodeNotification(withDigest(encodeTrigger(t))).trigger).toEqual(t);
      }),
    );
  });

  it('a decoded trigger does not alias the input buffer', () => {
    const input = withDigest(
      encodeTrigger(makeTrigger({ serverId: 's', sessionId: 1, vendorData: hex('01') })),
    );
    const decoded = decodeNotification(input);
    input.fill(0);
    expect(toHex(decoded.trigger.vendorData)).toBe('01');
    expect(decoded.digest[0]).toBe(0xee);
  });
});

describe('strict parsing: one typed error per problem', () => {
  it('refuses fewer than 24 bytes', () => {
    expect(problemOf(() => decodeNotification(new Uint8Array(23)))).toBe('notification-too-short');
    expect(problemOf(() => decodeNotification(new Uint8Array(0)))).toBe('notification-too-short');
  });

  it('refuses a server identifier that runs past the end', () => {
    const truncated = withDigest(WORKED_TRIGGER).subarray(0, 16 + 8 + 17);
    expect(problemOf(() => decodeNotification(truncated))).toBe('notification-too-short');
  });

  it('refuses more than maxBytes (default 2048; HTTP 413)', () => {
    const big = withDigest(
      encodeTrigger(makeTrigger({ serverId: 's', sessionId: 1, vendorData: new Uint8Array(2048) })),
    );
    let error: unknown;
    try {
      decodeNotification(big);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotificationDecodeError);
    expect((error as NotificationDecodeError).code).toBe('notification-too-long');
    expect((error as NotificationDecodeError).httpStatus).toBe(413);
    expect(decodeNotification(big, { maxBytes: 4096 }).trigger.vendorData.length).toBe(2048);
  });

  it('accepts versions 10..12 by default and refuses others unless the range is widened', () => {
    for (const version of [10, 11, 12]) {
      const bytes = withDigest(encodeTrigger(makeTrigger({ serverId: 's', sessionId: 1, version })));
      expect(decodeNotification(bytes).trigger.version).toBe(version);
    }
    for (const version of [0, 9, 13, 1023]) {
      const bytes = withDigest(encodeTrigger(makeTrigger({ serverId: 's', sessionId: 1, version })));
      expect(problemOf(() => decodeNotification(bytes))).toBe('notification-version-unsupported');
      expect(decodeNotification(bytes, { minVersion: 0, maxVersion: 1023 }).trigger.version).toBe(version);
    }
  });

  it('refuses any future-use bit set', () => {
    for (const [offset, value] of [
      [17, 0x01],
      [17, 0x04],
      [18, 0x80],
      [19, 0x01],
      [20, 0x10],
    ] as const) {
      const bytes = withDigest(WORKED_TRIGGER);
      bytes[offset] = bytes[offset]! | value;
      expect(problemOf(() => decodeNotification(bytes))).toBe('notification-reserved-bits-set');
    }
  });

  it('refuses session id 0', () => {
    const bytes = withDigest(WORKED_TRIGGER);
    bytes[21] = 0;
    bytes[22] = 0;
    expect(problemOf(() => decodeNotification(bytes))).toBe('notification-session-id-zero');
  });

  it('refuses an empty server identifier', () => {
    const bytes = withDigest(hex('02 D0 00 00 00 12 34 00'));
    expect(problemOf(() => decodeNotification(bytes))).toBe('notification-server-id-empty');
  });

  it('refuses a server identifier that is not UTF-8 or holds control characters', () => {
    expect(problemOf(() => decodeNotification(withDigest(hex('02 D0 00 00 00 12 34 02 C3 28'))))).toBe(
      'notification-server-id-invalid',
    );
    expect(problemOf(() => decodeNotification(withDigest(hex('02 D0 00 00 00 12 34 02 61 00'))))).toBe(
      'notification-server-id-invalid',
    );
  });

  it('every decode error is a 400-class DecodeError locating the byte at fault', () => {
    const bytes = withDigest(WORKED_TRIGGER);
    bytes[21] = 0;
    bytes[22] = 0;
    try {
      decodeNotification(bytes);
      expect.unreachable();
    } catch (error) {
      const e = error as NotificationDecodeError;
      expect(e.httpStatus).toBe(400);
      expect(e.where).toBe('byte 21');
      expect(e.message).toContain('session id 0');
    }
  });

  it('never crashes on random bytes: either a trigger or a NotificationDecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeNotification(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(NotificationDecodeError);
        }
      }),
    );
  });
});

describe('building refuses what the format cannot carry', () => {
  const cases: [string, Partial<NotificationTrigger>][] = [
    ['sessionId', { sessionId: 0 }],
    ['sessionId', { sessionId: 0x10000 }],
    ['sessionId', { sessionId: 1.5 }],
    ['version', { version: 1024 }],
    ['version', { version: -1 }],
    ['serverId', { serverId: '' }],
    ['serverId', { serverId: 'x'.repeat(256) }],
    ['serverId', { serverId: 'é'.repeat(128) }],
    ['serverId', { serverId: 'a\nb' }],
    ['uiMode', { uiMode: 'loud' as never }],
    ['initiator', { initiator: 'nobody' as never }],
  ];
  it.each(cases)('rejects a bad %s with NotificationEncodeError', (field, override) => {
    const trigger = { ...makeTrigger({ serverId: 's', sessionId: 1 }), ...override };
    try {
      encodeTrigger(trigger);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NotificationEncodeError);
      expect((error as NotificationEncodeError).field).toBe(field);
      expect((error as NotificationEncodeError).code).toBe('notification-invalid-trigger');
    }
  });

  it('accepts a 255-byte server identifier, the most the length byte allows', () => {
    const serverId = 'x'.repeat(255);
    const bytes = encodeTrigger(makeTrigger({ serverId, sessionId: 1 }));
    expect(bytes[7]).toBe(255);
    expect(decodeNotification(withDigest(bytes)).trigger.serverId).toBe(serverId);
  });
});
