/**
 * Server-alerted sessions end to end (issue 7, ets.md §2.8): the real server (port 0, SQLite) sends Package 0 through
 * its real channels to the real device runtime listening on UDP and HTTP over loopback; the device verifies it and
 * opens the session it asks for (Alert 1200, the trigger's session id), which fetches the queued commands. Nothing
 * is mocked: a "tap" in the middle (a UDP socket registered as the device's notifyAddress) only captures the
 * server's bytes so tests can tamper with them or replay them.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceRuntime, WireMessage } from '../../src/device/device-runtime.js';
import { DeviceRuntime as Runtime } from '../../src/device/device-runtime.js';
import {
  listenForNotifications,
  type NotificationListener,
  type NotificationListenerEvent,
} from '../../src/device/notification-listener.js';
import type { SessionSummary } from '../../src/device/session-summary.js';
import type { OmadmError } from '../../src/errors.js';
import { decodeNotification } from '../../src/notification/index.js';
import type { ServerEvent } from '../../src/server/events/event-bus.js';
import { UdpNotificationChannel } from '../../src/server/notification/udp-channel.js';
import { waitFor, sleep } from './support/wait.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
const seen: ServerEvent[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await startTestServer();
  t.server.events.subscribe((event) => seen.push(event));
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await t.close();
});

/** A real device runtime with its notification listener, registered with the server. */
interface ListeningDevice {
  readonly deviceId: string;
  readonly runtime: DeviceRuntime;
  readonly listener: NotificationListener;
  readonly sessions: SessionSummary[];
  /** Package 1 of each session, as sent. */
  readonly package1: WireMessage[];
  readonly invalid: OmadmError[];
  readonly listenerEvents: NotificationListenerEvent[];
  readonly path: string;
}

let counter = 0;

async function listeningDevice(
  listen: string,
  options: { notifyAddress?: string | null; notifyOnQueue?: boolean; gate?: Promise<void> } = {},
): Promise<ListeningDevice> {
  const n = ++counter;
  const deviceId = `IMEI:35700000000${String(n).padStart(4, '0')}`;
  const account = {
    serverId: 'omadm',
    serverUrl: t.dm,
    auth: 'md5' as const,
    username: `notified-${n}`,
    password: `client-secret-${n}`,
    serverPassword: `server-secret-${n}`,
  };
  const package1: WireMessage[] = [];
  let first = true;
  const runtime = await Runtime.open({
    deviceId,
    account,
    // The server must prove itself with the SRVCRED secret too: the device issues it nonces, which the server
    // then uses for Package 0 (security.md §8.2).
    requireServerAuth: true,
    onMessage: (wire) => {
      if (wire.direction === 'out' && first) package1.push(wire);
      first = false;
    },
  });
  const sessions: SessionSummary[] = [];
  const invalid: OmadmError[] = [];
  const listenerEvents: NotificationListenerEvent[] = [];
  const listener = await listenForNotifications({
    listen,
    credentials: (serverId) =>
      serverId === runtime.serverId ? runtime.serverCredentials(serverId) : undefined,
    runSession: async (notification) => {
      await options.gate;
      first = true;
      sessions.push(await runtime.runSession({ initiator: 'server', sessionId: notification.sessionIdText }));
    },
    onInvalid: (error) => invalid.push(error),
    onEvent: (event) => listenerEvents.push(event),
  });
  cleanups.push(() => listener.close());
  const notifyAddress = options.notifyAddress === undefined ? listener.address : options.notifyAddress;
  const created = await t.api.call('POST', '/devices', {
    deviceId,
    username: account.username,
    password: account.password,
    authType: 'md5',
    serverPassword: account.serverPassword,
    ...(notifyAddress === null ? {} : { notifyAddress }),
    ...(options.notifyOnQueue === undefined ? {} : { notifyOnQueue: options.notifyOnQueue }),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return {
    deviceId,
    runtime,
    listener,
    sessions,
    package1,
    invalid,
    listenerEvents,
    path: `/devices/${encodeURIComponent(deviceId)}`,
  };
}

/** A UDP socket standing in for the network between server and device: it keeps what the server sent. */
async function tap(): Promise<{ address: string; received: Uint8Array[]; socket: Socket }> {
  const socket = createSocket('udp4');
  const received: Uint8Array[] = [];
  socket.on('message', (bytes) => received.push(new Uint8Array(bytes)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { address: `udp://127.0.0.1:${socket.address().port}`, received, socket };
}

function eventsOf<T extends ServerEvent['type']>(
  deviceId: string,
  type: T,
): Extract<ServerEvent, { type: T }>[] {
  return seen.filter(
    (e): e is Extract<ServerEvent, { type: T }> => e.type === type && e.deviceId === deviceId,
  );
}

async function notify(d: ListeningDevice, body?: unknown) {
  return t.api.call<{ sessionId: string; notifiedAt: string; uiMode: string }>(
    'POST',
    `${d.path}/notify`,
    body,
  );
}

describe.each([
  ['UDP', 'udp://127.0.0.1:0'],
  ['HTTP', 'http://127.0.0.1:0/notify'],
])('Package 0 over %s: server → device → session (DG-NOT-01, protocol.md §3.1)', (_name, listen) => {
  it('POST /notify wakes the device; its session has Alert 1200 and the same SessionID and delivers the queued command', async () => {
    const d = await listeningDevice(listen);
    const id = await t.api.enqueue(d.deviceId, { command: 'Get', target: './DevInfo/Mod' });
    const sent = await notify(d, { uiMode: 'background' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    expect(sent.body.sessionId).toMatch(/^[1-9A-F][0-9A-F]{0,3}$/);
    expect(sent.body.uiMode).toBe('background');

    const summary = await waitFor(() => d.sessions[0], 'the session');
    expect(summary).toMatchObject({ ok: true, initiator: 'server', sessionId: sent.body.sessionId });
    // protocol.md §3.2 / security.md §8.4: Package 1 carries Alert 1200 and the trigger's session id.
    const package1 = d.package1[0]!.message;
    expect(package1.header.sessionId).toBe(sent.body.sessionId);
    expect(package1.body.some((c) => c.kind === 'Alert' && c.code === 1200)).toBe(true);
    expect(await t.api.command(d.deviceId, id)).toMatchObject({ state: 'done', status: 200 });

    const notified = await waitFor(() => eventsOf(d.deviceId, 'notification.sent')[0], 'notification.sent');
    expect(notified).toMatchObject({
      sessionId: sent.body.sessionId,
      uiMode: 'background',
      channel: listen.startsWith('udp') ? 'udp' : 'http',
    });
    const started = await waitFor(() => eventsOf(d.deviceId, 'session.started')[0], 'session.started');
    expect(started).toMatchObject({
      sessionId: sent.body.sessionId,
      initiator: 'server',
      notifiedAt: Date.parse(sent.body.notifiedAt),
    });
    expect(started.latencyMs).toBe(started.at - Date.parse(sent.body.notifiedAt));
    expect(started.latencyMs).toBeGreaterThanOrEqual(0);
    expect(d.invalid).toEqual([]);
  });

  it('the next notification is signed with the nonce the device issued in the last session, and starts a new session', async () => {
    const d = await listeningDevice(listen);
    const first = await notify(d);
    expect(first.status).toBe(202);
    await waitFor(() => d.sessions[0], 'the first session');
    // The device issued the server a nonce (server authentication is required); both sides now hold it.
    const stored = await t.server.store.getDevice(d.deviceId);
    const deviceSide = await d.runtime.serverCredentials('omadm');
    expect(stored?.serverNonce).not.toBeNull();
    expect(Buffer.from(deviceSide!.nonce!).toString('base64')).toBe(stored!.serverNonce);

    const second = await notify(d, { uiMode: 'informative' });
    expect(second.status).toBe(202);
    expect(second.body.sessionId).not.toBe(first.body.sessionId);
    const summary = await waitFor(() => d.sessions[1], 'the second session');
    expect(summary).toMatchObject({ ok: true, sessionId: second.body.sessionId });
    expect(d.invalid).toEqual([]);
    const started = await waitFor(
      () => eventsOf(d.deviceId, 'session.started')[1],
      'the second session.started',
    );
    expect(started).toMatchObject({
      sessionId: second.body.sessionId,
      notifiedAt: Date.parse(second.body.notifiedAt),
    });
  });
});

describe('what the device refuses (ets.md §2.8)', () => {
  it("DG-NOT-02: the server's notification with one digest byte flipped is ignored: no session; the original starts one", async () => {
    const d = await listeningDevice('udp://127.0.0.1:0');
    const wire = await tap();
    expect((await t.api.call('PATCH', d.path, { notifyAddress: wire.address })).status).toBe(200);
    const sent = await notify(d);
    expect(sent.status).toBe(202);
    const bytes = await waitFor(() => wire.received[0], 'the notification at the tap');
    expect(decodeNotification(bytes).trigger).toMatchObject({
      serverId: 'omadm',
      initiator: 'server',
      version: 11,
    });

    const tampered = bytes.slice();
    tampered[3] = tampered[3]! ^ 0x01;
    const toDevice = new UdpNotificationChannel();
    await toDevice.deliver(d.listener.address, tampered);
    const refused = await waitFor(() => d.invalid[0], 'the refusal');
    expect(refused.code).toBe('notification-digest-mismatch');
    await d.listener.idle();
    await sleep(100);
    expect(d.sessions).toEqual([]);
    expect(eventsOf(d.deviceId, 'session.started')).toEqual([]);

    await toDevice.deliver(d.listener.address, bytes);
    expect(await waitFor(() => d.sessions[0], 'the session')).toMatchObject({
      ok: true,
      sessionId: sent.body.sessionId,
    });
  });

  it('DG-NOT-06: the same notification delivered twice at once starts one session (replay guard, §8.4)', async () => {
    // The session waits until both copies were answered: both are checked against the same account state.
    let open: () => void = () => undefined;
    const d = await listeningDevice('http://127.0.0.1:0/notify', {
      gate: new Promise((resolve) => (open = resolve)),
    });
    const wire = await tap();
    expect((await t.api.call('PATCH', d.path, { notifyAddress: wire.address })).status).toBe(200);
    const sent = await notify(d);
    const bytes = await waitFor(() => wire.received[0], 'the notification at the tap');
    const post = () =>
      fetch(d.listener.address, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.syncml.notification' },
        body: bytes,
      });
    // Both copies are answered 202 (a re-trigger is legitimate); the guard lets one through.
    expect((await Promise.all([post(), post()])).map((r) => r.status)).toEqual([202, 202]);
    open();
    await waitFor(() => d.sessions[0], 'the session');
    await d.listener.idle();
    expect(d.listenerEvents.filter((e) => e.kind === 'replayed')).toHaveLength(1);
    expect(d.sessions).toHaveLength(1);
    const started = await waitFor(() => eventsOf(d.deviceId, 'session.started')[0], 'session.started');
    expect(started).toMatchObject({ sessionId: sent.body.sessionId, initiator: 'server' });
    await sleep(100);
    expect(eventsOf(d.deviceId, 'session.started')).toHaveLength(1);
  });

  it('DG-NOT-06: a notification replayed after its session is refused: the device has issued the server a new nonce', async () => {
    const d = await listeningDevice('udp://127.0.0.1:0');
    const wire = await tap();
    expect((await t.api.call('PATCH', d.path, { notifyAddress: wire.address })).status).toBe(200);
    await notify(d);
    const bytes = await waitFor(() => wire.received[0], 'the notification at the tap');
    const toDevice = new UdpNotificationChannel();
    await toDevice.deliver(d.listener.address, bytes);
    await waitFor(() => d.sessions[0], 'the session');
    await d.listener.idle();

    await toDevice.deliver(d.listener.address, bytes);
    // security.md §8.2: the digest covers the server nonce, which the session rotated (the device required
    // server authentication), so the old trigger no longer verifies.
    const refused = await waitFor(() => d.invalid[0], 'the refusal');
    expect(refused.code).toBe('notification-digest-mismatch');
    await d.listener.idle();
    expect(d.sessions).toHaveLength(1);
    expect(eventsOf(d.deviceId, 'session.started')).toHaveLength(1);
  });
});

describe('queueing notifies (issue 7)', () => {
  it('POST …/commands?notify=true queues and notifies; the session delivers the command', async () => {
    const d = await listeningDevice('udp://127.0.0.1:0');
    const queued = await t.api.call<{ id: number; notification: { outcome: string; sessionId: string } }>(
      'POST',
      `${d.path}/commands?notify=true`,
      { command: 'Get', target: './DevInfo/DevId' },
    );
    expect(queued.status, JSON.stringify(queued.body)).toBe(201);
    expect(queued.body.notification).toMatchObject({ outcome: 'sent', sessionId: expect.any(String) });
    const summary = await waitFor(() => d.sessions[0], 'the session');
    expect(summary).toMatchObject({ ok: true, sessionId: queued.body.notification.sessionId });
    expect(await t.api.command(d.deviceId, queued.body.id)).toMatchObject({
      state: 'done',
      status: 200,
      results: [{ target: './DevInfo/DevId', data: d.deviceId }],
    });
  });

  it('without ?notify and without the policy nothing is sent', async () => {
    const d = await listeningDevice('udp://127.0.0.1:0');
    const queued = await t.api.call('POST', `${d.path}/commands`, {
      command: 'Get',
      target: './DevInfo/Man',
    });
    expect(queued.status).toBe(201);
    expect(queued.body).not.toHaveProperty('notification');
    await sleep(150);
    expect(eventsOf(d.deviceId, 'notification.sent')).toEqual([]);
    expect(d.sessions).toEqual([]);
  });

  it('the per-device policy (notifyOnQueue): a burst of commands costs one notification and one session', async () => {
    const d = await listeningDevice('udp://127.0.0.1:0', { notifyOnQueue: true });
    expect((await t.api.call('GET', d.path)).body).toMatchObject({ notifyOnQueue: true });
    // The tap holds the notification back, so the device is certainly not there yet when the second command comes.
    const wire = await tap();
    expect((await t.api.call('PATCH', d.path, { notifyAddress: wire.address })).status).toBe(200);
    type Queued = { id: number; notification: { outcome: string; sessionId: string } };
    const a = await t.api.call<Queued>('POST', `${d.path}/commands`, {
      command: 'Get',
      target: './DevInfo/Mod',
    });
    const b = await t.api.call<Queued>('POST', `${d.path}/commands`, {
      command: 'Get',
      target: './DevInfo/Man',
    });
    expect(a.body.notification).toMatchObject({ outcome: 'sent' });
    expect(b.body.notification).toEqual({
      outcome: 'pending',
      sessionId: a.body.notification.sessionId,
      notifiedAt: expect.any(String),
    });
    expect(eventsOf(d.deviceId, 'notification.sent')).toHaveLength(1);

    await new UdpNotificationChannel().deliver(
      d.listener.address,
      await waitFor(() => wire.received[0], 'the tap'),
    );
    expect(await waitFor(() => d.sessions[0], 'the session')).toMatchObject({
      ok: true,
      sessionId: a.body.notification.sessionId,
    });
    for (const id of [a.body.id, b.body.id])
      expect(await t.api.command(d.deviceId, id)).toMatchObject({ state: 'done', status: 200 });
    expect(wire.received).toHaveLength(1);

    // Answered: the next command notifies again. Then PATCH turns the policy off and queueing is quiet.
    const c = await t.api.call<Queued>('POST', `${d.path}/commands`, {
      command: 'Get',
      target: './DevInfo/Lang',
    });
    expect(c.body.notification).toMatchObject({ outcome: 'sent' });
    expect(c.body.notification.sessionId).not.toBe(a.body.notification.sessionId);
    expect((await t.api.call('PATCH', d.path, { notifyOnQueue: false })).body).toMatchObject({
      notifyOnQueue: false,
    });
    const quiet = await t.api.call('POST', `${d.path}/commands`, {
      command: 'Get',
      target: './DevInfo/Lang',
    });
    expect(quiet.body).not.toHaveProperty('notification');
    await waitFor(() => wire.received[1], 'the second notification');
    await sleep(50);
    expect(wire.received).toHaveLength(2);
  });
});

describe('POST /devices/{deviceId}/notify errors', () => {
  it('404 for an unknown device, 409 without a notifyAddress, 422 for a scheme no channel delivers to', async () => {
    const unknown = await t.api.call('POST', '/devices/nobody/notify');
    expect(unknown).toMatchObject({ status: 404, body: { code: 'device-not-found' } });

    const silent = await listeningDevice('udp://127.0.0.1:0', { notifyAddress: null });
    const missing = await notify(silent);
    expect(missing).toMatchObject({ status: 409, body: { code: 'notify-address-missing' } });
    expect(String((missing.body as unknown as { message: string }).message)).toMatch(/notifyAddress/);

    expect((await t.api.call('PATCH', silent.path, { notifyAddress: 'mailto:ops@example.com' })).status).toBe(
      200,
    );
    const unsupported = await notify(silent);
    expect(unsupported).toMatchObject({ status: 422, body: { code: 'notification-scheme-unsupported' } });
    expect(await t.server.store.listPendingNotifications(silent.deviceId)).toEqual([]);

    // ?notify=true queues anyway and says why nobody was told.
    const queued = await t.api.call('POST', `${silent.path}/commands?notify=true`, {
      command: 'Get',
      target: '.',
    });
    expect(queued).toMatchObject({
      status: 201,
      body: { state: 'queued', notification: { outcome: 'failed', code: 'notification-scheme-unsupported' } },
    });
  });

  it('502 when delivery fails (nothing listens at the HTTP address); the session id is not left pending', async () => {
    const closed = await listeningDevice('http://127.0.0.1:0/notify');
    const address = closed.listener.address;
    await closed.listener.close();
    expect((await t.api.call('PATCH', closed.path, { notifyAddress: address })).status).toBe(200);
    const failed = await notify(closed);
    expect(failed).toMatchObject({ status: 502, body: { code: 'notification-delivery-failed' } });
    expect(await t.server.store.listPendingNotifications(closed.deviceId)).toEqual([]);
    expect(eventsOf(closed.deviceId, 'notification.sent')).toEqual([]);
  });

  it('400 for a bad uiMode, an unknown field, or ?notify that is not true/false', async () => {
    const d = await listeningDevice('udp://127.0.0.1:0');
    expect(await notify(d, { uiMode: 'loud' })).toMatchObject({
      status: 400,
      body: { code: 'invalid-body', field: 'uiMode' },
    });
    expect(await notify(d, { mode: 'background' })).toMatchObject({ status: 400, body: { field: 'mode' } });
    const bad = await t.api.call('POST', `${d.path}/commands?notify=yes`, { command: 'Get', target: '.' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid-query', field: 'notify' } });
    expect((await t.api.call('POST', `${d.path}/notify`, undefined, null)).status).toBe(401);
  });
});
