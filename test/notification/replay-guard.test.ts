import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { NotificationReplayGuard } from '../../src/notification/index.js';

const trigger = (sessionId: number, serverId = 'srv') => ({ serverId, sessionId });

describe('NotificationReplayGuard (security.md §8.4)', () => {
  it('DG-NOT-06: the same session id triggered twice admits only the first', () => {
    const guard = new NotificationReplayGuard(new ManualClock());
    expect(guard.admit(trigger(0x1234))).toBe(true);
    expect(guard.admit(trigger(0x1234))).toBe(false);
    expect(guard.admit(trigger(0x1234))).toBe(false);
  });

  it('different session ids, or the same id from another server, are different sessions', () => {
    const guard = new NotificationReplayGuard(new ManualClock());
    expect(guard.admit(trigger(1))).toBe(true);
    expect(guard.admit(trigger(2))).toBe(true);
    expect(guard.admit(trigger(1, 'other'))).toBe(true);
    expect(guard.size).toBe(3);
  });

  it('forgets a pair once the window has passed', () => {
    const clock = new ManualClock();
    const guard = new NotificationReplayGuard(clock, { windowMs: 1000 });
    expect(guard.admit(trigger(9))).toBe(true);
    clock.advance(999);
    expect(guard.admit(trigger(9))).toBe(false);
    clock.advance(1);
    expect(guard.admit(trigger(9))).toBe(true);
  });

  it('a replay does not extend the window', () => {
    const clock = new ManualClock();
    const guard = new NotificationReplayGuard(clock, { windowMs: 1000 });
    guard.admit(trigger(9));
    clock.advance(900);
    expect(guard.admit(trigger(9))).toBe(false);
    clock.advance(100);
    expect(guard.admit(trigger(9))).toBe(true);
  });

  it('bounds memory: beyond maxEntries the oldest pair is forgotten', () => {
    const guard = new NotificationReplayGuard(new ManualClock(), { maxEntries: 3 });
    for (const id of [1, 2, 3, 4]) expect(guard.admit(trigger(id))).toBe(true);
    expect(guard.size).toBe(3);
    expect(guard.admit(trigger(4))).toBe(false);
    expect(guard.admit(trigger(1))).toBe(true);
  });

  it('refuses nonsense options with a clear error', () => {
    expect(() => new NotificationReplayGuard(new ManualClock(), { windowMs: 0 })).toThrow(RangeError);
    expect(() => new NotificationReplayGuard(new ManualClock(), { maxEntries: 0 })).toThrow(RangeError);
  });
});
