/**
 * Package 0 across server processes: two servers on one PostgreSQL schema (a fresh one per run), sharing nothing
 * but the database. One sends the notification; the device's Package 1 (Alert 1200) reaches the other, which still
 * reports the session as the answer to it (notifiedAt, latencyMs), because the pending notification is in the store.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRuntime } from '../../src/device/device-runtime.js';
import { listenForNotifications, type NotificationListener } from '../../src/device/notification-listener.js';
import type { SessionSummary } from '../../src/device/session-summary.js';
import type { ServerEvent } from '../../src/server/events/event-bus.js';
import { waitFor } from './support/wait.js';
import { startTestServer, type TestServer } from './support/server.js';

const PG_URL = process.env['OMADM_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `omadm_e2e_${randomBytes(5).toString('hex')}`;
let a: TestServer;
let b: TestServer;
let listener: NotificationListener | undefined;

beforeAll(async () => {
  const db = `${PG_URL}?schema=${schema}`;
  a = await startTestServer({ db });
  b = await startTestServer({ db });
});
afterAll(async () => {
  await listener?.close();
  await b.close();
  await a.close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('Package 0 with two server processes on PostgreSQL', () => {
  it('notified through one process, answered through the other: session.started carries notifiedAt and latencyMs', async () => {
    const seenByB: ServerEvent[] = [];
    b.server.events.subscribe((event) => seenByB.push(event));
    const deviceId = 'IMEI:357100000000001';
    const account = {
      serverId: 'omadm',
      serverUrl: b.dm, // the device talks to B only
      auth: 'md5' as const,
      username: 'cluster-device',
      password: 'cluster-client-secret',
      serverPassword: 'cluster-server-secret',
    };
    const runtime = await DeviceRuntime.open({ deviceId, account, requireServerAuth: true });
    const sessions: SessionSummary[] = [];
    listener = await listenForNotifications({
      listen: 'udp://127.0.0.1:0',
      credentials: (serverId) => runtime.serverCredentials(serverId),
      runSession: async (n) => {
        sessions.push(await runtime.runSession({ initiator: 'server', sessionId: n.sessionIdText }));
      },
    });
    const created = await a.api.call('POST', '/devices', {
      deviceId,
      username: account.username,
      password: account.password,
      authType: 'md5',
      serverPassword: account.serverPassword,
      notifyAddress: listener.address,
    });
    expect(created.status).toBe(201);
    const id = await a.api.enqueue(deviceId, { command: 'Get', target: './DevInfo/Mod' });

    const sent = await a.api.call<{ sessionId: string; notifiedAt: string }>(
      'POST',
      `/devices/${encodeURIComponent(deviceId)}/notify`,
      { uiMode: 'background' },
    );
    expect(sent.status).toBe(202);
    expect(await waitFor(() => sessions[0], 'the session')).toMatchObject({
      ok: true,
      sessionId: sent.body.sessionId,
    });
    expect(await b.api.command(deviceId, id)).toMatchObject({ state: 'done', status: 200 });

    // B published session.started (it answered Package 1); A's notification.sent reaches B over LISTEN/NOTIFY.
    const started = await waitFor(
      () => seenByB.find((e) => e.type === 'session.started' && e.deviceId === deviceId),
      'session.started',
    );
    expect(started).toMatchObject({
      sessionId: sent.body.sessionId,
      initiator: 'server',
      notifiedAt: Date.parse(sent.body.notifiedAt),
    });
    expect(started.type === 'session.started' && started.latencyMs! >= 0).toBe(true);
    await waitFor(
      () => seenByB.find((e) => e.type === 'notification.sent' && e.deviceId === deviceId),
      'notification.sent from the other process',
    );
    expect(await a.server.store.listPendingNotifications(deviceId)).toEqual([]);
  });
});
