/**
 * The DM endpoint's edges, against the real server over HTTP: libdmclient's captured messages, challenges that
 * never reveal whether a device exists, lockout, MaxMsgSize and large objects, the idle fast path's store cost,
 * SessionID reuse after an interrupted session, and HTTP-level refusals (400/405/413/415).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import type { ServerEvent } from '../../src/server/events/event-bus.js';
import { decodeMessage, encodeMessage } from '../../src/syncml/codec.js';
import type { SyncMLMessage } from '../../src/syncml/model.js';
import { ClientSession } from '../../src/session/index.js';
import { MemoryNonceStore } from '../../src/security/nonce.js';
import { cryptoRandom } from '../../src/platform/random.js';
import { devInfoItems } from '../../src/tree/index.js';
import { createTestDevice, runSession, type TestDevice } from './support/device.js';
import { startTestServer, type TestServer } from './support/server.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/libdmclient', import.meta.url));
const fixture = (name: string) => new Uint8Array(readFileSync(`${FIXTURES}/${name}`));

let t: TestServer;
const clock = new ManualClock(Date.now());

const seen: ServerEvent[] = [];
beforeAll(async () => {
  t = await startTestServer({ clock, lockout: { maxFailures: 3, lockMs: 60_000 } });
  t.server.events.subscribe((event) => seen.push(event));
});
afterAll(async () => {
  await t.close();
});

async function post(body: Uint8Array | string, contentType: string, headers: Record<string, string> = {}) {
  const response = await fetch(t.dm, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, bytes };
}

/** Package 1 exactly as a device would send it (real ClientSession), for posting by hand. */
async function package1(device: TestDevice, password: string, nonce?: string): Promise<Uint8Array> {
  const nonces = new MemoryNonceStore();
  if (nonce !== undefined) nonces.set('omadm', 'client-to-server', nonce);
  const client = new ClientSession({
    serverUri: t.dm,
    serverId: 'omadm',
    deviceId: device.deviceId,
    sessionId: '1',
    devInfo: await devInfoItems(device.tree),
    credentials: { auth: device.auth, username: device.username, password },
    executor: device.executor,
    nonces,
    random: cryptoRandom,
    clock,
  });
  const step = await client.start();
  return encodeMessage(step.outgoing!.message, 'application/vnd.syncml.dm+xml');
}

/** A decoded answer with everything random or device-specific masked, to compare shapes. */
function shape(bytes: Uint8Array): unknown {
  const message = decodeMessage(bytes, 'application/vnd.syncml.dm+xml');
  return JSON.parse(
    JSON.stringify(message, (key, value: unknown) => {
      if (key === 'nextNonce' || key === 'data')
        return typeof value === 'string' ? `<${value.length} chars>` : value;
      if (typeof value === 'string' && value.startsWith('IMEI:')) return '<device>';
      return value;
    }),
  );
}

describe('libdmclient captures', () => {
  it('DG-SES-03 with the captured Package 1 (legacy type, basic Cred, reversed DevInfo) and then its Package 3', async () => {
    await t.api.call('POST', '/devices', {
      deviceId: 'DMCtest',
      username: 'alice',
      password: 'alicepw',
      authType: 'basic',
      serverPassword: 'srvpw',
    });
    const id = await t.api.enqueue('DMCtest', { command: 'Get', target: './DevInfo/Mod' });
    const p2 = await post(fixture('PKG1_xml_basic-cred.xml'), 'application/vnd.syncml+xml');
    expect(p2.status).toBe(200);
    expect(p2.headers.get('content-type')).toBe('application/vnd.syncml.dm+xml');
    const reply = decodeMessage(p2.bytes, 'application/vnd.syncml.dm+xml');
    expect(reply.header).toMatchObject({ sessionId: '1', msgId: 1, target: { locUri: 'DMCtest' } });
    expect(
      reply.body.map((c) => (c.kind === 'Status' ? `${c.cmd}:${c.code}` : `${c.kind}#${c.cmdId}`)),
    ).toEqual(['SyncHdr:212', 'Alert:200', 'Replace:200', 'Get#4']);
    // The captured Package 3 answers CmdRef 4 of MsgRef 1: exactly what we sent.
    const p4 = await post(fixture('PKG3_xml.xml'), 'application/vnd.syncml+xml');
    expect(p4.status).toBe(200);
    const end = decodeMessage(p4.bytes, 'application/vnd.syncml.dm+xml');
    expect(end.body).toHaveLength(1);
    expect(end.final).toBe(true);
    expect(await t.api.command('DMCtest', id)).toMatchObject({
      state: 'done',
      status: 200,
      results: [{ target: './DevInfo/Mod', data: 'test model' }],
    });
    // Its DevInfo (items in reverse order, interior nodes with Format node) is the last known tree.
    const tree = await t.api.tree('DMCtest', './DevInfo');
    expect(tree).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ uri: './DevInfo/Ext/Intel/test1', data: 'data of test1' }),
      ]),
    );
  });

  it('the captured WBXML Package 1 is answered in WBXML', async () => {
    const reply = await post(fixture('PKG1_wbxml.wbxml'), 'application/vnd.syncml+wbxml');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/vnd.syncml.dm+wbxml');
    const message = decodeMessage(reply.bytes, 'application/vnd.syncml.dm+wbxml');
    expect(message.body[0]).toMatchObject({ kind: 'Status', cmd: 'SyncHdr' });
  });

  it('libdmclient resends Package 1 only when Alert and Replace got 401/407 too: a challenge answers every command with it', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    const reply = await post(await package1(device, device.password), 'application/vnd.syncml+xml');
    const message = decodeMessage(reply.bytes, 'application/vnd.syncml.dm+xml');
    expect(message.body.map((c) => (c.kind === 'Status' ? `${c.cmd}:${c.code}` : c.kind))).toEqual([
      'SyncHdr:401',
      'Alert:401',
      'Replace:401',
    ]);
    expect(message.body[0]).toMatchObject({
      chal: { meta: { type: 'syncml:auth-md5', format: 'b64', nextNonce: expect.any(String) } },
    });
  });
});

describe('authentication failures', () => {
  it('DG-AUT-07: unknown device, wrong password and no credentials all get the same shape of challenge', async () => {
    const known = await createTestDevice({ auth: 'md5' });
    await t.api.register(known);
    const stranger = await createTestDevice({ auth: 'md5' });
    // Give the known device a nonce first, as after any earlier session.
    await runSession(known, { url: t.dm });
    const nonce = known.nonces.get('omadm', 'client-to-server');
    const wrong = await post(
      await package1(known, 'not-the-password', nonce),
      'application/vnd.syncml.dm+xml',
    );
    const unknown = await post(await package1(stranger, 'whatever', nonce), 'application/vnd.syncml.dm+xml');
    expect(wrong.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect([...wrong.headers.keys()].sort()).toEqual([...unknown.headers.keys()].sort());
    expect(shape(wrong.bytes)).toEqual(shape(unknown.bytes));
    const message = decodeMessage(wrong.bytes, 'application/vnd.syncml.dm+xml');
    expect(message.body.every((c) => c.kind === 'Status' && c.code === 401)).toBe(true);
    expect(message.header.cred).toBeDefined();
  });

  it('DG-AUT-08: a stale md5 nonce gets one more challenge with a fresh nonce, then the session succeeds', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    await runSession(device, { url: t.dm });
    device.nonces.set('omadm', 'client-to-server', Buffer.from('stale-nonce-0000').toString('base64'));
    const run = await runSession(device, { url: t.dm });
    expect(run.ended?.reason).toBe('completed');
    expect(run.events.filter((e) => e.type === 'challenged')).toHaveLength(1);
  });

  it('lockout: repeated wrong passwords lock the device (same challenge, even for the right password) until the delay passes', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    for (let i = 0; i < 3; i++) {
      const run = await runSession(device, { url: t.dm, password: 'wrong' });
      expect(run.ended?.reason).toBe('auth-failed');
    }
    const view = await t.api.call<{ failedAuthCount: number; lockedUntil: string | null }>(
      'GET',
      `/devices/${encodeURIComponent(device.deviceId)}`,
    );
    expect(view.body.failedAuthCount).toBeGreaterThanOrEqual(3);
    expect(view.body.lockedUntil).not.toBeNull();
    const locked = await runSession(device, { url: t.dm });
    expect(locked.ended?.reason).toBe('auth-failed');
    const lockedShape = shape(
      await post(await package1(device, device.password), 'application/vnd.syncml.dm+xml').then(
        (r) => r.bytes,
      ),
    );
    const wrongShape = shape(
      await post(await package1(device, 'wrong'), 'application/vnd.syncml.dm+xml').then((r) => r.bytes),
    );
    expect(lockedShape).toEqual(wrongShape);
    // auth.failure events: one per wrong password (the last one carrying the lock), then the refusals while locked.
    const failures = seen.filter(
      (e): e is Extract<ServerEvent, { type: 'auth.failure' }> =>
        e.type === 'auth.failure' && e.deviceId === device.deviceId,
    );
    expect(failures.slice(0, 3).map((e) => e.reason)).toEqual(['wrong', 'wrong', 'wrong']);
    expect(failures[2]?.lockedUntil).toBeGreaterThan(clock.now());
    expect(failures.slice(3).every((e) => e.reason === 'locked')).toBe(true);
    clock.advance(60_001);
    const after = await runSession(device, { url: t.dm });
    expect(after.ended?.reason).toBe('completed');
    const cleared = await t.api.call<{ failedAuthCount: number; lockedUntil: string | null }>(
      'GET',
      `/devices/${encodeURIComponent(device.deviceId)}`,
    );
    expect(cleared.body).toMatchObject({ failedAuthCount: 0, lockedUntil: null });
  });

  it('DG-AUT-11: answering an md5 challenge with basic credentials is refused (401), never accepted', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    const basic = await createTestDevice({
      auth: 'basic',
      username: device.username,
      password: device.password,
    });
    const reply = await post(
      await package1({ ...basic, deviceId: device.deviceId }, device.password),
      'application/vnd.syncml.dm+xml',
    );
    const message = decodeMessage(reply.bytes, 'application/vnd.syncml.dm+xml');
    expect(message.body[0]).toMatchObject({
      cmd: 'SyncHdr',
      code: 401,
      chal: { meta: { type: 'syncml:auth-md5' } },
    });
  });

  it('DG-AUT-10: an HMAC device whose x-syncml-hmac is missing or wrong is refused', async () => {
    const device = await createTestDevice({ auth: 'hmac' });
    await t.api.register(device);
    await runSession(device, { url: t.dm });
    const body = await package1(device, device.password, device.nonces.get('omadm', 'client-to-server'));
    const missing = decodeMessage(
      (await post(body, 'application/vnd.syncml.dm+xml')).bytes,
      'application/vnd.syncml.dm+xml',
    );
    expect(missing.body[0]).toMatchObject({ code: 407 });
    const forged = decodeMessage(
      (
        await post(body, 'application/vnd.syncml.dm+xml', {
          'x-syncml-hmac': `algorithm=MD5, username="${device.username}", mac=AAAAAAAAAAAAAAAAAAAAAA==`,
        })
      ).bytes,
      'application/vnd.syncml.dm+xml',
    );
    expect(forged.body[0]).toMatchObject({ code: 401, chal: { meta: { type: 'syncml:auth-MAC' } } });
  });
});

describe('packages, sizes and sessions', () => {
  it('DG-LO-04/DG-MSG-01: a small client MaxMsgSize splits our Replace into chunks and the device chunks its Results back', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    const big = 'x'.repeat(5000) + 'END';
    const replace = await t.api.enqueue(device.deviceId, {
      command: 'Replace',
      target: './Vendor/Blob',
      data: big,
      format: 'chr',
    });
    await t.api.enqueue(device.deviceId, {
      command: 'Add',
      target: './Vendor/Blob',
      data: 'init',
      format: 'chr',
    });
    // Add first so the Replace has a node: queue order is id order, so create it in a first session.
    const first = await runSession(device, { url: t.dm, maxMsgSize: 1500 });
    expect(first.ended?.reason).toBe('completed');
    const get = await t.api.enqueue(device.deviceId, { command: 'Get', target: './Vendor/Blob' });
    const again = await t.api.enqueue(device.deviceId, {
      command: 'Replace',
      target: './Vendor/Blob',
      data: big,
      format: 'chr',
    });
    const run = await runSession(device, { url: t.dm, maxMsgSize: 1500 });
    expect(run.ended?.reason).toBe('completed');
    expect(run.sent).toBeGreaterThan(3);
    for (const r of run.responses)
      expect(
        r.message === undefined ? 0 : encodeMessage(r.message, 'application/vnd.syncml.dm+xml').byteLength,
      ).toBeLessThanOrEqual(1500);
    expect((await t.api.command(device.deviceId, replace)).state).toMatch(/done|failed/);
    expect(await t.api.command(device.deviceId, again)).toMatchObject({ state: 'done', status: 200 });
    const result = await t.api.command(device.deviceId, get);
    expect(result.state).toBe('done');
    expect([big, 'init']).toContain(result.results[0]?.data);
  });

  it('the idle fast path: an authenticated check-in with nothing queued costs one store read and one store write', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    await runSession(device, { url: t.dm });
    const store = t.server.store as unknown as Record<string, unknown>;
    const calls: string[] = [];
    const originals = new Map<string, unknown>();
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
      const fn = store[name];
      if (name === 'constructor' || typeof fn !== 'function') continue;
      originals.set(name, fn);
      store[name] = (...args: unknown[]) => {
        calls.push(name);
        return (fn as (...a: unknown[]) => unknown).apply(store, args);
      };
    }
    try {
      const run = await runSession(device, { url: t.dm });
      expect(run.sent).toBe(1);
      expect(run.ended?.reason).toBe('completed');
    } finally {
      for (const name of originals.keys()) delete store[name];
    }
    expect(calls).toEqual(['loadExchange', 'commitExchange']);
  });

  it('a new Package 1 reusing the SessionID of an interrupted session (libdmclient: always 1) gets the undelivered commands again', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Lang' });
    // The device receives the Get and never answers (connection lost after Package 1).
    const cut = await runSession(device, { url: t.dm, sessionId: '1', stopAfter: 1 });
    expect(cut.responses[0]?.message?.body.some((c) => c.kind === 'Get')).toBe(true);
    expect((await t.api.command(device.deviceId, id)).state).toBe('sent');
    const run = await runSession(device, { url: t.dm, sessionId: '1' });
    expect(run.ended?.reason).toBe('completed');
    expect(await t.api.command(device.deviceId, id)).toMatchObject({
      state: 'done',
      status: 200,
      results: [{ data: 'en-US' }],
    });
  });
});

describe('session abort', () => {
  it('DG-SES-08: a device aborting (Alert 1223) gets Status only; the command it never answered is delivered next session', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevDetail/FwV' });
    const type = 'application/vnd.syncml.dm+xml';
    const client = new ClientSession({
      serverUri: t.dm,
      serverId: 'omadm',
      deviceId: device.deviceId,
      sessionId: 'AB',
      devInfo: await devInfoItems(device.tree),
      credentials: { auth: 'basic', username: device.username, password: device.password },
      executor: device.executor,
      nonces: new MemoryNonceStore(),
      random: cryptoRandom,
      clock,
    });
    const p2 = await post(encodeMessage((await client.start()).outgoing!.message, type), type);
    expect(decodeMessage(p2.bytes, type).body.some((c) => c.kind === 'Get')).toBe(true);
    const abort = client.abort();
    const reply = decodeMessage((await post(encodeMessage(abort.outgoing!.message, type), type)).bytes, type);
    expect(reply.body.map((c) => (c.kind === 'Status' ? `${c.cmd}:${c.code}` : c.kind))).toEqual([
      'SyncHdr:200',
      'Alert:200',
    ]);
    expect((await t.api.command(device.deviceId, id)).state).toBe('queued');
    const run = await runSession(device, { url: t.dm });
    expect(run.ended?.reason).toBe('completed');
    expect(await t.api.command(device.deviceId, id)).toMatchObject({
      state: 'done',
      results: [{ data: '1.0.0' }],
    });
  });
});

describe('sessions in flight are not disturbed by others', () => {
  it('a Package 1 with wrong credentials reusing the SessionID of a session in flight neither ends nor restarts it', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Man' });
    const forged = await package1(device, 'not-the-password');
    const run = await runSession(device, {
      url: t.dm,
      sessionId: '1',
      beforeSend: async (i) => {
        if (i !== 1) return;
        const reply = decodeMessage(
          (await post(forged, 'application/vnd.syncml.dm+xml')).bytes,
          'application/vnd.syncml.dm+xml',
        );
        expect(reply.body[0]).toMatchObject({ cmd: 'SyncHdr', code: 401 });
      },
    });
    expect(run.ended?.reason).toBe('completed');
    expect(await t.api.command(device.deviceId, id)).toMatchObject({
      state: 'done',
      results: [{ data: 'Acme' }],
    });
  });
});

describe('HTTP refusals name the fault', () => {
  it('GET /dm → 405 with Allow: POST', async () => {
    const r = await fetch(t.dm);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
  });
  it('an unsupported content type → 415', async () => {
    const r = await post('<SyncML/>', 'text/plain');
    expect(r.status).toBe(415);
    expect(JSON.parse(new TextDecoder().decode(r.bytes))).toMatchObject({ code: 'unsupported-content-type' });
  });
  it('bytes that are not SyncML → 400 with a code and a message, and the server keeps serving', async () => {
    for (const [body, type] of [
      ['<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>', 'application/vnd.syncml.dm+xml'],
      ['\u0000\u0001garbage', 'application/vnd.syncml.dm+wbxml'],
      ['', 'application/vnd.syncml.dm+xml'],
    ] as const) {
      const r = await post(body, type);
      expect(r.status).toBe(400);
      const error = JSON.parse(new TextDecoder().decode(r.bytes)) as { code: string; message: string };
      expect(error.code).toEqual(expect.any(String));
      expect(error.message.length).toBeGreaterThan(5);
    }
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
  it('a body over the limit → 413', async () => {
    const r = await post(new Uint8Array(1024 * 1024 + 10), 'application/vnd.syncml.dm+xml');
    expect(r.status).toBe(413);
  });
  it('the console is served from / with its content types, and nothing else from disk', async () => {
    const index = await fetch(`${t.url}/`);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await fetch(`${t.url}/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${t.url}/style.css`)).headers.get('content-type')).toMatch(/^text\/css/);
    expect((await fetch(`${t.url}/package.json`)).status).toBe(404);
    expect((await fetch(`${t.url}/../package.json`)).status).toBe(404);
  });
});

export type { SyncMLMessage };
