import { afterEach, describe, expect, it } from 'vitest';
import { readBody } from '../../src/server/api/http-util.js';
import type { CommandRecord } from '../../src/server/store/index.js';
import { startHarness } from './http-harness.js';
import type { Harness } from './http-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('HTTP app composition', () => {
  it('/healthz answers 200 when ready, 503 while starting', async () => {
    let ready = false;
    h = await startHarness({ isReady: () => ready });
    expect(await h.call('GET', '/healthz', { token: null })).toMatchObject({
      status: 503,
      json: { status: 'starting' },
    });
    ready = true;
    expect(await h.call('GET', '/healthz', { token: null })).toMatchObject({
      status: 200,
      json: { status: 'ok' },
    });
  });

  it('/dm is 404 until a DM handler is supplied; other paths are 404', async () => {
    h = await startHarness();
    expect(await h.call('POST', '/dm', { raw: '<SyncML/>', token: null })).toMatchObject({
      status: 404,
      json: { code: 'not-found' },
    });
    expect((await h.call('GET', '/', { token: null })).status).toBe(404);
    expect((await h.call('GET', '/api/v10/devices')).status).toBe(404);
  });

  it('hands /dm and /dm/… requests to the DM handler, body unread', async () => {
    const seen: { method: string | undefined; url: string | undefined; body: string }[] = [];
    h = await startHarness({
      dmHandler: async (req, res) => {
        const body = await readBody(req, 1024);
        seen.push({ method: req.method, url: req.url, body: body.toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/vnd.syncml.dm+xml' }).end('<SyncML>reply</SyncML>');
      },
    });
    const res = await h.call('POST', '/dm?sid=1', {
      raw: '<SyncML>hello</SyncML>',
      token: null,
      headers: { 'content-type': 'application/vnd.syncml.dm+xml' },
    });
    expect(res).toMatchObject({ status: 200, text: '<SyncML>reply</SyncML>' });
    expect((await h.call('POST', '/dm/x', { raw: 'second', token: null })).status).toBe(200);
    expect(seen).toEqual([
      { method: 'POST', url: '/dm?sid=1', body: '<SyncML>hello</SyncML>' },
      { method: 'POST', url: '/dm/x', body: 'second' },
    ]);
  });

  it('refuses a DM body declared over the limit with 413 without calling the handler', async () => {
    let calls = 0;
    h = await startHarness({
      maxBodyBytes: 1000,
      dmHandler: (_req, res) => {
        calls++;
        res.end();
      },
    });
    const res = await h.call('POST', '/dm', { raw: Buffer.alloc(5000, 0x41), token: null });
    expect(res).toMatchObject({ status: 413, json: { code: 'body-too-large' } });
    expect(calls).toBe(0);
  });

  it('a DM handler that throws gives 500 without details, and the app is told', async () => {
    const reported: unknown[] = [];
    h = await startHarness({
      dmHandler: () => {
        throw new Error('database password is hunter2');
      },
      onError: (error) => reported.push(error),
    });
    const res = await h.call('POST', '/dm', { raw: 'x', token: null });
    expect(res).toMatchObject({ status: 500, json: { code: 'internal', message: 'internal server error' } });
    expect(res.text).not.toContain('hunter2');
    expect(reported).toMatchObject([{ message: 'database password is hunter2' }]);
    // Client errors are the client's business, not the log's.
    await h.call('GET', '/api/v1/devices', { token: null });
    expect(reported).toHaveLength(1);
  });

  it('close() drains: in-flight requests finish, new ones get 503, healthz reports draining', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    h = await startHarness({
      dmHandler: async (_req, res) => {
        entered();
        await gate;
        res.end('finished');
      },
    });
    const slow = h.call('POST', '/dm', { raw: 'x', token: null });
    await inHandler;
    expect(h.app.inFlight).toBe(1);
    let closed = false;
    const closing = h.app.close({ timeoutMs: 5000 }).then((drained) => {
      closed = true;
      return drained;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    const refused = await h.call('GET', '/api/v1/devices');
    expect(refused).toMatchObject({ status: 503, json: { code: 'shutting-down' } });
    expect((await h.call('GET', '/healthz', { token: null })).status).toBe(503);
    release();
    expect(await slow).toMatchObject({ status: 200, text: 'finished' });
    expect(await closing).toBe(true);
    expect(h.app.inFlight).toBe(0);
  });

  it('close() gives up after its timeout, answering false', async () => {
    h = await startHarness({ dmHandler: () => new Promise<void>(() => undefined) });
    const stuck = h.call('POST', '/dm', { raw: 'x', token: null }).catch(() => undefined);
    while (h.app.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await h.app.close({ timeoutMs: 50 })).toBe(false);
    h.server.closeAllConnections();
    await stuck;
  });

  it('tells the app when a command is queued (e.g. to notify the device)', async () => {
    const queued: CommandRecord[] = [];
    h = await startHarness({ onCommandQueued: (c) => void queued.push(c) });
    await h.call('POST', '/api/v1/devices', {
      body: { deviceId: 'd1', username: 'u', password: 'p', authType: 'basic', serverPassword: 's' },
    });
    const res = await h.call('POST', '/api/v1/devices/d1/commands', {
      body: { command: 'Get', target: './DevInfo' },
    });
    while (queued.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(queued).toMatchObject([{ id: res.json.id, deviceId: 'd1', state: 'queued' }]);
  });
});
