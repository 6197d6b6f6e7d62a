/**
 * The device runtime against the real ServerSession engine over real HTTP on 127.0.0.1 (DG-SES-01, DG-SES-05,
 * DG-AUT-01..03, DG-AUT-06, DG-CMD-13, DG-UI-02): sessions, persistence of the tree and nonces, RespURI, HMAC.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceRuntime, type WireMessage } from '../../src/device/device-runtime.js';
import { phoneProfile } from '../../src/device/profiles/profiles.js';
import { JsonFileTreeStore } from '../../src/tree/json-file-store.js';
import type { AuthName } from '../../src/syncml/constants.js';
import { textData } from '../../src/syncml/model.js';
import { SessionServer } from './support/session-server.js';

const DEVICE_ID = 'IMEI:490154203237518';
const SERVER_ID = 'omadm-test';

let server: SessionServer;
let dir: string;

beforeEach(async () => {
  server = await new SessionServer().start();
  dir = await mkdtemp(join(tmpdir(), 'omadm-device-'));
});
afterEach(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function register(auth: AuthName, password = 'device-secret', serverPassword = 'server-secret'): void {
  server.accounts.set(DEVICE_ID, {
    client: { auth, username: 'dev1', password },
    server: { auth, username: SERVER_ID, password: serverPassword },
  });
}

async function device(
  options: {
    auth?: AuthName;
    file?: string;
    password?: string;
    serverPassword?: string;
    requireServerAuth?: boolean;
    encoding?: 'xml' | 'wbxml';
    onMessage?: (m: WireMessage) => void;
  } = {},
) {
  return DeviceRuntime.open({
    deviceId: DEVICE_ID,
    account: {
      serverId: SERVER_ID,
      serverUrl: server.url,
      auth: options.auth ?? 'md5',
      username: 'dev1',
      password: options.password ?? 'device-secret',
      serverPassword: options.serverPassword ?? 'server-secret',
    },
    ...(options.requireServerAuth === undefined ? {} : { requireServerAuth: options.requireServerAuth }),
    ...(options.encoding === undefined ? {} : { encoding: options.encoding }),
    ...(options.file === undefined ? {} : { store: new JsonFileTreeStore(options.file) }),
    ...(options.onMessage === undefined ? {} : { onMessage: options.onMessage }),
    profile: phoneProfile,
  });
}

describe('device runtime over HTTP against the ServerSession engine', () => {
  for (const encoding of ['xml', 'wbxml'] as const) {
    for (const auth of ['basic', 'md5', 'hmac'] as const) {
      it(`DG-SES-05: ${auth} over ${encoding}: Get and Replace are executed on the tree and answered`, async () => {
        register(auth);
        server.enqueue(DEVICE_ID, 'get-fwv', {
          kind: 'Get',
          cmdId: 0,
          items: [{ target: { locUri: './DevDetail/FwV' } }],
        });
        server.enqueue(DEVICE_ID, 'put', {
          kind: 'Add',
          cmdId: 0,
          items: [
            { target: { locUri: './Vendor/Acme/Setting' }, meta: { format: 'chr' }, data: textData('on') },
          ],
        });
        const messages: WireMessage[] = [];
        const runtime = await device({
          auth,
          encoding,
          requireServerAuth: true,
          onMessage: (m) => messages.push(m),
        });
        const summary = await runtime.runSession();
        expect(summary).toMatchObject({
          ok: true,
          outcome: 'completed',
          authenticated: true,
          serverAuthenticated: true,
        });
        expect(summary.commands).toEqual({ Add: { '200': 1 }, Get: { '200': 1 } });
        expect(await runtime.tree.readText('./Vendor/Acme/Setting')).toBe('on');
        const outcomes = server.events(DEVICE_ID).filter((e) => e.type === 'outcome');
        expect(outcomes.map((o) => o.type === 'outcome' && [o.id, o.code])).toEqual([
          ['get-fwv', 200],
          ['put', 200],
        ]);
        const get = outcomes[0]!;
        expect(get.type === 'outcome' && get.results[0]?.data).toEqual(textData('AM5G-1.4.2'));
        // protocol.md §9: after the first answer every request goes to the RespURI.
        expect(
          messages
            .filter((m) => m.direction === 'out')
            .slice(1)
            .every((m) => m.url.includes('?session=')),
        ).toBe(true);
        expect(summary.messages.sent).toBe(messages.filter((m) => m.direction === 'out').length);
      });
    }
  }

  for (const auth of ['md5', 'hmac'] as const) {
    it(`DG-AUT-03 (${auth}): the state file keeps tree, account and nonces: the second run needs no challenge`, async () => {
      register(auth);
      const file = join(dir, 'device.json');
      const first = await (await device({ file, auth })).runSession();
      expect(first).toMatchObject({ ok: true, challenges: 1 });
      server.enqueue(DEVICE_ID, 'marker', {
        kind: 'Add',
        cmdId: 0,
        items: [{ target: { locUri: './Vendor/Marker' }, data: textData('1') }],
      });
      const second = await (await device({ file, auth })).runSession();
      expect(second).toMatchObject({ ok: true, challenges: 0, authenticated: true });
      // a third process still finds the server's node and needs no challenge either
      const third = await device({ file, auth });
      expect(await third.tree.readText('./Vendor/Marker')).toBe('1');
      expect((await third.runSession()).challenges).toBe(0);
      // security.md §7: the nonce the server issued sits in CLCRED AAuthData, as bytes (Format bin)
      const saved = JSON.parse(await readFile(file, 'utf8')) as {
        nodes: { uri: string; format: string; value?: string }[];
      };
      const nonce = saved.nodes.find((n) => n.uri === `./DMAcc/${SERVER_ID}/AppAuth/CLCRED/AAuthData`);
      expect(nonce?.format).toBe('bin');
      expect(Buffer.from(nonce?.value ?? '', 'base64').length).toBe(16);
    });
  }

  it('DG-AUT-06: a wrong server password is detected when server authentication is required', async () => {
    register('md5', 'device-secret', 'the-real-server-secret');
    server.enqueue(DEVICE_ID, 'get', {
      kind: 'Get',
      cmdId: 0,
      items: [{ target: { locUri: './DevInfo/Man' } }],
    });
    const runtime = await device({ requireServerAuth: true, serverPassword: 'not-what-the-server-uses' });
    const summary = await runtime.runSession();
    expect(summary.ok).toBe(false);
    expect(summary.outcome).toBe('peer-auth-failed');
    expect(summary.serverAuthenticated).toBe(false);
    // nothing was executed: the Get never got a 200
    expect(summary.commands.Get?.['200']).toBeUndefined();
  });

  it('a wrong device password ends the session with auth-failed and a reason', async () => {
    register('md5', 'device-secret');
    const summary = await (await device({ password: 'wrong' })).runSession();
    expect(summary).toMatchObject({ ok: false, outcome: 'auth-failed' });
    expect(summary.reason).toMatch(/credentials|refused/);
  });

  it('an unreachable server is a transport error with a one-line reason', async () => {
    register('md5');
    const runtime = await device();
    await server.stop();
    const summary = await runtime.runSession();
    expect(summary).toMatchObject({ ok: false, outcome: 'transport-error', errorCode: 'http-unreachable' });
    expect(summary.reason).not.toContain('\n');
  });

  for (const encoding of ['xml', 'wbxml'] as const) {
    it(`DG-LO-01 / DG-MSG-01 over ${encoding}: large objects both ways within each side's MaxMsgSize`, async () => {
      await server.stop();
      server = await new SessionServer({ maxMsgSize: 3000 }).start();
      register('md5');
      const big = 'x'.repeat(9000);
      server.enqueue(DEVICE_ID, 'put', {
        kind: 'Add',
        cmdId: 0,
        items: [{ target: { locUri: './Vendor/Big' }, meta: { format: 'chr' }, data: textData(big) }],
      });
      server.enqueue(DEVICE_ID, 'get', {
        kind: 'Get',
        cmdId: 0,
        items: [{ target: { locUri: './Vendor/Big' } }],
      });
      const messages: WireMessage[] = [];
      const runtime = await DeviceRuntime.open({
        deviceId: DEVICE_ID,
        account: {
          serverId: SERVER_ID,
          serverUrl: server.url,
          auth: 'md5',
          username: 'dev1',
          password: 'device-secret',
        },
        encoding,
        maxMsgSize: 2500,
        onMessage: (m) => messages.push(m),
      });
      const summary = await runtime.runSession();
      expect(summary.ok, summary.reason).toBe(true);
      expect(await runtime.tree.readText('./Vendor/Big')).toBe(big);
      // the device got the object in chunks (213 each) and sent its Results in chunks
      expect(summary.commands.Add?.['213']).toBeGreaterThan(1);
      expect(messages.filter((m) => m.direction === 'in').every((m) => m.bytes.length <= 2500)).toBe(true);
      expect(messages.filter((m) => m.direction === 'out').every((m) => m.bytes.length <= 3000)).toBe(true);
      const get = server.events(DEVICE_ID).find((e) => e.type === 'outcome' && e.id === 'get');
      expect(get?.type === 'outcome' && get.results[0]?.data).toEqual(textData(big));
    });
  }
});
