/** Server options end to end: HTTPS with --tls-cert/--tls-key, and housekeeping that requeues abandoned sessions. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { parseServerArgs } from '../../src/cli/server.js';
import { createTestDevice, runSession } from './support/device.js';
import { startTestServer, type TestServer } from './support/server.js';

const dir = mkdtempSync(join(tmpdir(), 'omadm-tls-'));
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('server options', () => {
  it('--tls-cert/--tls-key serve HTTPS: /healthz answers over TLS to a client trusting the certificate, plain HTTP does not', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const { config } = parseServerArgs(['--tls-cert', cert, '--tls-key', key]);
    const t = await startTestServer({ ...(config.tls === undefined ? {} : { tls: config.tls }) });
    servers.push(t);
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(cert);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${t.url}/healthz`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    // Plain HTTP to the TLS port is not answered as HTTP.
    await expect(fetch(t.url.replace('https:', 'http:') + '/healthz')).rejects.toThrow();
  });

  it('housekeeping requeues the commands of a session abandoned longer than the idle limit', async () => {
    const clock = new ManualClock(Date.now());
    const t = await startTestServer({ clock, housekeepingMs: 50, sessionIdleMs: 60_000 });
    servers.push(t);
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Man' });
    await runSession(device, { url: t.dm, stopAfter: 1 });
    expect((await t.api.command(device.deviceId, id)).state).toBe('sent');
    clock.advance(60_001);
    const until = Date.now() + 3000;
    while ((await t.api.command(device.deviceId, id)).state !== 'queued' && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect((await t.api.command(device.deviceId, id)).state).toBe('queued');
    const run = await runSession(device, { url: t.dm });
    expect(run.ended?.reason).toBe('completed');
    expect(await t.api.command(device.deviceId, id)).toMatchObject({
      state: 'done',
      results: [{ data: 'Acme' }],
    });
  });
});
