/**
 * security.md §2/§9: the DMAcc has one AAuthType per direction (CLCRED: the device to us; SRVCRED: us to the
 * device), so a device record has `serverAuthType` next to `authType`. security.md §6: a 401/407 + Chal from the
 * device means "resend with the requested scheme": the server answers with credentials of that scheme on the
 * device's NextNonce and delivers the refused command again, once per session, and never down to basic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDevice, runSession, type TestDevice } from './support/device.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

async function register(device: TestDevice, serverAuthType?: string): Promise<Record<string, unknown>> {
  const r = await t.api.call('POST', '/devices', {
    deviceId: device.deviceId,
    username: device.username,
    password: device.password,
    authType: device.auth,
    serverPassword: device.serverPassword,
    ...(serverAuthType === undefined ? {} : { serverAuthType }),
  });
  expect(r.status).toBe(201);
  return r.body;
}

describe('serverAuthType over the REST API', () => {
  it('POST sets it (default: authType), PATCH changes it, null follows authType again, a bad value is 400', async () => {
    const same = await createTestDevice({ auth: 'md5' });
    expect(await register(same)).toMatchObject({ authType: 'md5', serverAuthType: 'md5' });
    const split = await createTestDevice({ auth: 'basic' });
    expect(await register(split, 'md5')).toMatchObject({ authType: 'basic', serverAuthType: 'md5' });
    const path = `/devices/${encodeURIComponent(split.deviceId)}`;
    expect((await t.api.call('PATCH', path, { serverAuthType: 'hmac' })).body).toMatchObject({
      serverAuthType: 'hmac',
    });
    expect((await t.api.call('PATCH', path, { serverAuthType: null })).body).toMatchObject({
      authType: 'basic',
      serverAuthType: 'basic',
    });
    const bad = await t.api.call('PATCH', path, { serverAuthType: 'digest' });
    expect(bad).toMatchObject({ status: 400, body: { field: 'serverAuthType' } });
    const spec = await t.api.call<{ components: { schemas: Record<string, { properties: object }> } }>(
      'GET',
      '/openapi.json',
    );
    for (const schema of ['NewDevice', 'DevicePatch', 'Device'])
      expect(spec.body.components.schemas[schema]?.properties).toHaveProperty('serverAuthType');
  });
});

describe('security.md §2/§9, §6: the server authenticates to the device with the device SRVCRED scheme', () => {
  it('registered client basic / server md5 (libdmclient as shipped): md5 credentials toward the device, a Get completes', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await register(device, 'md5');
    const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Mod' });
    const run = await runSession(device, { url: t.dm, serverAuth: 'md5' });
    expect(run.ended?.reason, JSON.stringify(run.events)).toBe('completed');
    expect(run.events.some((e) => e.type === 'server-authenticated')).toBe(true);
    const creds = run.responses.map((r) => r.message?.header.cred?.meta?.type).filter((x) => x !== undefined);
    expect(new Set(creds)).toEqual(new Set(['syncml:auth-md5']));
    expect(await t.api.command(device.deviceId, id)).toMatchObject({ state: 'done', status: 200 });
  });

  it('registered basic both ways, the device challenges for md5: md5 on its NextNonce, the refused Get delivered again', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await register(device);
    const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Mod' });
    const run = await runSession(device, { url: t.dm, serverAuth: 'md5' });
    expect(run.ended?.reason, JSON.stringify(run.events)).toBe('completed');
    const creds = run.responses.map((r) => r.message?.header.cred?.meta?.type);
    expect(creds[0]).toBe('syncml:auth-basic');
    expect(creds[1]).toBe('syncml:auth-md5');
    const gets = run.responses.map((r) => r.message?.body.filter((c) => c.kind === 'Get').length ?? 0);
    expect(gets.slice(0, 2)).toEqual([1, 1]);
    expect(await t.api.command(device.deviceId, id)).toMatchObject({
      state: 'done',
      status: 200,
      results: [{ data: 'R100' }],
    });
  });

  it('never down to basic: a device asking basic of an md5 server ends the session; the Get goes back to the queue', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await register(device);
    const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Mod' });
    const run = await runSession(device, { url: t.dm, serverAuth: 'basic' });
    expect(run.responses.every((r) => r.message?.header.cred?.meta?.type !== 'syncml:auth-basic')).toBe(true);
    expect(run.sent).toBeLessThanOrEqual(4);
    expect((await t.api.command(device.deviceId, id)).state).toBe('queued');
  });
});
