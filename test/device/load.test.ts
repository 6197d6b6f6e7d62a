/**
 * The load generator against the real server app in-process (startServer, SQLite): 200 devices registered
 * through the REST API, sessions for a few seconds, zero failures; every device really talked to the server.
 * Also the report's arithmetic and the bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceCredentials, LoadError, runLoad } from '../../src/device/load/load-generator.js';
import { percentile, summarizeLatencies } from '../../src/device/load/latency-stats.js';
import { ADMIN_TOKEN as TOKEN, startTestServer, type TestServer } from '../e2e/support/server.js';
import { SessionServer } from './support/session-server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('load generator', () => {
  it(
    '200 devices for a few seconds against the real server: zero failures, every device seen',
    { timeout: 60_000 },
    async () => {
      const progress: number[] = [];
      const report = await runLoad({
        serverUrl: `${server.url}/dm`,
        devices: 200,
        concurrency: 50,
        durationMs: 4000,
        prefix: 'LOAD-A-',
        register: { apiUrl: `${server.url}/api/v1`, adminToken: TOKEN },
        onProgress: (p) => progress.push(p.sessions),
        progressIntervalMs: 100,
      });
      expect(report.failures).toEqual({});
      expect(report.failed).toBe(0);
      expect(report.registered).toMatchObject({ created: 200, existing: 0 });
      // round robin: with ≥ 200 sessions every device ran one (on a loaded CI machine maybe fewer: check those)
      expect(report.sessions).toBeGreaterThanOrEqual(50);
      expect(report.completed).toBe(report.sessions);
      expect(report.sessionsPerSecond).toBeGreaterThan(0);
      // a first md5 session is challenged: Package 1, the challenge, Package 1 again, the answer (4 messages)
      expect(report.messages).toBeGreaterThanOrEqual(report.sessions * 2);
      expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p95);
      expect(report.latencyMs.p95).toBeLessThanOrEqual(report.latencyMs.p99);
      expect(progress.length).toBeGreaterThan(3);
      // the server saw the last device that had its turn (lastSeen set), so the sessions were real
      const last = deviceCredentials('LOAD-A-', Math.min(200, report.sessions)).deviceId;
      const res = await fetch(`${server.url}/api/v1/devices/${encodeURIComponent(last)}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { lastSeen: unknown }).lastSeen).not.toBeNull();
    },
  );

  it(
    '--sessions bounds the count; re-registering the same devices counts them as existing; WBXML + hmac',
    { timeout: 60_000 },
    async () => {
      const register = { apiUrl: `${server.url}/api/v1`, adminToken: TOKEN };
      await runLoad({
        serverUrl: `${server.url}/dm`,
        devices: 20,
        concurrency: 5,
        sessions: 20,
        prefix: 'LOAD-B-',
        auth: 'hmac',
        register,
      });
      const report = await runLoad({
        serverUrl: `${server.url}/dm`,
        devices: 20,
        concurrency: 5,
        sessions: 50,
        prefix: 'LOAD-B-',
        auth: 'hmac',
        encoding: 'wbxml',
        register,
      });
      expect(report.sessions).toBe(50);
      expect(report.failed).toBe(0);
      expect(report.registered).toMatchObject({ created: 0, existing: 20 });
    },
  );

  it('failures are counted by cause: unregistered devices are refused', { timeout: 30_000 }, async () => {
    const report = await runLoad({
      serverUrl: `${server.url}/dm`,
      devices: 3,
      concurrency: 3,
      sessions: 6,
      prefix: 'NOT-REGISTERED-',
    });
    expect(report.failed).toBe(6);
    const causes = Object.keys(report.failures);
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatch(/^auth-failed/);
    expect(report.failureExamples[causes[0]!]).not.toBe('');
  });

  it('runs against the bare ServerSession engine too (any OMA DM server)', { timeout: 30_000 }, async () => {
    const bare = await new SessionServer().start();
    try {
      for (let i = 1; i <= 10; i++) {
        const c = deviceCredentials('BARE-', i);
        bare.accounts.set(c.deviceId, {
          client: { auth: 'basic', username: c.username, password: c.password },
        });
      }
      const report = await runLoad({
        serverUrl: bare.url,
        devices: 10,
        concurrency: 10,
        sessions: 100,
        prefix: 'BARE-',
        auth: 'basic',
      });
      expect(report).toMatchObject({ sessions: 100, failed: 0 });
      expect(bare.sessions).toHaveLength(100);
    } finally {
      await bare.stop();
    }
  });

  it('an abort signal stops the run early and still reports what ran', { timeout: 30_000 }, async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const t0 = Date.now();
    const report = await runLoad({
      serverUrl: `${server.url}/dm`,
      devices: 5,
      concurrency: 5,
      durationMs: 60_000,
      prefix: 'LOAD-C-',
      register: { apiUrl: `${server.url}/api/v1`, adminToken: TOKEN },
      signal: controller.signal,
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(report.sessions).toBeGreaterThan(0);
    expect(report.failed).toBe(0);
  });

  it('refuses unbounded or oversized runs', async () => {
    await expect(runLoad({ serverUrl: 'http://127.0.0.1:1/dm', devices: 0 })).rejects.toBeInstanceOf(
      LoadError,
    );
    await expect(runLoad({ serverUrl: 'http://127.0.0.1:1/dm', devices: 1, durationMs: -1 })).rejects.toThrow(
      /duration/,
    );
    await expect(runLoad({ serverUrl: 'http://127.0.0.1:1/dm', devices: 1, concurrency: 0 })).rejects.toThrow(
      /concurrency/,
    );
  });

  it('percentiles are nearest-rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([], 50)).toBe(0);
    expect(summarizeLatencies([3, 1, 2])).toEqual({ count: 3, p50: 2, p95: 3, p99: 3, max: 3, mean: 2 });
  });
});
