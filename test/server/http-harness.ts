/** A real server on 127.0.0.1 port 0 with a SQLite store in a temporary directory, for API and app tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/platform/clock.js';
import { InProcessEventBus } from '../../src/server/events/index.js';
import { createServerApp } from '../../src/server/http-app.js';
import type { ServerApp, ServerAppOptions } from '../../src/server/http-app.js';
import { openSqliteStore } from '../../src/server/store/index.js';
import type { SqlStore } from '../../src/server/store/index.js';

/** A parsed JSON response body: untyped on purpose, tests assert its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const TOKEN = 'test-admin-token-0123456789';

export interface Harness {
  readonly base: string;
  readonly store: SqlStore;
  readonly events: InProcessEventBus;
  readonly clock: ManualClock;
  readonly app: ServerApp;
  readonly server: Server;
  /** fetch against the server with the admin token (unless `token: null`). */
  call(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      raw?: string | Buffer;
      token?: string | null;
      headers?: Record<string, string>;
    },
  ): Promise<{ status: number; headers: Headers; json: Json; text: string }>;
  stop(): Promise<void>;
}

export async function startHarness(
  extra: Partial<Omit<ServerAppOptions, 'store' | 'events' | 'adminToken'>> = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'omadm-api-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = await openSqliteStore(join(dir, 'omadm.db'), { clock });
  const events = new InProcessEventBus();
  const app = createServerApp({ store, events, adminToken: TOKEN, clock, ...extra });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    store,
    events,
    clock,
    app,
    server,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== null) headers['authorization'] = `Bearer ${options.token ?? TOKEN}`;
      let body: string | Buffer | undefined = options.raw;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json, text };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close({ timeoutMs: 1000 });
      await events.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
