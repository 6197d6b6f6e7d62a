/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- responses are untyped JSON */
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/server/api/openapi.js';
import { TOKEN, startHarness } from './http-harness.js';
import type { Harness } from './http-harness.js';

const IMEI = 'IMEI:359000000000001';
const IMEI_PATH = `/api/v1/devices/${encodeURIComponent(IMEI)}`;
const NEW_DEVICE = {
  deviceId: IMEI,
  username: 'phone',
  password: 'client-secret',
  authType: 'md5',
  serverPassword: 'server-secret',
  notifyAddress: 'http://127.0.0.1:9/push',
};

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ maxBodyBytes: 4096, sseHeartbeatMs: 50 });
});
afterEach(async () => {
  await h.stop();
});

async function addDevice(id = IMEI): Promise<void> {
  const res = await h.call('POST', '/api/v1/devices', { body: { ...NEW_DEVICE, deviceId: id } });
  expect(res.status).toBe(201);
}

describe('REST API: authentication', () => {
  it('refuses a request without a token with 401 and a Bearer challenge', async () => {
    const res = await h.call('GET', '/api/v1/devices', { token: null });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ code: 'unauthorized' });
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="omadm"');
  });

  it('refuses a wrong token, a token prefix and a token with extra characters', async () => {
    for (const token of ['wrong', TOKEN.slice(0, -1), `${TOKEN}x`]) {
      expect((await h.call('GET', '/api/v1/devices', { token })).status).toBe(401);
    }
    const basic = await h.call('GET', '/api/v1/devices', {
      token: null,
      headers: { authorization: `Basic ${TOKEN}` },
    });
    expect(basic.status).toBe(401);
  });

  it('serves the OpenAPI document without a token', async () => {
    const res = await h.call('GET', '/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ openapi: '3.1.0' });
  });
});

describe('REST API: devices', () => {
  it('POST /devices creates a device (201, Location) and never returns secrets', async () => {
    const res = await h.call('POST', '/api/v1/devices', { body: NEW_DEVICE });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(IMEI_PATH);
    expect(res.json).toEqual({
      deviceId: IMEI,
      username: 'phone',
      authType: 'md5',
      serverAuthType: 'md5',
      notifyAddress: 'http://127.0.0.1:9/push',
      notifyOnQueue: false,
      lastSeen: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      failedAuthCount: 0,
      lockedUntil: null,
    });
    expect(res.text).not.toMatch(/secret|password|digest/i);
    const got = await h.call('GET', IMEI_PATH);
    expect(got.status).toBe(200);
    expect(got.text).not.toMatch(/secret|password|digest/i);
    expect(got.json).toEqual(res.json);
  });

  it('POST /devices twice answers 409 device-exists', async () => {
    await addDevice();
    const res = await h.call('POST', '/api/v1/devices', { body: NEW_DEVICE });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ code: 'device-exists' });
  });

  it('bad JSON is 400 invalid-json; a bad field is 400 invalid-body naming it', async () => {
    const bad = await h.call('POST', '/api/v1/devices', {
      raw: '{"deviceId":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'invalid-json' });
    const empty = await h.call('POST', '/api/v1/devices', {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(empty.json).toMatchObject({ code: 'invalid-json' });
    const cases: [Record<string, unknown>, string][] = [
      [{ ...NEW_DEVICE, authType: 'digest' }, 'authType'],
      [{ ...NEW_DEVICE, deviceId: '' }, 'deviceId'],
      [{ ...NEW_DEVICE, password: 7 }, 'password'],
      [{ ...NEW_DEVICE, serverPassword: undefined }, 'serverPassword'],
      [{ ...NEW_DEVICE, colour: 'red' }, 'colour'],
      [{ ...NEW_DEVICE, username: 'a\nb' }, 'username'],
    ];
    for (const [body, field] of cases) {
      const res = await h.call('POST', '/api/v1/devices', { body });
      expect(res.status, field).toBe(400);
      expect(res.json, field).toMatchObject({ code: 'invalid-body', field });
      expect(res.json.message).toContain(field);
    }
    const notObject = await h.call('POST', '/api/v1/devices', { body: [1, 2] });
    expect(notObject.json).toMatchObject({ code: 'invalid-body', field: 'body' });
  });

  it('a non-JSON body is 415 and a body over the limit is 413', async () => {
    const form = await h.call('POST', '/api/v1/devices', {
      raw: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(form.json).toMatchObject({ code: 'unsupported-media-type' });
    const big = await h.call('POST', '/api/v1/devices', {
      body: { ...NEW_DEVICE, username: 'x'.repeat(5000) },
    });
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ code: 'body-too-large' });
  });

  it('GET /devices pages by cursor and offset and filters by id prefix', async () => {
    for (const id of ['IMEI:3', 'IMEI:1', 'MAC:1', 'IMEI:2']) await addDevice(id);
    const first = await h.call('GET', '/api/v1/devices?limit=2');
    expect(first.json.items.map((d: { deviceId: string }) => d.deviceId)).toEqual(['IMEI:1', 'IMEI:2']);
    const second = await h.call('GET', `/api/v1/devices?limit=2&cursor=${first.json.nextCursor}`);
    expect(second.json.items.map((d: { deviceId: string }) => d.deviceId)).toEqual(['IMEI:3', 'MAC:1']);
    expect(second.json.nextCursor).toBeUndefined();
    const offset = await h.call('GET', '/api/v1/devices?offset=3');
    expect(offset.json.items.map((d: { deviceId: string }) => d.deviceId)).toEqual(['MAC:1']);
    const prefix = await h.call('GET', `/api/v1/devices?prefix=${encodeURIComponent('IMEI:')}&limit=10`);
    expect(prefix.json.items).toHaveLength(3);
    expect(prefix.text).not.toMatch(/secret/);
  });

  it('GET /devices refuses bad paging with 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=5000', 'limit'],
      ['offset=-1', 'offset'],
      ['cursor=zzz', 'cursor'],
      ['cursor=a&offset=1', 'cursor'],
    ] as const) {
      const res = await h.call('GET', `/api/v1/devices?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json, query).toMatchObject({ field });
    }
  });

  it('PATCH changes a device; a new username needs the password; unknown devices are 404', async () => {
    await addDevice();
    const res = await h.call('PATCH', IMEI_PATH, {
      body: { authType: 'hmac', notifyAddress: null, serverPassword: 'new' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ authType: 'hmac', notifyAddress: null });
    expect((await h.store.getDevice(IMEI))!.serverPassword).toBe('new');
    const noPassword = await h.call('PATCH', IMEI_PATH, { body: { username: 'other' } });
    expect(noPassword).toMatchObject({ status: 400, json: { field: 'password' } });
    const renamed = await h.call('PATCH', IMEI_PATH, { body: { username: 'other', password: 'pw2' } });
    expect(renamed.json.username).toBe('other');
    const unknown = await h.call('PATCH', '/api/v1/devices/nope', { body: { authType: 'basic' } });
    expect(unknown).toMatchObject({ status: 404, json: { code: 'device-not-found' } });
    const badField = await h.call('PATCH', IMEI_PATH, { body: { createdAt: 1 } });
    expect(badField).toMatchObject({ status: 400, json: { field: 'createdAt' } });
  });

  it('PATCH {unlock: true} lifts a lockout', async () => {
    await addDevice();
    await h.store.commitExchange({ deviceId: IMEI, authFailure: { maxFailures: 1, lockMs: 60_000 } });
    expect((await h.call('GET', IMEI_PATH)).json).toMatchObject({
      failedAuthCount: 1,
      lockedUntil: '2026-01-01T00:01:00.000Z',
    });
    const res = await h.call('PATCH', IMEI_PATH, { body: { unlock: true } });
    expect(res.json).toMatchObject({ failedAuthCount: 0, lockedUntil: null });
    expect(await h.call('PATCH', IMEI_PATH, { body: { unlock: 'yes' } })).toMatchObject({
      status: 400,
      json: { field: 'unlock' },
    });
  });

  it('DELETE removes the device (204), then it is 404', async () => {
    await addDevice();
    expect((await h.call('DELETE', IMEI_PATH)).status).toBe(204);
    expect(await h.call('GET', IMEI_PATH)).toMatchObject({ status: 404, json: { code: 'device-not-found' } });
    expect((await h.call('DELETE', IMEI_PATH)).status).toBe(404);
  });

  it('unknown routes are 404 and wrong methods 405 with Allow', async () => {
    expect(await h.call('GET', '/api/v1/nothing')).toMatchObject({
      status: 404,
      json: { code: 'not-found' },
    });
    const put = await h.call('PUT', '/api/v1/devices', { body: {} });
    expect(put).toMatchObject({ status: 405, json: { code: 'method-not-allowed' } });
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect((await h.call('GET', '/api/v1/devices/%E0%A4%A')).status).toBe(400);
  });
});

describe('REST API: commands', () => {
  it('queues a command (201 {id, state}) and shows it with results once the device answered', async () => {
    await addDevice();
    const res = await h.call('POST', `${IMEI_PATH}/commands`, {
      body: { command: 'Get', target: './DevInfo/Mod' },
    });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ id: expect.any(Number), state: 'queued' });
    expect(res.headers.get('location')).toBe(`${IMEI_PATH}/commands/${res.json.id}`);
    const id = res.json.id as number;
    h.clock.advance(1000);
    await h.store.commitExchange({
      deviceId: IMEI,
      session: { sessionId: '1', expectedVersion: 0, snapshot: {} },
      markSent: [id],
    });
    h.clock.advance(1000);
    await h.store.commitExchange({
      deviceId: IMEI,
      session: { sessionId: '1', expectedVersion: 1, snapshot: {} },
      outcomes: [
        {
          id,
          state: 'done',
          status: 200,
          results: [{ target: './DevInfo/Mod', data: 'X1', format: 'chr', type: 'text/plain' }],
        },
      ],
    });
    const got = await h.call('GET', `${IMEI_PATH}/commands/${id}`);
    expect(got.json).toEqual({
      id,
      deviceId: IMEI,
      command: { command: 'Get', target: './DevInfo/Mod' },
      state: 'done',
      status: 200,
      childStatuses: null,
      results: [{ target: './DevInfo/Mod', data: 'X1', format: 'chr', type: 'text/plain' }],
      sessionId: '1',
      createdAt: '2026-01-01T00:00:00.000Z',
      sentAt: '2026-01-01T00:00:01.000Z',
      doneAt: '2026-01-01T00:00:02.000Z',
      expiresAt: null,
      deliveries: 1,
      reason: null,
    });
  });

  it('validates commands, naming the field, containers included', async () => {
    await addDevice();
    const cases: [unknown, string][] = [
      [{ command: 'Put', target: './A' }, 'command'],
      [{ command: 'Get' }, 'target'],
      [{ command: 'Get', target: '/abs' }, 'target'],
      [{ command: 'Get', target: './A', data: 'x' }, 'data'],
      [{ command: 'Copy', target: './A' }, 'source'],
      [{ command: 'Replace', target: './A', data: '1', format: 'integer' }, 'format'],
      [{ command: 'Alert', code: 'x' }, 'code'],
      [{ command: 'Atomic', commands: [] }, 'commands'],
      [{ command: 'Atomic', commands: [{ command: 'Get', target: './A' }] }, 'commands[0].command'],
      [
        {
          command: 'Sequence',
          commands: [
            { command: 'Get', target: './A' },
            { command: 'Sequence', commands: [] },
          ],
        },
        'commands[1].command',
      ],
      [{ command: 'Sequence', commands: [{ command: 'Replace', target: 7 }] }, 'commands[0].target'],
      [{ command: 'Get', target: './A', ttlSeconds: 0 }, 'ttlSeconds'],
    ];
    for (const [body, field] of cases) {
      const res = await h.call('POST', `${IMEI_PATH}/commands`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json, JSON.stringify(body)).toMatchObject({ field });
    }
    const ok = await h.call('POST', `${IMEI_PATH}/commands`, {
      body: {
        command: 'Sequence',
        commands: [
          { command: 'Alert', code: 1101, items: ['MINDT=30', 'Update now?'] },
          { command: 'Atomic', commands: [{ command: 'Replace', target: './A', data: '1', format: 'int' }] },
          { command: 'Exec', target: './FUMO/Update', data: 'go' },
          { command: 'Copy', target: './B', source: './A' },
        ],
      },
    });
    expect(ok.status).toBe(400);
    expect(ok.json.field).toBe('commands[1].command');
    const seq = await h.call('POST', `${IMEI_PATH}/commands`, {
      body: {
        command: 'Sequence',
        commands: [
          { command: 'Alert', code: 1101, items: ['MINDT=30', 'Update now?'] },
          { command: 'Exec', target: './FUMO/Update', data: 'go' },
          { command: 'Copy', target: './B', source: './A' },
          { command: 'Get', target: './B' },
        ],
      },
    });
    expect(seq.status).toBe(201);
    const atomic = await h.call('POST', `${IMEI_PATH}/commands`, {
      body: {
        command: 'Atomic',
        commands: [
          { command: 'Replace', target: './A', data: '1', format: 'int' },
          { command: 'Delete', target: './C' },
        ],
      },
    });
    expect(atomic.status).toBe(201);
    expect((await h.store.getCommand(IMEI, atomic.json.id))!.spec).toEqual({
      command: 'Atomic',
      commands: [
        { command: 'Replace', target: './A', data: '1', format: 'int' },
        { command: 'Delete', target: './C' },
      ],
    });
  });

  it('a command for an unknown device is 404; ttlSeconds sets the expiry', async () => {
    const res = await h.call('POST', '/api/v1/devices/nope/commands', {
      body: { command: 'Get', target: './A' },
    });
    expect(res).toMatchObject({ status: 404, json: { code: 'device-not-found' } });
    await addDevice();
    const ttl = await h.call('POST', `${IMEI_PATH}/commands`, {
      body: { command: 'Get', target: './A', ttlSeconds: 60 },
    });
    expect((await h.call('GET', `${IMEI_PATH}/commands/${ttl.json.id}`)).json.expiresAt).toBe(
      '2026-01-01T00:01:00.000Z',
    );
  });

  it('lists history newest first, paged; unknown device is 404', async () => {
    await addDevice();
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await h.call('POST', `${IMEI_PATH}/commands`, { body: { command: 'Get', target: `./N${i}` } })).json
          .id,
      );
    }
    const first = await h.call('GET', `${IMEI_PATH}/commands?limit=2`);
    expect(first.json.items.map((c: { id: number }) => c.id)).toEqual([ids[2], ids[1]]);
    const next = await h.call('GET', `${IMEI_PATH}/commands?limit=2&cursor=${first.json.nextCursor}`);
    expect(next.json.items.map((c: { id: number }) => c.id)).toEqual([ids[0]]);
    expect(await h.call('GET', '/api/v1/devices/nope/commands')).toMatchObject({
      status: 404,
      json: { code: 'device-not-found' },
    });
  });

  it('GET of an unknown command is 404 command-not-found', async () => {
    await addDevice();
    expect(await h.call('GET', `${IMEI_PATH}/commands/999`)).toMatchObject({
      status: 404,
      json: { code: 'command-not-found' },
    });
    expect(await h.call('GET', `${IMEI_PATH}/commands/abc`)).toMatchObject({
      status: 404,
      json: { code: 'command-not-found' },
    });
    expect(await h.call('GET', '/api/v1/devices/nope/commands/1')).toMatchObject({
      status: 404,
      json: { code: 'device-not-found' },
    });
  });

  it('DELETE cancels a queued command (state cancelled, command.done event); not queued is 409', async () => {
    await addDevice();
    const a = (await h.call('POST', `${IMEI_PATH}/commands`, { body: { command: 'Get', target: './A' } }))
      .json.id as number;
    const seen = new Promise((resolve) => h.events.subscribe(resolve, { types: ['command.done'] }));
    const res = await h.call('DELETE', `${IMEI_PATH}/commands/${a}`);
    expect(res).toMatchObject({ status: 200, json: { id: a, state: 'cancelled' } });
    expect(await seen).toMatchObject({
      type: 'command.done',
      deviceId: IMEI,
      commandId: a,
      state: 'cancelled',
    });
    expect((await h.call('GET', `${IMEI_PATH}/commands/${a}`)).json.state).toBe('cancelled');
    expect(await h.call('DELETE', `${IMEI_PATH}/commands/${a}`)).toMatchObject({
      status: 409,
      json: { code: 'command-not-queued' },
    });
    expect(await h.call('DELETE', `${IMEI_PATH}/commands/4242`)).toMatchObject({
      status: 404,
      json: { code: 'command-not-found' },
    });
    expect(await h.call('DELETE', '/api/v1/devices/nope/commands/1')).toMatchObject({
      status: 404,
      json: { code: 'device-not-found' },
    });
  });
});

describe('REST API: what the server learned', () => {
  it('GET tree returns last known values under a path', async () => {
    await addDevice();
    await h.store.commitExchange({
      deviceId: IMEI,
      treeValues: [
        { uri: './DevInfo/Mod', data: 'X1', format: 'chr', type: null },
        { uri: './DevInfo/Man', data: 'Acme', format: 'chr', type: null },
        { uri: './DevDetail/SwV', data: '2', format: 'chr', type: null },
      ],
    });
    const res = await h.call('GET', `${IMEI_PATH}/tree?path=./DevInfo`);
    expect(res.json).toEqual({
      path: './DevInfo',
      items: [
        {
          uri: './DevInfo/Man',
          data: 'Acme',
          format: 'chr',
          type: null,
          updatedAt: '2026-01-01T00:00:00.000Z',
        },
        {
          uri: './DevInfo/Mod',
          data: 'X1',
          format: 'chr',
          type: null,
          updatedAt: '2026-01-01T00:00:00.000Z',
        },
      ],
    });
    expect((await h.call('GET', `${IMEI_PATH}/tree`)).json.items).toHaveLength(3);
    expect((await h.call('GET', '/api/v1/devices/nope/tree')).status).toBe(404);
  });

  it('GET alerts lists generic alerts newest first', async () => {
    await addDevice();
    const item = {
      source: './FUMO',
      type: 'org.openmobilealliance.dm.firmwareupdate.download',
      format: 'int',
      mark: null,
      data: '200',
    };
    await h.store.commitExchange({
      deviceId: IMEI,
      alerts: [{ sessionId: '5', code: 1226, correlator: 'c1', items: [item] }],
    });
    const res = await h.call('GET', `${IMEI_PATH}/alerts`);
    expect(res.json.items).toEqual([
      {
        id: expect.any(Number),
        deviceId: IMEI,
        sessionId: '5',
        code: 1226,
        correlator: 'c1',
        items: [item],
        receivedAt: '2026-01-01T00:00:00.000Z',
      },
    ]);
    expect((await h.call('GET', '/api/v1/devices/nope/alerts')).status).toBe(404);
  });

  it('GET messages shows XML as text and WBXML as Base64 when no decoder is installed', async () => {
    await addDevice();
    const xml = '<SyncML><SyncHdr/></SyncML>';
    await h.store.commitExchange({
      deviceId: IMEI,
      messages: [
        {
          sessionId: '1',
          direction: 'in',
          contentType: 'application/vnd.syncml.dm+xml',
          body: Buffer.from(xml),
        },
        {
          sessionId: '1',
          direction: 'out',
          contentType: 'application/vnd.syncml.dm+wbxml',
          body: new Uint8Array([2, 0, 0, 0x6a]),
        },
      ],
    });
    const res = await h.call('GET', `${IMEI_PATH}/messages`);
    expect(
      res.json.items.map((m: Record<string, unknown>) => [
        m['direction'],
        m['bodyEncoding'],
        m['body'],
        m['size'],
      ]),
    ).toEqual([
      ['out', 'base64', 'AgAAag==', 4],
      ['in', 'utf8', xml, xml.length],
    ]);
    expect(res.json.items[0].decoded).toBeUndefined();
    expect((await h.call('GET', '/api/v1/devices/nope/messages')).status).toBe(404);
  });
});

describe('REST API: message decoding injected by the app', () => {
  it('uses the injected decoder, reporting its failures per message', async () => {
    await h.stop();
    h = await startHarness({
      decodeMessage: (bytes, contentType) => {
        if (contentType.endsWith('wbxml')) throw new Error('cannot decode this');
        return { length: bytes.length, bytes: new Uint8Array([1, 2]) };
      },
    });
    await addDevice();
    await h.store.commitExchange({
      deviceId: IMEI,
      messages: [
        {
          sessionId: '1',
          direction: 'in',
          contentType: 'application/vnd.syncml.dm+xml',
          body: Buffer.from('<SyncML/>'),
        },
        {
          sessionId: '1',
          direction: 'out',
          contentType: 'application/vnd.syncml.dm+wbxml',
          body: new Uint8Array([2]),
        },
      ],
    });
    const res = await h.call('GET', `${IMEI_PATH}/messages`);
    expect(res.json.items[0]).toMatchObject({ decodeError: 'cannot decode this' });
    expect(res.json.items[1]).toMatchObject({ decoded: { length: 9, bytes: 'AQI=' } });
  });
});

/** Opens an SSE stream; `next()` resolves with the next chunk of text that contains `until`. */
function openStream(base: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ res: IncomingMessage; waitFor(until: string): Promise<string>; text(): string }>(
    (resolve, reject) => {
      const req = request(`${base}${path}`, { headers }, (res) => {
        let buffer = '';
        const waiters: { until: string; resolve: (s: string) => void }[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (const w of [...waiters]) {
            if (buffer.includes(w.until)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(buffer);
            }
          }
        });
        resolve({
          res,
          text: () => buffer,
          waitFor: (until) =>
            new Promise((r, j) => {
              if (buffer.includes(until)) return r(buffer);
              waiters.push({ until, resolve: r });
              setTimeout(() => j(new Error(`timed out waiting for ${until}; got ${buffer}`)), 3000).unref();
            }),
        });
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('REST API: Server-Sent Events', () => {
  it('streams published events for the chosen device, with heartbeats', async () => {
    const stream = await openStream(h.base, `/api/v1/events?deviceId=${encodeURIComponent(IMEI)}`, {
      authorization: `Bearer ${TOKEN}`,
    });
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await stream.waitFor(': connected');
    await h.events.publish({ type: 'session.started', deviceId: 'other', sessionId: '9', at: 1 });
    await h.events.publish({ type: 'session.started', deviceId: IMEI, sessionId: '1', at: 2 });
    const text = await stream.waitFor('"sessionId":"1"');
    expect(text).toContain(
      `id: 1\nevent: session.started\ndata: {"type":"session.started","deviceId":"${IMEI}","sessionId":"1","at":2}\n\n`,
    );
    expect(text).not.toContain('other');
    await stream.waitFor(': heartbeat');
    stream.res.destroy();
  });

  it('accepts ?access_token=, filters by types and refuses bad filters and missing tokens', async () => {
    expect((await h.call('GET', '/api/v1/events', { token: null })).status).toBe(401);
    expect(await h.call('GET', '/api/v1/events?types=nope')).toMatchObject({
      status: 400,
      json: { field: 'types' },
    });
    const stream = await openStream(h.base, `/api/v1/events?types=command.done&access_token=${TOKEN}`);
    await stream.waitFor(': connected');
    await h.events.publish({ type: 'session.started', deviceId: 'd', sessionId: '1', at: 1 });
    await h.events.publish({
      type: 'command.done',
      deviceId: 'd',
      commandId: 3,
      state: 'done',
      status: 200,
      at: 2,
    });
    const text = await stream.waitFor('event: command.done');
    expect(text).not.toContain('session.started');
    stream.res.destroy();
  });

  it('ends open streams cleanly when the app closes, and unsubscribes them', async () => {
    const stream = await openStream(h.base, '/api/v1/events', { authorization: `Bearer ${TOKEN}` });
    await stream.waitFor(': connected');
    expect(h.app.api.openStreams).toBe(1);
    const ended = new Promise<void>((resolve) => stream.res.on('end', resolve));
    expect(await h.app.close({ timeoutMs: 1000 })).toBe(true);
    await ended;
    expect(h.app.api.openStreams).toBe(0);
  });

  it('a client going away unsubscribes its stream', async () => {
    const stream = await openStream(h.base, '/api/v1/events', { authorization: `Bearer ${TOKEN}` });
    await stream.waitFor(': connected');
    stream.res.destroy();
    const deadline = Date.now() + 2000;
    while (h.app.api.openStreams > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(h.app.api.openStreams).toBe(0);
  });
});

describe('REST API: OpenAPI document', () => {
  it('documents exactly the routes the code serves', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((k) => k !== 'parameters')
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    const served = h.app.api.routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(documented).toEqual(served);
  });

  it('marks exactly the unauthenticated routes as security-free', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    for (const route of h.app.api.routes) {
      const op = doc.paths[route.path]![route.method.toLowerCase()]!;
      expect(op.security === undefined, `${route.method} ${route.path}`).toBe(route.auth);
    }
  });

  it('declares every path parameter of every route', () => {
    const doc = openApiDocument() as {
      paths: Record<string, { parameters?: { name: string; in: string }[] }>;
    };
    for (const route of h.app.api.routes) {
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (doc.paths[route.path]!.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => p.name);
      expect(declared, route.path).toEqual(names);
    }
  });

  it('response bodies have exactly the properties the schemas document', async () => {
    const doc = openApiDocument() as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const props = (name: string) => Object.keys(doc.components.schemas[name]!.properties!).sort();
    const device = await h.call('POST', '/api/v1/devices', { body: NEW_DEVICE });
    expect(Object.keys(device.json).sort()).toEqual(props('Device'));
    const id = (await h.call('POST', `${IMEI_PATH}/commands`, { body: { command: 'Get', target: './A' } }))
      .json.id;
    expect(Object.keys((await h.call('GET', `${IMEI_PATH}/commands/${id}`)).json).sort()).toEqual(
      props('Command'),
    );
    await h.store.commitExchange({
      deviceId: IMEI,
      treeValues: [{ uri: './A', data: '1', format: 'int', type: null }],
      alerts: [
        {
          sessionId: null,
          code: 1226,
          correlator: null,
          items: [{ source: null, type: 't', format: 'chr', mark: null, data: 'x' }],
        },
      ],
      messages: [
        {
          sessionId: null,
          direction: 'in',
          contentType: 'application/vnd.syncml.dm+xml',
          body: Buffer.from('<SyncML/>'),
        },
      ],
    });
    expect(Object.keys((await h.call('GET', `${IMEI_PATH}/tree`)).json.items[0]).sort()).toEqual(
      props('TreeValue'),
    );
    const alert = (await h.call('GET', `${IMEI_PATH}/alerts`)).json.items[0];
    expect(Object.keys(alert).sort()).toEqual(props('GenericAlert'));
    const message = (await h.call('GET', `${IMEI_PATH}/messages`)).json.items[0];
    const documented = props('Message').filter((k) => k !== 'decoded' && k !== 'decodeError');
    expect(Object.keys(message).sort()).toEqual(documented);
  });

  it('every $ref points at a defined schema', () => {
    const doc = openApiDocument() as { components: { schemas: Record<string, unknown> } };
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (m) => m[1]!,
    );
    expect(refs.length).toBeGreaterThan(10);
    for (const name of refs) expect(doc.components.schemas, name).toHaveProperty(name);
  });
});
