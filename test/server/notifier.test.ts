/**
 * The server's Package 0 pieces one by one, on a real SQLite store and real sockets: the notifier (what it signs,
 * which session id it picks, what it leaves behind when delivery fails), the notify-on-queue policy and the event
 * decorator that ties session.started to the notification it answers.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyNotification } from '../../src/notification/index.js';
import { ManualClock } from '../../src/platform/clock.js';
import type { Random } from '../../src/platform/random.js';
import { b64 } from '../../src/security/digest.js';
import type { ServerEvent } from '../../src/server/events/event-bus.js';
import { InProcessEventBus } from '../../src/server/events/in-process-event-bus.js';
import { createNotificationChannel } from '../../src/server/notification/channel-router.js';
import { DeviceNotifier, type Notifier } from '../../src/server/notification/device-notifier.js';
import {
  NotificationDeliveryError,
  type NotificationChannel,
} from '../../src/server/notification/notification-channel.js';
import { NotifiedSessionEvents } from '../../src/server/notification/notified-session-events.js';
import { storeCommandQueue } from '../../src/server/queue/command-queue.js';
import { notifyOnQueue } from '../../src/server/queue/notify-on-queue.js';
import { openSqliteStore, type SqlStore } from '../../src/server/store/index.js';
import { sleep, waitFor } from '../e2e/support/wait.js';
import { startHarness } from './http-harness.js';

const SERVER_ID = 'com.mgmtsrv.manage';
const NONCE = new TextEncoder().encode('nonce');

let clock: ManualClock;
let store: SqlStore;
let events: InProcessEventBus;
let seen: ServerEvent[];
let socket: Socket;
let received: Uint8Array[];
let address: string;

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 1));
  store = await openSqliteStore(':memory:', { clock });
  events = new InProcessEventBus();
  seen = [];
  events.subscribe((e) => seen.push(e));
  received = [];
  socket = createSocket('udp4');
  socket.on('message', (bytes) => received.push(new Uint8Array(bytes)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  address = `udp://127.0.0.1:${socket.address().port}`;
  await store.createDevice({
    deviceId: 'dev',
    username: 'u',
    password: 'client-pw',
    authType: 'md5',
    serverPassword: 'srvsecret',
    notifyAddress: address,
  });
  // The nonce the device issued to the server in its last Chal (security.md §7: server nonce, SRVCRED AAuthData).
  await store.updateDevice('dev', { serverNonce: b64(NONCE) });
});
afterEach(async () => {
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  await events.close();
  await store.close();
});

/** Random bytes from a script, then zeros: decides which session ids the notifier draws. */
function scripted(...draws: number[]): Random {
  return {
    bytes: (n) => {
      const id = draws.shift() ?? 0;
      return Uint8Array.from({ length: n }, (_, i) => (i === 0 ? id >> 8 : id & 0xff));
    },
  };
}

function notifier(options: { random?: Random; channel?: NotificationChannel } = {}): DeviceNotifier {
  return new DeviceNotifier({
    store,
    channel: options.channel ?? createNotificationChannel(),
    serverId: SERVER_ID,
    events,
    random: options.random ?? scripted(0x1234),
  });
}

describe('DeviceNotifier', () => {
  it("DG-NOT-01: signs the trigger with our ServerID, the device's server password and the nonce it issued (security.md §8.2)", async () => {
    const sent = await notifier().notify('dev', { uiMode: 'user-interaction' });
    expect(sent).toEqual({
      deviceId: 'dev',
      sessionId: '1234',
      uiMode: 'user-interaction',
      notifiedAt: clock.now(),
      channel: 'udp',
    });
    const bytes = await waitFor(() => received[0], 'received[0]');
    // Header bytes of security.md §8.6 but ui-mode 3 and initiator 1: 02 | 3<<4 | 1<<3 = 0x02 0xF8.
    expect([...bytes.subarray(16, 24)]).toEqual([0x02, 0xf8, 0, 0, 0, 0x12, 0x34, SERVER_ID.length]);
    const verified = verifyNotification(bytes, (id) =>
      id === SERVER_ID ? { password: 'srvsecret', nonce: NONCE } : undefined,
    );
    expect(verified).toMatchObject({ sessionIdText: '1234', nonceUsed: 'stored' });
    expect(verified.trigger).toMatchObject({ version: 11, initiator: 'server', uiMode: 'user-interaction' });
    // Another nonce (the device has moved on) does not verify.
    expect(() =>
      verifyNotification(bytes, () => ({ password: 'srvsecret', nonce: new Uint8Array(4) })),
    ).toThrow(expect.objectContaining({ code: 'notification-digest-mismatch' }));
    expect(await store.listPendingNotifications('dev')).toEqual([
      { deviceId: 'dev', sessionId: '1234', uiMode: 'user-interaction', notifiedAt: clock.now() },
    ]);
    expect(await waitFor(() => seen[0], 'seen[0]')).toEqual({
      type: 'notification.sent',
      deviceId: 'dev',
      sessionId: '1234',
      uiMode: 'user-interaction',
      channel: 'udp',
      at: clock.now(),
    });
  });

  it('a device that never issued a nonce gets a trigger signed with the empty nonce, as its DMAcc holds none', async () => {
    await store.updateDevice('dev', { serverNonce: null });
    await notifier().notify('dev');
    const bytes = await waitFor(() => received[0], 'received[0]');
    expect(verifyNotification(bytes, () => ({ password: 'srvsecret' })).trigger.uiMode).toBe('not-specified');
  });

  it('§8.4: a new session id differs from those still pending for the device; 0 is never drawn', async () => {
    await store.recordNotification('dev', { sessionId: '1234', uiMode: 'background' });
    const sent = await notifier({ random: scripted(0x1234, 0x0000, 0x00ab) }).notify('dev');
    expect(sent.sessionId).toBe('AB');
    expect((await store.listPendingNotifications('dev')).map((p) => p.sessionId)).toEqual(['1234', 'AB']);
  });

  it('refuses before signing: unknown device 404, no notifyAddress 409, unsupported scheme or no URL 422', async () => {
    await expect(notifier().notify('nobody')).rejects.toMatchObject({
      code: 'device-not-found',
      httpStatus: 404,
    });
    await store.updateDevice('dev', { notifyAddress: null });
    await expect(notifier().notify('dev')).rejects.toMatchObject({
      code: 'notify-address-missing',
      httpStatus: 409,
    });
    await store.updateDevice('dev', { notifyAddress: 'sms:+15550100' });
    await expect(notifier().notify('dev')).rejects.toMatchObject({
      code: 'notification-scheme-unsupported',
      httpStatus: 422,
    });
    await store.updateDevice('dev', { notifyAddress: 'not a url' });
    await expect(notifier().notify('dev')).rejects.toMatchObject({
      code: 'notification-target-invalid',
      httpStatus: 422,
    });
    expect(await store.listPendingNotifications('dev')).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('a failing channel leaves nothing pending and surfaces as notification-delivery-failed (502)', async () => {
    const broken: NotificationChannel = {
      deliver: () => Promise.reject(new Error('gateway on fire')),
    };
    const error = await notifier({ channel: broken })
      .notify('dev')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotificationDeliveryError);
    expect(error).toMatchObject({ code: 'notification-delivery-failed', httpStatus: 502 });
    expect((error as Error).cause).toMatchObject({ message: 'gateway on fire' });
    expect(await store.listPendingNotifications('dev')).toEqual([]);
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([]);
  });

  it('the pending record exists while the channel delivers, so a device answering at once is matched', async () => {
    let pendingDuringDelivery: readonly unknown[] = [];
    const looking: NotificationChannel = {
      deliver: async () => {
        pendingDuringDelivery = await store.listPendingNotifications('dev');
      },
    };
    await notifier({ channel: looking }).notify('dev');
    expect(pendingDuringDelivery).toHaveLength(1);
  });
});

describe('NotifiedSessionEvents', () => {
  const started = (initiator: 'client' | 'server', sessionId: string): ServerEvent => ({
    type: 'session.started',
    deviceId: 'dev',
    sessionId,
    initiator,
    at: clock.now(),
  });

  it('session.started with Alert 1200 and a pending session id gets notifiedAt and latencyMs, once', async () => {
    await store.recordNotification('dev', { sessionId: '1234', uiMode: 'background' });
    const notifiedAt = clock.now();
    clock.advance(850);
    const bus = new NotifiedSessionEvents(events, store);
    await bus.publish(started('server', '1234'));
    await bus.publish(started('server', '1234'));
    await waitFor(() => seen[1], 'seen[1]');
    expect(seen[0]).toMatchObject({ sessionId: '1234', notifiedAt, latencyMs: 850 });
    expect(seen[1]).not.toHaveProperty('notifiedAt');
  });

  it('Alert 1201 sessions and other events pass through untouched, and leave the pending record alone', async () => {
    await store.recordNotification('dev', { sessionId: '1234', uiMode: 'background' });
    const bus = new NotifiedSessionEvents(events, store);
    const client = started('client', '1234');
    const ended: ServerEvent = { type: 'session.ended', deviceId: 'dev', sessionId: '1234', at: clock.now() };
    await bus.publish(client);
    await bus.publish(ended);
    await waitFor(() => seen[1], 'seen[1]');
    expect(seen).toEqual([client, ended]);
    expect(await store.listPendingNotifications('dev')).toHaveLength(1);
  });

  it('keeps publish order: events after a session.started wait for its lookup', async () => {
    await store.recordNotification('dev', { sessionId: '77', uiMode: 'background' });
    let release!: () => void;
    const slow = {
      takePendingNotification: async (deviceId: string, sessionId: string) => {
        await new Promise<void>((resolve) => (release = resolve));
        return store.takePendingNotification(deviceId, sessionId);
      },
    };
    const bus = new NotifiedSessionEvents(events, slow);
    const ended: ServerEvent = { type: 'session.ended', deviceId: 'dev', sessionId: '77', at: clock.now() };
    const alone: ServerEvent = { type: 'session.ended', deviceId: 'other', sessionId: '1', at: clock.now() };
    const publishing = [bus.publish(started('server', '77')), bus.publish(ended), bus.publish(alone)];
    await sleep(20);
    expect(seen).toEqual([]);
    release();
    await Promise.all(publishing);
    await waitFor(() => seen[2], 'seen[2]');
    expect(seen.map((e) => e.type)).toEqual(['session.started', 'session.ended', 'session.ended']);
    expect(seen[0]).toMatchObject({ sessionId: '77', latencyMs: expect.any(Number) });
    expect(seen.slice(1)).toEqual([ended, alone]);
    // Once the queue is empty, events go straight through again.
    await bus.publish(alone);
    await waitFor(() => seen[3], 'seen[3]');
  });

  it('a failing store lookup still publishes the event, and reports the failure', async () => {
    const failures: unknown[] = [];
    const bus = new NotifiedSessionEvents(
      events,
      { takePendingNotification: () => Promise.reject(new Error('database gone')) },
      { onError: (e) => failures.push(e) },
    );
    const event = started('server', '1234');
    await bus.publish(event);
    expect(await waitFor(() => seen[0], 'seen[0]')).toEqual(event);
    expect(failures).toHaveLength(1);
  });
});

describe('notifyOnQueue (policy around the command queue)', () => {
  const GET = { command: 'Get', target: './DevInfo/Mod' } as const;

  it('notifies when asked or when the device says so, and coalesces while a recent one is unanswered', async () => {
    const queue = notifyOnQueue(storeCommandQueue(store), {
      store,
      notifier: notifier({ random: scripted(0x11, 0x22) }),
      clock,
      coalesceMs: 1000,
    });
    const quiet = await queue.enqueue('dev', GET);
    expect(quiet).toEqual({ command: expect.objectContaining({ state: 'queued' }) });
    expect((await queue.enqueue('dev', GET, { notify: true }))?.notification).toEqual({
      outcome: 'sent',
      sessionId: '11',
      notifiedAt: clock.now(),
    });
    clock.advance(999);
    await store.updateDevice('dev', { notifyOnQueue: true });
    expect((await queue.enqueue('dev', GET))?.notification).toMatchObject({
      outcome: 'pending',
      sessionId: '11',
    });
    clock.advance(2);
    expect((await queue.enqueue('dev', GET))?.notification).toMatchObject({
      outcome: 'sent',
      sessionId: '22',
    });
    await waitFor(() => (received.length >= 2 ? true : undefined), 'two notifications');
    expect(received).toHaveLength(2);
  });

  it('does not coalesce once the device has been heard from since the pending notification was sent', async () => {
    const queue = notifyOnQueue(storeCommandQueue(store), {
      store,
      notifier: notifier({ random: scripted(0x11, 0x22) }),
      clock,
    });
    expect((await queue.enqueue('dev', GET, { notify: true }))?.notification).toMatchObject({
      sessionId: '11',
    });
    clock.advance(5);
    // Package 1 answering '11' was committed (lastSeen) but its pending record is not consumed yet.
    await store.updateDevice('dev', { lastSeen: clock.now() });
    expect((await queue.enqueue('dev', GET, { notify: true }))?.notification).toMatchObject({
      outcome: 'sent',
      sessionId: '22',
    });
  });

  it('a failed notification never un-queues the command; our own failures are reported, not thrown', async () => {
    const failures: unknown[] = [];
    const exploding: Notifier = { notify: () => Promise.reject(new TypeError('bug')) };
    const queue = notifyOnQueue(storeCommandQueue(store), {
      store,
      notifier: exploding,
      clock,
      onError: (e) => failures.push(e),
    });
    const queued = await queue.enqueue('dev', GET, { notify: true });
    expect(queued?.notification).toEqual({
      outcome: 'failed',
      code: 'internal',
      message: 'notifying the device failed',
      httpStatus: 500,
    });
    expect(failures).toHaveLength(1);
    expect(await store.getCommand('dev', queued!.command.id)).toMatchObject({ state: 'queued' });
    expect(await queue.enqueue('nobody', GET, { notify: true })).toBeUndefined();
  });

  it('the plain queue says it cannot notify instead of ignoring notify: true', async () => {
    const queued = await storeCommandQueue(store).enqueue('dev', GET, { notify: true });
    expect(queued?.notification).toMatchObject({ outcome: 'failed', code: 'notifications-unavailable' });
  });
});

describe('REST API without a notifier', () => {
  it('POST …/notify answers 501; ?notify=true still queues and says nobody was told', async () => {
    const h = await startHarness();
    try {
      expect(
        (
          await h.call('POST', '/api/v1/devices', {
            body: { deviceId: 'x', username: 'u', password: 'p', authType: 'md5', serverPassword: 's' },
          })
        ).status,
      ).toBe(201);
      const notify = await h.call('POST', '/api/v1/devices/x/notify');
      expect(notify.status).toBe(501);
      expect(notify.json).toEqual({
        code: 'notifications-unavailable',
        message: 'this server sends no notifications',
      });
      const queued = await h.call('POST', '/api/v1/devices/x/commands?notify=true', {
        body: { command: 'Get', target: '.' },
      });
      expect(queued.status).toBe(201);
      expect(queued.json).toMatchObject({
        state: 'queued',
        notification: { outcome: 'failed', code: 'notifications-unavailable' },
      });
    } finally {
      await h.stop();
    }
  });
});
