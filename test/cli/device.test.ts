/**
 * `omadm device` run in-process through `main([...])` against the real DM server app (`startServer`, SQLite),
 * with devices registered through the REST API: exit codes, --json summaries, the state file across runs
 * (DG-AUT-03), --require-server-auth with a wrong server password (DG-AUT-06), a queued command round trip,
 * verbose output without secrets, --listen with a real UDP Package 0 (DG-SES-02, DG-NOT-02) and --help.
 */
import { createSocket } from 'node:dgram';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ADMIN_TOKEN as TOKEN, startTestServer, type TestServer } from '../e2e/support/server.js';
import { buildNotification, makeTrigger } from '../../src/notification/index.js';
import { CapturedIo } from '../device/support/cli-io.js';

let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = server.dir;
});
afterAll(() => server.close());

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

let n = 0;
async function newDevice(auth = 'md5'): Promise<{ id: string; args: string[] }> {
  const id = `IMEI:35000000000${String(++n).padStart(4, '0')}`;
  const reg = await api('POST', '/devices', {
    deviceId: id,
    username: `user${n}`,
    password: `pass-${n}`,
    authType: auth,
    serverPassword: `srv-${n}`,
  });
  expect(reg.status).toBe(201);
  const args = [
    'device',
    '--server',
    `${server.url}/dm`,
    '--device-id',
    id,
    '--username',
    `user${n}`,
    '--password',
    `pass-${n}`,
    '--auth',
    auth,
  ];
  return { id, args: [...args, '--server-password', `srv-${n}`, '--state', join(dir, `${n}.json`)] };
}

async function run(args: string[]): Promise<{ code: number; io: CapturedIo }> {
  const io = new CapturedIo();
  const code = await main(args, io);
  return { code, io };
}

describe('omadm device', () => {
  it('DG-AUT-03: runs one session, prints the summary as the last JSON line, and needs no challenge the second time', async () => {
    const { args } = await newDevice();
    const first = await run([...args, '--json']);
    expect(first.code, first.io.err).toBe(0);
    const summary1 = JSON.parse(first.io.lines().at(-1)!) as Record<string, unknown>;
    expect(summary1).toMatchObject({ ok: true, outcome: 'completed', challenges: 1, initiator: 'client' });
    const second = await run([...args, '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.io.lines().at(-1)!)).toMatchObject({
      ok: true,
      challenges: 0,
      packages: { sent: 1, received: 1 },
    });
    // the state file holds secrets: owner-only
    expect((await stat(args.at(-1)!)).mode & 0o777).toBe(0o600);
  });

  for (const auth of ['basic', 'hmac'] as const) {
    it(`${auth}, WBXML, --require-server-auth: completes against the server`, async () => {
      const { args } = await newDevice(auth);
      const { code, io } = await run([...args, '--wbxml', '--require-server-auth', '--json']);
      expect(code, io.err).toBe(0);
      expect(JSON.parse(io.lines().at(-1)!)).toMatchObject({ ok: true, serverAuthenticated: true });
    });
  }

  it('executes a command queued through the REST API and the server records the result', async () => {
    const { id, args } = await newDevice();
    const queued = await api('POST', `/devices/${encodeURIComponent(id)}/commands`, {
      command: 'Get',
      target: './DevInfo/Man',
    });
    expect(queued.status).toBe(201);
    const { code, io } = await run([...args, '--profile', 'router']);
    expect(code, io.err).toBe(0);
    expect(io.out).toMatch(
      /^session [0-9A-F]{1,4} \(client-initiated\) completed in \d+ ms: .*commands: Get 200×1/m,
    );
    const commandId = (queued.json as { id: string | number }).id;
    const result = await api('GET', `/devices/${encodeURIComponent(id)}/commands/${commandId}`);
    expect(JSON.stringify(result.json)).toContain('NetGearish');
  });

  it('DG-AUT-06: a wrong server password with --require-server-auth fails with exit 1 and one line', async () => {
    const { args } = await newDevice();
    const wrong = args.map((a) => (a.startsWith('srv-') ? 'not-the-server-password' : a));
    const { code, io } = await run([...wrong, '--require-server-auth']);
    expect(code).toBe(1);
    const lines = io.err.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^omadm device: session [0-9A-F]+ peer-auth-failed: /);
  });

  it('a wrong device password exits 1 with the reason', async () => {
    const { args } = await newDevice();
    const wrong = args.map((a) => (a.startsWith('pass-') ? 'wrong' : a));
    const { code, io } = await run([...wrong, '--json']);
    expect(code).toBe(1);
    expect(io.err).toMatch(/^omadm device: session [0-9A-F]+ auth-failed: /);
    expect(JSON.parse(io.lines().at(-1)!)).toMatchObject({ ok: false, outcome: 'auth-failed' });
  });

  it('-v prints both directions decoded without any secret', async () => {
    const { args } = await newDevice('basic');
    const { code, io } = await run([...args, '-v']);
    expect(code).toBe(0);
    expect(io.err).toContain('>>> device →');
    expect(io.err).toContain('<<< server → device');
    expect(io.err).toContain('<Alert>');
    const basic = Buffer.from(`user${n}:pass-${n}`).toString('base64');
    expect(io.err).not.toContain(basic);
    expect(io.err).not.toContain(`pass-${n}`);
    expect(io.err).toContain('<Data>***</Data>');
  });

  it('usage errors exit 2 with one line', async () => {
    for (const args of [
      ['device'],
      ['device', '--server', 'ftp://x', '--device-id', 'a', '--username', 'u', '--password', 'p'],
      [
        'device',
        '--server',
        'http://127.0.0.1:1/dm',
        '--device-id',
        'a',
        '--username',
        'u',
        '--password',
        'p',
        '--profile',
        'toaster',
      ],
      [
        'device',
        '--server',
        'http://127.0.0.1:1/dm',
        '--device-id',
        'a',
        '--username',
        'u',
        '--password',
        'p',
        '--require-server-auth',
      ],
      ['device', '--bogus'],
      [
        'device',
        '--server',
        'http://127.0.0.1:1/dm',
        '--device-id',
        'a',
        '--username',
        'u',
        '--password',
        'p',
        '--accept-nonce-resync',
      ],
    ]) {
      const { code, io } = await run(args);
      expect(code, args.join(' ')).toBe(2);
      expect(io.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('--help documents exactly the options the command accepts', async () => {
    const { code, io } = await run(['device', '--help']);
    expect(code).toBe(0);
    const documented = [...new Set(io.out.match(/--[a-z][a-z-]+/g))].sort();
    expect(documented).toEqual(
      [
        '--accept-nonce-resync',
        '--auth',
        '--device-id',
        '--help',
        '--json',
        '--listen',
        '--password',
        '--profile',
        '--require-server-auth',
        '--server',
        '--server-id',
        '--server-password',
        '--sessions',
        '--state',
        '--ui',
        '--username',
        '--verbose',
        '--wbxml',
      ].sort(),
    );
    // each documented flag is accepted by the parser (an unknown one would exit 2 with "Unknown option")
    for (const flag of documented) {
      const r = await run([
        'device',
        flag,
        ...([
          '--help',
          '--json',
          '--require-server-auth',
          '--wbxml',
          '--verbose',
          '--accept-nonce-resync',
        ].includes(flag)
          ? []
          : ['x']),
        '--help',
      ]);
      expect(r.code, flag).toBe(0);
    }
  });

  it('DG-SES-02: --listen runs the session a real UDP Package 0 asks for, and reports an invalid one', async () => {
    const { id, args } = await newDevice();
    const queued = await api('POST', `/devices/${encodeURIComponent(id)}/commands`, {
      command: 'Get',
      target: './DevDetail/DevTyp',
    });
    expect(queued.status).toBe(201);
    const io = new CapturedIo();
    const running = main(
      [...args, '--profile', 'phone', '--listen', 'udp://127.0.0.1:0', '--sessions', '1', '--json'],
      io,
    );
    const [, port] = await io.waitForStderr(/listening for Package 0 on udp:\/\/127\.0\.0\.1:(\d+)/);
    const socket = createSocket('udp4');
    const send = (bytes: Uint8Array) =>
      new Promise<void>((resolve, reject) =>
        socket.send(bytes, Number(port), '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    const trigger = makeTrigger({ uiMode: 'background', sessionId: 0x1234, serverId: 'omadm' });
    // a forged one first (wrong server password): reported, no session
    await send(buildNotification(trigger, { password: 'forged' }));
    await io.waitForStderr(/ignored notification from udp:\/\/127\.0\.0\.1:\d+: /);
    await send(
      buildNotification(
        { ...trigger, sessionId: 0x00ab },
        { password: args[args.indexOf('--server-password') + 1]! },
      ),
    );
    const code = await running;
    socket.close();
    expect(code, io.err).toBe(0);
    const summary = JSON.parse(io.lines().at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({ ok: true, initiator: 'server', sessionId: 'AB' });
    expect(io.lines()).toHaveLength(1);
    const result = await api(
      'GET',
      `/devices/${encodeURIComponent(id)}/commands/${(queued.json as { id: string | number }).id}`,
    );
    expect(JSON.stringify(result.json)).toContain('phone');
  });

  it('DG-NOT-03: with --accept-nonce-resync a resync trigger from the server runs a session on the special nonce', async () => {
    const { id, args } = await newDevice();
    const io = new CapturedIo();
    const running = main(
      [...args, '--listen', 'udp://127.0.0.1:0', '--sessions', '1', '--json', '--accept-nonce-resync'],
      io,
    );
    const [, port] = await io.waitForStderr(/listening for Package 0 on udp:\/\/127\.0\.0\.1:(\d+)/);
    const path = `/devices/${encodeURIComponent(id)}`;
    expect((await api('PATCH', path, { notifyAddress: `udp://127.0.0.1:${port}` })).status).toBe(200);
    const sent = await api('POST', `${path}/notify`, { nonceResync: true });
    expect(sent.status).toBe(202);
    expect(await running, io.err).toBe(0);
    const summary = JSON.parse(io.lines().at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({
      ok: true,
      initiator: 'server',
      sessionId: (sent.json as { sessionId: string }).sessionId,
      nonceResync: true,
      authenticated: true,
      serverAuthenticated: true,
      challenges: 0,
    });
  });

  it('DG-NOT-04: a user-interaction trigger asks first; --ui auto-reject declines and no session runs', async () => {
    const { id, args } = await newDevice();
    const io = new CapturedIo();
    const running = main(
      [...args, '--listen', 'udp://127.0.0.1:0', '--sessions', '1', '--ui', 'auto-reject'],
      io,
    );
    const [, port] = await io.waitForStderr(/listening for Package 0 on udp:\/\/127\.0\.0\.1:(\d+)/);
    const socket = createSocket('udp4');
    const password = args[args.indexOf('--server-password') + 1]!;
    const bytes = buildNotification(
      makeTrigger({ uiMode: 'user-interaction', sessionId: 0x77, serverId: 'omadm' }),
      { password },
    );
    await new Promise<void>((resolve, reject) =>
      socket.send(bytes, Number(port), '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
    expect(await running).toBe(0);
    socket.close();
    expect(io.err).toContain('the user declined the management session 77 requested by omadm');
    expect(io.out).toBe('');
    const device = await api('GET', `/devices/${encodeURIComponent(id)}`);
    expect((device.json as { lastSeen: unknown }).lastSeen).toBeNull();
  });

  it('without --state the tree lives under $XDG_DATA_HOME/omadm/devices/<id>.json', async () => {
    const { args } = await newDevice();
    const withoutState = args.slice(0, args.indexOf('--state'));
    const saved = process.env['XDG_DATA_HOME'];
    process.env['XDG_DATA_HOME'] = join(dir, 'xdg');
    try {
      const { code } = await run(withoutState);
      expect(code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env['XDG_DATA_HOME'];
      else process.env['XDG_DATA_HOME'] = saved;
    }
    const id = args[args.indexOf('--device-id') + 1]!;
    const file = join(dir, 'xdg', 'omadm', 'devices', `${id.replace(':', '_3A')}.json`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('DG-CMD-13 end to end: a firmware update queued over REST reports its result as a Generic Alert the server stores', async () => {
    const { id, args } = await newDevice();
    const path = `/devices/${encodeURIComponent(id)}/commands`;
    const firmware = Buffer.from('AM5G-2.0.0 image').toString('base64');
    for (const command of [
      { command: 'Replace', target: './FUMO/PkgVersion', data: 'AM5G-2.0.0' },
      { command: 'Replace', target: './FUMO/Update/PkgData', data: firmware, format: 'b64' },
      { command: 'Exec', target: './FUMO/Update' },
    ]) {
      expect((await api('POST', path, command)).status).toBe(201);
    }
    const phone = [...args, '--profile', 'phone', '--json'];
    const first = await run(phone);
    expect(first.code, first.io.err).toBe(0);
    expect(JSON.parse(first.io.lines().at(-1)!)).toMatchObject({
      commands: { Exec: { '202': 1 }, Replace: { '200': 2 } },
    });
    const second = await run(phone);
    expect(second.code, second.io.err).toBe(0);
    expect(JSON.parse(second.io.lines().at(-1)!)).toMatchObject({ alerts: { sent: 1, acknowledged: 1 } });
    const alerts = await api('GET', `/devices/${encodeURIComponent(id)}/alerts`);
    const text = JSON.stringify(alerts.json);
    expect(text).toContain('1226');
    expect(text).toContain('org.openmobilealliance.dm.firmwareupdate.update');
    // the new firmware version is what the device reports now
    const q = await api('POST', path, { command: 'Get', target: './DevDetail/FwV' });
    expect((await run(phone)).code).toBe(0);
    const got = await api('GET', `${path}/${(q.json as { id: string | number }).id}`);
    expect(JSON.stringify(got.json)).toContain('AM5G-2.0.0');
  });

  it('--listen over HTTP: a POSTed Package 0 starts the session (202), a bad one is refused and reported', async () => {
    const { args } = await newDevice();
    const io = new CapturedIo();
    const running = main([...args, '--listen', 'http://127.0.0.1:0/push', '--sessions', '1', '--json'], io);
    const [, address] = await io.waitForStderr(
      /listening for Package 0 on (http:\/\/127\.0\.0\.1:\d+\/push)/,
    );
    const password = args[args.indexOf('--server-password') + 1]!;
    const post = (bytes: Uint8Array) =>
      fetch(address!, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.syncml.notification' },
        body: bytes,
      });
    const forged = await post(
      buildNotification(makeTrigger({ sessionId: 0x42, serverId: 'omadm' }), { password: 'nope' }),
    );
    expect(forged.status).toBe(403);
    const good = await post(
      buildNotification(makeTrigger({ sessionId: 0x43, serverId: 'omadm' }), { password }),
    );
    expect(good.status).toBe(202);
    expect(await running).toBe(0);
    expect(io.err).toMatch(/ignored notification from http:\/\/127\.0\.0\.1:\d+: /);
    expect(JSON.parse(io.lines().at(-1)!)).toMatchObject({ ok: true, sessionId: '43', initiator: 'server' });
  });
});
