/**
 * Server channels → real sockets on loopback → the real device listener. A matrix over the two transports;
 * nothing mocked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildNotification,
  makeTrigger,
  NotificationAuthError,
  NotificationDecodeError,
  RESYNC_NONCE,
  type NotificationTrigger,
  type UiMode,
} from '../../src/notification/index.js';
import {
  createNotificationChannel,
  NotificationDeliveryError,
  type NotificationChannel,
} from '../../src/server/notification/index.js';
import { CREDENTIALS, ListenerHarness, SERVER_ID } from './support/listener-harness.js';

const transports = [
  { name: 'UDP', listen: 'udp://127.0.0.1:0' },
  { name: 'UDP over IPv6', listen: 'udp://[::1]:0' },
  { name: 'HTTP', listen: 'http://127.0.0.1:0/dm/notify' },
] as const;

const channel: NotificationChannel = createNotificationChannel({ http: { timeoutMs: 5000 } });
const notification = (fields: Partial<NotificationTrigger> & { sessionId: number }): Uint8Array =>
  buildNotification(makeTrigger({ serverId: SERVER_ID, ...fields }), CREDENTIALS);

let harness: ListenerHarness | undefined;
afterEach(async () => {
  await harness?.listener.close();
  harness = undefined;
});

describe.each(transports)('Package 0 over $name to the device listener', ({ listen }) => {
  it('a valid notification starts one session with the trigger and its session id text (DG-SES-02)', async () => {
    harness = await ListenerHarness.start(listen);
    await channel.deliver(harness.address, notification({ sessionId: 0x00ab, uiMode: 'informative' }));
    const started = await harness.waitForKind('session-started');
    expect(started.kind === 'session-started' && started.notification.sessionIdText).toBe('AB');
    expect(harness.sessions[0]?.trigger).toMatchObject({
      sessionId: 0xab,
      uiMode: 'informative',
      serverId: SERVER_ID,
    });
    expect(harness.sessions[0]?.nonceUsed).toBe('stored');
  });

  it('DG-NOT-04: each UI mode reaches runSession unchanged', async () => {
    harness = await ListenerHarness.start(listen);
    const modes: UiMode[] = ['not-specified', 'background', 'informative', 'user-interaction'];
    for (const [i, uiMode] of modes.entries()) {
      await channel.deliver(harness.address, notification({ sessionId: 0x100 + i, uiMode }));
      await harness.waitForKind('session-started', i + 1);
    }
    expect(harness.sessions.map((s) => s.trigger.uiMode)).toEqual(modes);
  });

  it('DG-NOT-02: a tampered digest is reported as invalid and starts no session', async () => {
    harness = await ListenerHarness.start(listen);
    const bytes = notification({ sessionId: 0x1234 });
    bytes[0] = bytes[0]! ^ 0xff;
    await channel.deliver(harness.address, bytes).catch(() => undefined); // HTTP answers 403
    const invalid = await harness.waitForKind('invalid');
    expect(invalid.kind === 'invalid' && invalid.error).toBeInstanceOf(NotificationAuthError);
    expect(invalid.kind === 'invalid' && invalid.error.code).toBe('notification-digest-mismatch');
    await harness.listener.idle();
    expect(harness.sessions).toHaveLength(0);
  });

  it('DG-NOT-02: a notification signed with the wrong server password is reported as invalid', async () => {
    harness = await ListenerHarness.start(listen);
    const bytes = buildNotification(makeTrigger({ serverId: SERVER_ID, sessionId: 9 }), {
      password: 'guessed',
      nonce: CREDENTIALS.nonce!,
    });
    await channel.deliver(harness.address, bytes).catch(() => undefined);
    const invalid = await harness.waitForKind('invalid');
    expect(invalid.kind === 'invalid' && invalid.error.code).toBe('notification-digest-mismatch');
    await harness.listener.idle();
    expect(harness.sessions).toHaveLength(0);
  });

  it('DG-NOT-06: a replayed notification does not start a second session', async () => {
    harness = await ListenerHarness.start(listen);
    const bytes = notification({ sessionId: 0x4242 });
    await channel.deliver(harness.address, bytes);
    await harness.waitForKind('session-started');
    await channel.deliver(harness.address, bytes);
    await harness.waitForKind('replayed');
    await harness.listener.idle();
    expect(harness.sessions).toHaveLength(1);
  });

  it('notifications arriving while a session runs are coalesced into one follow-up session', async () => {
    harness = await ListenerHarness.start(listen);
    harness.gated = true;
    await channel.deliver(harness.address, notification({ sessionId: 1 }));
    await harness.waitForKind('session-started');
    for (const [i, sessionId] of [2, 3, 4].entries()) {
      await channel.deliver(harness.address, notification({ sessionId }));
      await harness.waitForKind('accepted', i + 2);
    }
    expect(harness.sessions).toHaveLength(1);
    harness.finishSession();
    await harness.waitForKind('session-started', 2);
    harness.finishSession();
    await harness.listener.idle();
    expect(harness.sessions.map((s) => s.trigger.sessionId)).toEqual([1, 4]);
    const coalesced = harness.events.filter((e) => e.kind === 'coalesced');
    expect(coalesced.map((e) => e.kind === 'coalesced' && e.notification.trigger.sessionId)).toEqual([2, 3]);
  });

  it('DG-NOT-03: with the zero-bytes resync policy a zero-nonce trigger starts a resync session', async () => {
    harness = await ListenerHarness.start(listen, { resync: 'zero-bytes' });
    const bytes = buildNotification(makeTrigger({ serverId: SERVER_ID, sessionId: 0x77 }), {
      password: CREDENTIALS.password,
      nonce: RESYNC_NONCE,
    });
    await channel.deliver(harness.address, bytes);
    await harness.waitForKind('session-started');
    expect(harness.sessions[0]?.nonceUsed).toBe('resync');
  });

  it('malformed bytes and unknown servers are reported with typed errors, and the listener keeps going', async () => {
    harness = await ListenerHarness.start(listen);
    await channel.deliver(harness.address, new Uint8Array([1, 2, 3])).catch(() => undefined);
    const unknown = buildNotification(makeTrigger({ serverId: 'other.example', sessionId: 5 }), CREDENTIALS);
    await channel.deliver(harness.address, unknown).catch(() => undefined);
    const first = await harness.waitForKind('invalid', 1);
    const second = await harness.waitForKind('invalid', 2);
    const errors = [first, second].map((e) => (e.kind === 'invalid' ? e.error : undefined));
    expect(
      errors.some((e) => e instanceof NotificationDecodeError && e.code === 'notification-too-short'),
    ).toBe(true);
    expect(errors.some((e) => e?.code === 'notification-unknown-server')).toBe(true);
    await channel.deliver(harness.address, notification({ sessionId: 6 }));
    await harness.waitForKind('session-started');
  });

  it('a failing session is reported and does not stop the listener', async () => {
    let calls = 0;
    harness = await ListenerHarness.start(listen, {
      runSession: async () => {
        calls++;
        if (calls === 1) throw new Error('server unreachable');
      },
    });
    await channel.deliver(harness.address, notification({ sessionId: 10 }));
    const failed = await harness.waitForKind('session-failed');
    expect(failed.kind === 'session-failed' && String(failed.error)).toContain('server unreachable');
    await channel.deliver(harness.address, notification({ sessionId: 11 }));
    await harness.waitForKind('accepted', 2);
    await harness.listener.idle();
    expect(calls).toBe(2);
  });

  it('close() waits for the running session and drops the pending one', async () => {
    harness = await ListenerHarness.start(listen);
    harness.gated = true;
    await channel.deliver(harness.address, notification({ sessionId: 20 }));
    await harness.waitForKind('session-started');
    await channel.deliver(harness.address, notification({ sessionId: 21 }));
    await harness.waitForKind('accepted', 2);
    let closed = false;
    const closing = harness.listener.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    harness.finishSession();
    await closing;
    expect(harness.sessions.map((s) => s.trigger.sessionId)).toEqual([20]);
  });
});

describe('channel failures are typed', () => {
  it('HTTP: a refused notification rejects with the endpoint status (403 for a bad digest)', async () => {
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify');
    const bytes = notification({ sessionId: 1 });
    bytes[5] = bytes[5]! ^ 1;
    const error = await channel.deliver(harness.address, bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotificationDeliveryError);
    expect((error as NotificationDeliveryError).code).toBe('notification-delivery-failed');
    expect((error as NotificationDeliveryError).httpStatus).toBe(502);
    expect((error as Error).message).toContain('HTTP 403');
  });

  it('HTTP: a closed port is a delivery failure', async () => {
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify');
    const address = harness.address;
    await harness.listener.close();
    harness = undefined;
    const error = await channel.deliver(address, notification({ sessionId: 1 })).catch((e: unknown) => e);
    expect((error as NotificationDeliveryError).code).toBe('notification-delivery-failed');
  });

  it.each([
    ['not a url', 'notification-target-invalid'],
    ['udp://127.0.0.1', 'notification-target-invalid'],
    ['udp://127.0.0.1:99999', 'notification-target-invalid'],
    ['udp://127.0.0.1:9/path', 'notification-target-invalid'],
    ['sms:+15551234567', 'notification-scheme-unsupported'],
    ['mailto:device@example.invalid', 'notification-scheme-unsupported'],
  ])('target %s → %s (HTTP 422)', async (target, code) => {
    const error = await channel.deliver(target, new Uint8Array(24)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotificationDeliveryError);
    expect((error as NotificationDeliveryError).code).toBe(code);
    expect((error as NotificationDeliveryError).httpStatus).toBe(422);
    expect((error as NotificationDeliveryError).target).toBe(target);
  });
});
