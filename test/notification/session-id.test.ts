import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/platform/random.js';
import {
  NotificationEncodeError,
  randomSessionId,
  sessionIdFromText,
  sessionIdText,
} from '../../src/notification/index.js';

describe('session id encodings (security.md §8.4, protocol.md §5.1)', () => {
  it('DG-SES-02: 0x1234 → "1234", 0x00AB → "AB": upper-case hex, no leading zeros', () => {
    expect(sessionIdText(0x1234)).toBe('1234');
    expect(sessionIdText(0x00ab)).toBe('AB');
    expect(sessionIdText(0x0001)).toBe('1');
    expect(sessionIdText(0xffff)).toBe('FFFF');
    expect(sessionIdText(0x0f0a)).toBe('F0A');
  });

  it('refuses ids outside 1..0xFFFF', () => {
    for (const bad of [0, -1, 0x10000, 2.5, Number.NaN]) {
      expect(() => sessionIdText(bad)).toThrow(NotificationEncodeError);
    }
  });

  it('parses back only the texts a trigger produces', () => {
    expect(sessionIdFromText('1234')).toBe(0x1234);
    expect(sessionIdFromText('AB')).toBe(0xab);
    expect(sessionIdFromText('FFFF')).toBe(0xffff);
    for (const other of ['', '0', '00AB', 'ab', '10000', 'G1', ' 12', 'session-7']) {
      expect(sessionIdFromText(other)).toBeUndefined();
    }
  });

  it('text round trip over the whole 16-bit range', () => {
    for (let id = 1; id <= 0xffff; id++) {
      if (sessionIdFromText(sessionIdText(id)) !== id) throw new Error(`round trip failed for ${id}`);
    }
    expect(sessionIdFromText(sessionIdText(0xbeef))).toBe(0xbeef);
  });

  it('§8.4: a new session gets an id no pending session of the device uses', () => {
    const random = new SeededRandom(42);
    const pending = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const id = randomSessionId(random, (candidate) => pending.has(candidate));
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(0xffff);
      expect(pending.has(id)).toBe(false);
      pending.add(id);
    }
  });

  it('falls back to a scan when draws keep colliding, and fails clearly when every id is taken', () => {
    const random = new SeededRandom(7);
    expect(randomSessionId(random, (id) => id !== 0x7777)).toBe(0x7777);
    expect(() => randomSessionId(random, () => true)).toThrow(/every session id/);
  });
});
