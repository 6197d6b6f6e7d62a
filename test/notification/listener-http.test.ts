/** The HTTP face of the device listener answers protocol mistakes with precise statuses; bad config fails fast. */
import { afterEach, describe, expect, it } from 'vitest';
import { listenForNotifications } from '../../src/device/notification-listener.js';
import { LocalProtocolError } from '../../src/errors.js';
import { buildNotification, makeTrigger } from '../../src/notification/index.js';
import { ContentType } from '../../src/syncml/content-type.js';
import { CREDENTIALS, ListenerHarness, SERVER_ID } from './support/listener-harness.js';

const valid = (sessionId: number): Uint8Array =>
  buildNotification(makeTrigger({ serverId: SERVER_ID, sessionId }), CREDENTIALS);

let harness: ListenerHarness | undefined;
afterEach(async () => {
  await harness?.listener.close();
  harness = undefined;
});

const post = (url: string, body: Uint8Array, type: string = ContentType.NOTIFICATION): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': type }, body });

describe('HTTP notification endpoint of the device', () => {
  it('answers 202 to a valid notification and to its replay (a re-trigger is legitimate, §8.4)', async () => {
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify');
    expect((await post(harness.address, valid(1))).status).toBe(202);
    expect((await post(harness.address, valid(1))).status).toBe(202);
    await harness.listener.idle();
    expect(harness.sessions).toHaveLength(1);
    expect(harness.kinds()).toContain('replayed');
  });

  it('accepts the content type with parameters and in any case', async () => {
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify');
    const type = 'Application/VND.SyncML.Notification; foo=bar';
    expect((await post(harness.address, valid(2), type)).status).toBe(202);
  });

  it('404 for another path, 405 for GET, 415 for another content type', async () => {
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify');
    const base = harness.address.replace(/\/notify$/, '');
    expect((await post(`${base}/elsewhere`, valid(3))).status).toBe(404);
    const get = await fetch(harness.address);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post(harness.address, valid(3), 'application/octet-stream')).status).toBe(415);
    await harness.listener.idle();
    expect(harness.sessions).toHaveLength(0);
  });

  it('413 for a body over the limit, without reading it all', async () => {
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify', { limits: { maxBytes: 64 } });
    const response = await post(harness.address, new Uint8Array(10_000));
    expect(response.status).toBe(413);
  });

  it('400 naming the problem for malformed bytes, 403 for a bad digest', async () => {
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify');
    const malformed = await post(harness.address, new Uint8Array(30));
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain('notification-');
    const tampered = valid(4);
    tampered[15] = tampered[15]! ^ 1;
    const refused = await post(harness.address, tampered);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('notification-digest-mismatch');
  });

  it('a credential lookup that throws is our fault: 503, reported, no session', async () => {
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify', {
      credentials: () => {
        throw new Error('DMAcc store offline');
      },
    });
    expect((await post(harness.address, valid(5))).status).toBe(503);
    const event = await harness.waitForKind('lookup-failed');
    expect(event.kind === 'lookup-failed' && event.serverId).toBe(SERVER_ID);
    expect(harness.sessions).toHaveLength(0);
  });

  it('sheds load beyond maxInFlight with 503 and an overloaded event', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let lookupStarted!: () => void;
    const started = new Promise<void>((resolve) => (lookupStarted = resolve));
    harness = await ListenerHarness.start('http://127.0.0.1:0/notify', {
      maxInFlight: 1,
      credentials: async () => {
        lookupStarted();
        await gate;
        return CREDENTIALS;
      },
    });
    const first = post(harness.address, valid(7));
    await started; // the first notification now occupies the only slot
    const second = await post(harness.address, valid(8));
    expect(second.status).toBe(503);
    await harness.waitForKind('overloaded');
    release();
    expect((await first).status).toBe(202);
    await harness.listener.idle();
    expect(harness.sessions.map((s) => s.trigger.sessionId)).toEqual([7]);
  });

  it('callbacks that throw do not take the listener down', async () => {
    let sessions = 0;
    const listener = await listenForNotifications({
      listen: 'http://127.0.0.1:0/',
      credentials: () => CREDENTIALS,
      runSession: async () => {
        sessions++;
      },
      onInvalid: () => {
        throw new Error('stderr closed');
      },
      onEvent: () => {
        throw new Error('logger broken');
      },
    });
    try {
      expect((await post(listener.address, new Uint8Array(3))).status).toBe(400);
      expect((await post(listener.address, valid(6))).status).toBe(202);
      await listener.idle();
      expect(sessions).toBe(1);
    } finally {
      await listener.close();
    }
  });
});

describe('listen addresses', () => {
  it.each([
    ['nonsense'],
    ['tcp://127.0.0.1:1'],
    ['udp://localhost:0'],
    ['udp://127.0.0.1'],
    ['udp://127.0.0.1:0/path'],
    ['https://127.0.0.1:0/'],
  ])('%s is refused with LocalProtocolError notification-listen-invalid', async (listen) => {
    const error = await listenForNotifications({
      listen,
      credentials: () => undefined,
      runSession: async () => undefined,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalProtocolError);
    expect((error as LocalProtocolError).code).toBe('notification-listen-invalid');
  });

  it('reports the bound port so the server can store it as notifyAddress', async () => {
    harness = await ListenerHarness.start('udp://127.0.0.1:0');
    expect(harness.address).toMatch(/^udp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const http = await ListenerHarness.start('http://[::1]:0');
    try {
      expect(http.address).toMatch(/^http:\/\/\[::1\]:[1-9]\d*\/$/);
    } finally {
      await http.listener.close();
    }
  });

  it('a port already in use is an error at start, not a crash later', async () => {
    harness = await ListenerHarness.start('udp://127.0.0.1:0');
    const http = await ListenerHarness.start('http://127.0.0.1:0/');
    const httpError = await listenForNotifications({
      listen: http.address,
      credentials: () => undefined,
      runSession: async () => undefined,
    }).catch((e: unknown) => e);
    await http.listener.close();
    expect((httpError as LocalProtocolError).code).toBe('notification-listen-failed');
    const error = await listenForNotifications({
      listen: harness.address,
      credentials: () => undefined,
      runSession: async () => undefined,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalProtocolError);
    expect((error as LocalProtocolError).code).toBe('notification-listen-failed');
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });
});
