/**
 * Nonce resynchronisation end to end (security.md §8.3; ets.md DG-NOT-02, DG-NOT-03): the real server (port 0,
 * SQLite) signs Package 0 and delivers it over loopback UDP to the real device runtime and its listener. The
 * device's stored server nonce is made wrong, as after a lost message: ordinary triggers then fail its digest
 * check forever, and only a resync trigger (signed with the special nonce) brings the two sides back together.
 * Nothing is mocked; a UDP "tap" registered as a notifyAddress only captures what the server sent.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TreeNonceStore } from '../../src/device/dm-account.js';
import { DeviceRuntime, sessionRequestFor, type WireMessage } from '../../src/device/device-runtime.js';
import {
  listenForNotifications,
  type NotificationListener,
  type NotificationListenerEvent,
} from '../../src/device/notification-listener.js';
import type { SessionSummary } from '../../src/device/session-summary.js';
import type { OmadmError } from '../../src/errors.js';
import { RESYNC_NONCE, type ResyncPolicy } from '../../src/notification/index.js';
import { fromB64, md5Credential } from '../../src/security/digest.js';
import type { ServerEvent } from '../../src/server/events/event-bus.js';
import { decodeMessage } from '../../src/syncml/codec.js';
import type { Status, SyncMLMessage } from '../../src/syncml/model.js';
import { createTestDevice, runSession } from './support/device.js';
import { waitFor, sleep } from './support/wait.js';
import { startTestServer, type TestServer } from './support/server.js';

const SERVER_ID = 'omadm';
const SPECIAL = Buffer.from(RESYNC_NONCE).toString('base64'); // AAAAAA==

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

interface ListeningDevice {
  readonly deviceId: string;
  readonly account: { readonly username: string; readonly password: string };
  readonly runtime: DeviceRuntime;
  readonly listener: NotificationListener;
  readonly sessions: SessionSummary[];
  /** Package 1 of each session, as sent. */
  readonly package1: WireMessage[];
  readonly invalid: OmadmError[];
  readonly events: NotificationListenerEvent[];
  readonly path: string;
}

let counter = 0;

/** A real device runtime listening on loopback UDP, registered with `server`, with the given resync policy. */
async function listeningDevice(resync: ResyncPolicy, server: TestServer = t): Promise<ListeningDevice> {
  const n = ++counter;
  const deviceId = `IMEI:35800000000${String(n).padStart(4, '0')}`;
  const account = {
    serverId: SERVER_ID,
    serverUrl: server.dm,
    auth: 'md5' as const,
    username: `resync-${n}`,
    password: `client-secret-${n}`,
    serverPassword: `server-secret-${n}`,
  };
  const package1: WireMessage[] = [];
  let first = true;
  const runtime = await DeviceRuntime.open({
    deviceId,
    account,
    requireServerAuth: true,
    onMessage: (wire) => {
      if (wire.direction === 'out' && first) package1.push(wire);
      first = false;
    },
  });
  const sessions: SessionSummary[] = [];
  const invalid: OmadmError[] = [];
  const events: NotificationListenerEvent[] = [];
  const listener = await listenForNotifications({
    listen: 'udp://127.0.0.1:0',
    credentials: (serverId) =>
      serverId === runtime.serverId ? runtime.serverCredentials(serverId) : undefined,
    resync,
    runSession: async (notification) => {
      first = true;
      sessions.push(await runtime.runSession(sessionRequestFor(notification)));
    },
    onInvalid: (error) => invalid.push(error),
    onEvent: (event) => events.push(event),
  });
  cleanups.push(() => listener.close());
  const created = await server.api.call('POST', '/devices', {
    deviceId,
    username: account.username,
    password: account.password,
    authType: 'md5',
    serverPassword: account.serverPassword,
    notifyAddress: listener.address,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return {
    deviceId,
    account,
    runtime,
    listener,
    sessions,
    package1,
    invalid,
    events,
    path: `/devices/${encodeURIComponent(deviceId)}`,
  };
}

interface Sent {
  sessionId: string;
  notifiedAt: string;
  nonceResyncUntil?: string;
}

async function notify(d: ListeningDevice, body?: unknown, server: TestServer = t): Promise<Sent> {
  const r = await server.api.call<Sent>('POST', `${d.path}/notify`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body;
}

/** The nonces as the device keeps them in its DMAcc (Base64), and as the server keeps them for the device. */
async function nonces(d: ListeningDevice, server: TestServer = t) {
  const store = new TreeNonceStore(d.runtime.tree);
  const row = (await server.server.store.getDevice(d.deviceId))!;
  return {
    device: {
      client: await store.get(SERVER_ID, 'client-to-server'),
      server: await store.get(SERVER_ID, 'server-to-client'),
    },
    server: { client: row.clientNonce, server: row.serverNonce },
    row,
  };
}

/** A first notified session with a command in it, so the device has issued the server a nonce of its own. */
async function inSync(d: ListeningDevice): Promise<void> {
  const id = await t.api.enqueue(d.deviceId, { command: 'Get', target: './DevInfo/Mod' });
  await notify(d);
  expect(await waitFor(() => d.sessions[0], 'the first session')).toMatchObject({ ok: true });
  expect(await t.api.command(d.deviceId, id)).toMatchObject({ state: 'done', status: 200 });
  const n = await nonces(d);
  expect(n.server.server).not.toBeNull();
  expect(n.device.server).toBe(n.server.server);
  expect(n.device.client).toBe(n.server.client);
}

/** As if a message carrying a fresh server nonce got lost: the device keeps one the server never saw. */
async function loseServerNonce(d: ListeningDevice): Promise<string> {
  const wrong = randomBytes(16).toString('base64');
  await new TreeNonceStore(d.runtime.tree).set(SERVER_ID, 'server-to-client', wrong);
  await d.runtime.tree.save();
  return wrong;
}

/** Waits until the device rejected `count` notifications in all. */
async function rejected(d: ListeningDevice, count: number): Promise<OmadmError> {
  return waitFor(() => d.invalid[count - 1], `rejected notification ${count}`);
}

function headerStatus(message: SyncMLMessage | undefined): Status | undefined {
  return message?.body.find((c): c is Status => c.kind === 'Status' && c.cmdRef === 0);
}

function authFailures(deviceId: string): Extract<ServerEvent, { type: 'auth.failure' }>[] {
  return seen.filter(
    (e): e is Extract<ServerEvent, { type: 'auth.failure' }> =>
      e.type === 'auth.failure' && e.deviceId === deviceId,
  );
}

describe('nonce resynchronisation (security.md §8.3) over the real server and device', () => {
  it('DG-NOT-02 then DG-NOT-03: with the server nonce lost, triggers are ignored; a resync trigger leads to a session on the special nonce, after which both nonces are fresh and triggers work again', async () => {
    const d = await listeningDevice('zero-bytes');
    await inSync(d);
    const before = await nonces(d);
    const wrong = await loseServerNonce(d);

    // DG-NOT-02: an ordinary trigger (signed with the server's nonce) fails the digest, and so does the special
    // nonce the device retries with: ignored, no session.
    await notify(d);
    expect((await rejected(d, 1)).code).toBe('notification-digest-mismatch');
    await sleep(100);
    expect(d.sessions).toHaveLength(1);

    // DG-NOT-03: queued work, then a resync trigger.
    const id = await t.api.enqueue(d.deviceId, { command: 'Get', target: './DevInfo/Man' });
    const sent = await notify(d, { nonceResync: true });
    expect(Date.parse(sent.nonceResyncUntil!) - Date.parse(sent.notifiedAt)).toBe(10 * 60_000);
    const summary = await waitFor(() => d.sessions[1], 'the resync session');
    expect(summary).toMatchObject({
      ok: true,
      sessionId: sent.sessionId,
      nonceResync: true,
      authenticated: true,
      serverAuthenticated: true,
      challenges: 0,
    });
    expect(
      d.events.find((e) => e.kind === 'accepted' && e.notification.nonceUsed === 'resync'),
    ).toBeDefined();
    expect(await t.api.command(d.deviceId, id)).toMatchObject({ state: 'done', status: 200 });

    // §8.3 step 2: Package 1 credentials built on the special nonce, accepted at once (212, no challenge), and
    // answered with a fresh client nonce (step 3).
    const package1 = d.package1[1]!;
    expect(package1.message.header.cred?.data).toBe(
      md5Credential(d.account.username, d.account.password, RESYNC_NONCE),
    );

    // Both nonces fresh, and the same on both sides; the offer was taken.
    const after = await nonces(d);
    expect(after.row.nonceResyncUntil).toBeNull();
    expect(after.device.client).toBe(after.server.client);
    expect(after.device.server).toBe(after.server.server);
    for (const old of [before.server.client, SPECIAL]) expect(after.server.client).not.toBe(old);
    for (const old of [before.server.server, wrong, SPECIAL]) expect(after.server.server).not.toBe(old);
    expect(after.row.failedAuthCount).toBe(0);

    // An ordinary trigger works again: a session on the stored nonces, no challenge.
    const again = await notify(d);
    const normal = await waitFor(() => d.sessions[2], 'the session after the resync');
    expect(normal).toMatchObject({ ok: true, sessionId: again.sessionId, challenges: 0 });
    expect(normal.nonceResync).toBeUndefined();
    expect(d.package1[2]!.message.header.cred?.data).toBe(
      md5Credential(d.account.username, d.account.password, fromB64(after.device.client!)),
    );
    expect(d.invalid).toHaveLength(1);

    // The offer admitted one session: the resync session's Package 1, replayed byte for byte, is refused like
    // wrong credentials and counted toward the lockout.
    const failuresBefore = authFailures(d.deviceId).length;
    const replay = await fetch(t.dm, {
      method: 'POST',
      headers: { 'content-type': package1.contentType },
      body: package1.bytes,
    });
    expect(replay.status).toBe(200);
    const answer = decodeMessage(
      new Uint8Array(await replay.arrayBuffer()),
      replay.headers.get('content-type')!,
    );
    expect(headerStatus(answer)?.code).toBe(401);
    expect((await t.server.store.getDevice(d.deviceId))!.failedAuthCount).toBe(1);
    const failure = await waitFor(() => authFailures(d.deviceId)[failuresBefore], 'auth.failure');
    expect(failure.reason).toBe('wrong');
  });

  it('DG-NOT-03 in an idle session: with nothing to deliver both sides keep the special nonce as the server nonce, so triggers work again', async () => {
    const d = await listeningDevice('zero-bytes');
    await inSync(d);
    await loseServerNonce(d);
    await notify(d);
    await rejected(d, 1);

    const sent = await notify(d, { nonceResync: true });
    const summary = await waitFor(() => d.sessions[1], 'the resync session');
    expect(summary).toMatchObject({ ok: true, sessionId: sent.sessionId, nonceResync: true, challenges: 0 });
    // Package 2 closed the session (protocol.md §10): the device never answered, so its fresh server nonce never
    // reached the server. Both sides hold the special nonce instead; the client nonce is fresh.
    const after = await nonces(d);
    expect(after.device.server).toBe(SPECIAL);
    expect(after.server.server).toBe(SPECIAL);
    expect(after.device.client).toBe(after.server.client);
    expect(after.row.nonceResyncUntil).toBeNull();

    const again = await notify(d);
    expect(await waitFor(() => d.sessions[2], 'the next session')).toMatchObject({
      ok: true,
      sessionId: again.sessionId,
      challenges: 0,
    });
    expect(d.invalid).toHaveLength(1);
  });

  it('a device with resync off ignores the resync trigger; the offer stays unused', async () => {
    const d = await listeningDevice('off');
    await inSync(d);
    await loseServerNonce(d);
    const sent = await notify(d, { nonceResync: true });
    expect((await rejected(d, 1)).code).toBe('notification-digest-mismatch');
    await sleep(100);
    expect(d.sessions).toHaveLength(1);
    const row = (await t.server.store.getDevice(d.deviceId))!;
    expect(row.nonceResyncUntil).toBe(Date.parse(sent.nonceResyncUntil!));
  });

  it('credentials on the special nonce without a resync offer are refused like wrong ones and count toward the lockout', async () => {
    const device = await createTestDevice();
    await t.api.register(device);
    // A first session, so the server has issued the device a nonce (first contact is no failure).
    const first = await runSession(device, { url: t.dm });
    expect(first.ended?.reason).toBe('completed');
    const failuresBefore = authFailures(device.deviceId).length;

    const run = await runSession(device, { url: t.dm, resyncNonce: RESYNC_NONCE, stopAfter: 1 });
    const answer = run.responses[0]!.message;
    expect(headerStatus(answer)?.code).toBe(401);
    expect(headerStatus(answer)?.chal?.meta.nextNonce).toBeDefined();
    const row = (await t.server.store.getDevice(device.deviceId))!;
    expect(row).toMatchObject({ failedAuthCount: 1, nonceResyncUntil: null });
    const failure = await waitFor(() => authFailures(device.deviceId)[failuresBefore], 'auth.failure');
    expect(failure.reason).toBe('wrong');
  });
});

describe('POST …/notify nonceResync', () => {
  it('400 for a nonceResync that is not a boolean; nothing is sent or offered', async () => {
    const d = await listeningDevice('zero-bytes');
    const r = await t.api.call('POST', `${d.path}/notify`, { nonceResync: 'yes' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'invalid-body', field: 'nonceResync' });
    expect(await t.server.store.listPendingNotifications(d.deviceId)).toEqual([]);
    expect((await t.server.store.getDevice(d.deviceId))!.nonceResyncUntil).toBeNull();
  });
});

describe('a resync offer expires (nonceResyncOfferMs)', () => {
  let short: TestServer;
  beforeAll(async () => {
    short = await startTestServer({ nonceResyncOfferMs: 300 });
    short.server.events.subscribe((event) => seen.push(event));
  });
  afterAll(async () => {
    await short.close();
  });

  it('credentials on the special nonce are accepted within the offer and refused after it', async () => {
    // Two devices: the trigger goes to a UDP tap (the device need not hear it to present such credentials).
    const tapSocket = createSocket('udp4');
    await new Promise<void>((resolve) => tapSocket.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => tapSocket.close(() => resolve())));
    const notifyAddress = `udp://127.0.0.1:${tapSocket.address().port}`;
    const [inTime, late] = [await createTestDevice(), await createTestDevice()];
    for (const device of [inTime, late]) {
      await short.api.register(device);
      expect((await runSession(device, { url: short.dm })).ended?.reason).toBe('completed');
      const patched = await short.api.call('PATCH', `/devices/${encodeURIComponent(device.deviceId)}`, {
        notifyAddress,
      });
      expect(patched.status).toBe(200);
    }
    const offer = async (deviceId: string) => {
      const r = await short.api.call<Sent>('POST', `/devices/${encodeURIComponent(deviceId)}/notify`, {
        nonceResync: true,
      });
      expect(r.status).toBe(202);
      expect(Date.parse(r.body.nonceResyncUntil!) - Date.parse(r.body.notifiedAt)).toBe(300);
    };

    await offer(inTime.deviceId);
    const accepted = await runSession(inTime, { url: short.dm, resyncNonce: RESYNC_NONCE, stopAfter: 1 });
    expect(headerStatus(accepted.responses[0]!.message)?.code).toBe(212);
    expect((await short.server.store.getDevice(inTime.deviceId))!.nonceResyncUntil).toBeNull();

    await offer(late.deviceId);
    await sleep(400);
    const refused = await runSession(late, { url: short.dm, resyncNonce: RESYNC_NONCE, stopAfter: 1 });
    expect(headerStatus(refused.responses[0]!.message)?.code).toBe(401);
    expect((await short.server.store.getDevice(late.deviceId))!.failedAuthCount).toBe(1);
  });

  it('a device answering a resync trigger after the offer expired is challenged, authenticates on the new nonce and is left in sync', async () => {
    const d = await listeningDevice('zero-bytes', short);
    const id = await short.api.enqueue(d.deviceId, { command: 'Get', target: './DevInfo/Mod' });
    await notify(d, undefined, short);
    expect(await waitFor(() => d.sessions[0], 'the first session')).toMatchObject({ ok: true });
    expect(await short.api.command(d.deviceId, id)).toMatchObject({ state: 'done' });
    await loseServerNonce(d);

    // The resync trigger goes to a tap and reaches the device only once the offer has expired.
    const tapSocket = createSocket('udp4');
    const captured: Uint8Array[] = [];
    tapSocket.on('message', (bytes) => captured.push(new Uint8Array(bytes)));
    await new Promise<void>((resolve) => tapSocket.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => tapSocket.close(() => resolve())));
    const patch = (notifyAddress: string) =>
      short.api.call('PATCH', d.path, { notifyAddress }).then((r) => expect(r.status).toBe(200));
    await patch(`udp://127.0.0.1:${tapSocket.address().port}`);
    await notify(d, { nonceResync: true }, short);
    const bytes = await waitFor(() => captured[0], 'the captured trigger');
    await patch(d.listener.address);
    await sleep(400);
    const port = Number(new URL(d.listener.address).port);
    await new Promise<void>((resolve, reject) =>
      tapSocket.send(bytes, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );

    const late = await waitFor(() => d.sessions[1], 'the late resync session');
    // The zero-nonce credentials were refused (counted) and challenged; the device answered on the new nonce.
    expect(late).toMatchObject({ nonceResync: true, authenticated: true, challenges: 1 });
    expect(authFailures(d.deviceId).some((e) => e.reason === 'wrong')).toBe(true);
    // The server took no resync, so the device did not adopt the special nonce: the challenge round trip (the
    // device refused the server's credentials on its stale nonce and challenged it) left both sides on fresh ones.
    expect(late).toMatchObject({ ok: true, serverAuthenticated: true });
    const after = await nonces(d, short);
    expect(after.device.server).not.toBe(SPECIAL);
    expect(after.device.server).toBe(after.server.server);
    expect(after.device.client).toBe(after.server.client);
    expect(after.row.failedAuthCount).toBe(0);
  });
});
