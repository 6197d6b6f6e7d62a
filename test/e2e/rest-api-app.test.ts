/** The REST API's errors as an operator sees them through the real server (port 0, SQLite). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await t.api.call('POST', '/devices', {
    deviceId: 'dev/with slash',
    username: 'u',
    password: 'p',
    authType: 'md5',
    serverPassword: 's',
  });
});
afterAll(async () => {
  await t.close();
});

describe('REST API errors through the real app', () => {
  it('no token → 401, wrong token → 401, both with {code, message}; the OpenAPI document needs none', async () => {
    for (const token of [null, 'wrong-token']) {
      const r = await t.api.call<{ code: string; message: string }>('GET', '/devices', undefined, token);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    const openapi = await t.api.call<{ openapi: string }>('GET', '/openapi.json', undefined, null);
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toMatch(/^3\./);
  });

  it('unknown device → 404 on every device route; a URL-encoded device id is found', async () => {
    for (const [method, path, body] of [
      ['GET', '/devices/nope'],
      ['PATCH', '/devices/nope', { serverPassword: 'x' }],
      ['DELETE', '/devices/nope'],
      ['POST', '/devices/nope/commands', { command: 'Get', target: './DevInfo/Mod' }],
      ['GET', '/devices/nope/commands'],
      ['GET', '/devices/nope/tree?path=./DevInfo'],
      ['GET', '/devices/nope/alerts'],
      ['GET', '/devices/nope/messages'],
    ] as const) {
      const r = await t.api.call<{ code: string }>(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.code).toMatch(/not-found/);
    }
    expect((await t.api.call('GET', `/devices/${encodeURIComponent('dev/with slash')}`)).status).toBe(200);
  });

  it('bad requests → 400 naming the field at fault', async () => {
    const bad = await t.api.call<{ code: string; field?: string }>(
      'POST',
      `/devices/${encodeURIComponent('dev/with slash')}/commands`,
      {
        command: 'Atomic',
        commands: [{ command: 'Get', target: './DevInfo/Mod' }],
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('commands[0].command');
    const json = await t.api.call('POST', '/devices', '{not json');
    expect(json.status).toBe(400);
    const missing = await t.api.call<{ field?: string }>('POST', '/devices', { deviceId: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toEqual(expect.any(String));
  });

  it('a duplicate device → 409; an unknown route → 404; an oversize body → 413', async () => {
    const dup = await t.api.call('POST', '/devices', {
      deviceId: 'dev/with slash',
      username: 'u',
      password: 'p',
      authType: 'md5',
      serverPassword: 's',
    });
    expect(dup.status).toBe(409);
    expect((await t.api.call('GET', '/nothing-here')).status).toBe(404);
    expect((await fetch(`${t.url}/nothing-here`)).status).toBe(404);
    const big = await t.api.call(
      'POST',
      '/devices',
      JSON.stringify({ deviceId: 'x'.repeat(1024 * 1024 + 1) }),
    );
    expect(big.status).toBe(413);
  });

  it('GET /healthz → 200 {status: ok}', async () => {
    const r = await fetch(`${t.url}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });
});
