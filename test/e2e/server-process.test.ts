/**
 * `omadm server` as a process: defaults, environment variables, --demo, --help, SIGTERM draining, and crash
 * durability (kill -9 mid-session, restart on the same SQLite file).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseServerArgs, serverHelp } from '../../src/cli/server.js';
import { DEVICE } from '../../src/tree/index.js';
import { createTestDevice, runSession } from './support/device.js';
import { BIN, spawnServer, type ChildServer } from './support/child-server.js';
import { Api } from './support/server.js';

const dirs: string[] = [];
const children: ChildServer[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'omadm-proc-'));
  dirs.push(dir);
  return dir;
}
async function start(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<ChildServer> {
  const server = await spawnServer(args, env, cwd);
  children.push(server);
  return server;
}

afterAll(async () => {
  for (const c of children) {
    if (c.child.exitCode === null && c.child.signalCode === null) {
      c.child.kill('SIGKILL');
      await c.exited;
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('omadm server', () => {
  it('with no options: ./omadm.db created and migrated, a generated admin token printed, ready in under a second, SIGTERM exits 0', async () => {
    const cwd = tempDir();
    const spawned = performance.now();
    const server = await start([], { OMADM_PORT: '0' }, cwd);
    const health = await fetch(`${server.url}/healthz`);
    const wall = performance.now() - spawned;
    expect(health.status).toBe(200);
    expect(existsSync(join(cwd, 'omadm.db'))).toBe(true);
    const token = /^admin token:\s+(\S+)/m.exec(server.stdout())?.[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await new Api(server.url, token).call('GET', '/devices')).status).toBe(200);
    expect((await new Api(server.url, 'wrong').call('GET', '/devices')).status).toBe(401);
    const ready = Number(/^ready in (\d+) ms$/m.exec(server.stdout())?.[1]);
    expect(ready).toBeLessThan(1000);
    console.log(
      `omadm server: ready in ${ready} ms after start of runServer; ${Math.round(wall)} ms from spawn to first /healthz 200`,
    );
    // An open event stream must not keep the server from draining.
    const events = await fetch(`${server.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(events.status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stdout()).toMatch(/stopped/);
    expect(server.stdout() + server.stderr()).not.toMatch(/Error/);
  });

  it('every option also comes from its environment variable; the command line wins', async () => {
    const dir = tempDir();
    const server = await start(['--server-id', 'cli-id'], {
      OMADM_PORT: '0',
      OMADM_HOST: '127.0.0.1',
      OMADM_DB: join(dir, 'env.db'),
      OMADM_ADMIN_TOKEN: 'env-token-123',
      OMADM_SERVER_ID: 'env-id',
      OMADM_PUBLIC_URL: 'http://127.0.0.1:9/balanced',
    });
    expect(server.stdout()).not.toMatch(/admin token/);
    expect(existsSync(join(dir, 'env.db'))).toBe(true);
    const api = new Api(server.url, 'env-token-123');
    const device = await createTestDevice({ auth: 'basic' });
    await api.register(device);
    const run = await runSession(device, {
      url: (i) => (i === 0 ? server.dm : server.dm),
      serverId: 'cli-id',
    });
    expect(run.ended?.reason).toBe('completed');
    // The public URL is the RespURI the device is told to use (protocol.md §9).
    expect(run.responses[0]?.message?.header.respUri).toBe('http://127.0.0.1:9/balanced/dm');
    expect(run.responses[0]?.message?.header.source.locUri).toBe('cli-id');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('--demo creates the demo device once and prints a command line whose credentials connect', async () => {
    const dir = tempDir();
    const db = join(dir, 'demo.db');
    const first = await start(['--demo', '--port', '0', '--db', db, '--admin-token', 'demo-token']);
    const line = /^connect it:\s+(.+)$/m.exec(first.stdout())?.[1] ?? '';
    expect(line).toMatch(
      /^npx omadm device --server http:\/\/127\.0\.0\.1:\d+\/dm --device-id demo-device --username demo --password \S+ --auth md5 --server-id omadm --server-password \S+$/,
    );
    const arg = (name: string) => new RegExp(`--${name} (\\S+)`).exec(line)?.[1] ?? '';
    const device = await createTestDevice({
      deviceId: arg('device-id'),
      username: arg('username'),
      password: arg('password'),
      serverPassword: arg('server-password'),
      auth: 'md5',
    });
    const run = await runSession(device, { url: arg('server') });
    expect(run.ended?.reason).toBe('completed');
    first.child.kill('SIGTERM');
    await first.exited;
    const second = await start(['--demo', '--port', '0', '--db', db, '--admin-token', 'demo-token']);
    expect(/^connect it:\s+(.+)$/m.exec(second.stdout())?.[1]?.replace(/:\d+\/dm/, '')).toBe(
      line.replace(/:\d+\/dm/, ''),
    );
    const devices = await new Api(second.url, 'demo-token').call<{ items: unknown[] }>('GET', '/devices');
    expect(devices.body.items).toHaveLength(1);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('--help tells the truth: every option it lists is accepted, with the environment variable it names', async () => {
    const help = serverHelp();
    const flags = [...help.matchAll(/^ {2}--([a-z-]+)( [A-Z|]+)?\s.*?(?:\[(OMADM_[A-Z_]+)\])?$/gm)];
    expect(flags.map((m) => m[1])).toEqual([
      'host',
      'port',
      'db',
      'admin-token',
      'server-id',
      'public-url',
      'tls-cert',
      'tls-key',
      'demo',
      'help',
    ]);
    for (const [, flag, arg, env] of flags) {
      if (flag === 'tls-cert' || flag === 'tls-key') continue; // need readable files; checked below
      const value = flag === 'port' ? '0' : flag === 'public-url' ? 'http://127.0.0.1:1' : 'x';
      expect(() => parseServerArgs(arg === undefined ? [`--${flag!}`] : [`--${flag!}`, value])).not.toThrow();
      if (env !== undefined) {
        const saved = process.env[env];
        process.env[env] = value;
        try {
          const { config } = parseServerArgs([]);
          expect(Object.values(config)).toContain(flag === 'port' ? 0 : value);
        } finally {
          if (saved === undefined) delete process.env[env];
          else process.env[env] = saved;
        }
      }
    }
    expect(() => parseServerArgs(['--tls-cert', '/nonexistent/cert.pem'])).toThrow(
      /--tls-cert and --tls-key go together/,
    );
    expect(() =>
      parseServerArgs(['--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem']),
    ).toThrow(/cannot read/);
    expect(() => parseServerArgs(['--port', 'eighty'])).toThrow(/not a port number/);
    expect(() => parseServerArgs(['--bogus'])).toThrow(/bogus/);
    const printed = await promisify(execFile)(process.execPath, [BIN, 'server', '--help']).then(
      (r) => r.stdout,
    );
    expect(printed).toBe(help);
  });
});

describe('crash durability (kill -9 mid-session, restart on the same SQLite file)', () => {
  it('a command sent in a session that never completed is delivered again in the next session and completes exactly once', async () => {
    const dir = tempDir();
    const db = join(dir, 'crash.db');
    const args = ['--port', '0', '--db', db, '--admin-token', 'crash-token'];
    const first = await start(args);
    const api = new Api(first.url, 'crash-token');
    const device = await createTestDevice({ auth: 'md5' });
    await device.tree.add('./Vendor/Counter', { format: 'chr', value: '0' }, DEVICE);
    await api.register(device);
    // Replace is idempotent, so delivering it twice (at-least-once across a crash) is harmless.
    const id = await api.enqueue(device.deviceId, {
      command: 'Replace',
      target: './Vendor/Counter',
      data: '1',
      format: 'chr',
    });
    await api.enqueue(device.deviceId, {
      command: 'Add',
      target: './Vendor/Marker',
      data: 'm',
      format: 'chr',
    });
    // Session 1: the device gets the commands, then the server dies before the device's answer arrives.
    const interrupted = await runSession(device, {
      url: first.dm,
      beforeSend: async (i) => {
        if (i !== 2) return;
        first.child.kill('SIGKILL');
        expect(await first.exited).toBe('SIGKILL');
        throw new Error('connection lost');
      },
    }).catch((error: unknown) => error);
    expect(String(interrupted)).toMatch(/connection lost/);
    const restarted = await start(args);
    const api2 = new Api(restarted.url, 'crash-token');
    expect((await api2.command(device.deviceId, id)).state).toBe('sent');
    // Session 2, on the restarted process: the undelivered commands come again and complete.
    const run = await runSession(device, { url: restarted.dm });
    expect(run.ended?.reason).toBe('completed');
    const done = await api2.command(device.deviceId, id);
    expect(done).toMatchObject({ state: 'done', status: 200 });
    // Session 3: nothing is delivered a third time; the outcome stays as recorded.
    const idle = await runSession(device, { url: restarted.dm });
    expect(idle.sent).toBe(1);
    expect(await api2.command(device.deviceId, id)).toEqual(done);
    const history = await api2.call<{ items: { id: number; state: string }[] }>(
      'GET',
      `/devices/${encodeURIComponent(device.deviceId)}/commands`,
    );
    // The Add was applied before the crash too, so its second delivery finds the node (418): final all the same.
    expect(history.body.items.map((c) => c.state)).toEqual(['failed', 'done']);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  });

  it('the database is the session: a session interrupted by kill -9 continues on the restarted process', async () => {
    const dir = tempDir();
    const db = join(dir, 'resume.db');
    const args = ['--port', '0', '--db', db, '--admin-token', 'resume-token'];
    const first = await start(args);
    const api = new Api(first.url, 'resume-token');
    const device = await createTestDevice({ auth: 'basic' });
    await api.register(device);
    const id = await api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Man' });
    let second: ChildServer | undefined;
    const run = await runSession(device, {
      url: (i) => (i < 1 ? first.dm : second!.dm),
      beforeSend: async (i) => {
        if (i !== 1) return;
        first.child.kill('SIGKILL');
        await first.exited;
        second = await start(args);
      },
    });
    expect(run.ended?.reason).toBe('completed');
    expect(await new Api(second!.url, 'resume-token').command(device.deviceId, id)).toMatchObject({
      state: 'done',
      status: 200,
      results: [{ data: 'Acme' }],
    });
    second!.child.kill('SIGTERM');
    expect(await second!.exited).toBe(0);
  });
});
