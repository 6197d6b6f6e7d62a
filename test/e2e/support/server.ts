/** E2E support: the real server on port 0 over a fresh SQLite file, and a small client for its REST API. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerConfig } from '../../../src/server/app.js';
import type { TestDevice } from './device.js';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly dm: string;
  readonly api: Api;
  readonly dir: string;
  close(): Promise<void>;
}

export async function startTestServer(config: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'omadm-e2e-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    db: join(dir, 'omadm.db'),
    adminToken: ADMIN_TOKEN,
    housekeepingMs: 0,
    ...config,
  });
  return {
    server,
    url: server.url,
    dm: `${server.url}/dm`,
    api: new Api(server.url),
    dir,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** The REST API over fetch with the admin token. */
export class Api {
  constructor(
    readonly base: string,
    readonly token: string = ADMIN_TOKEN,
  ) {}

  /** `token: null` sends no Authorization header. */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = this.token,
  ): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  async register(device: TestDevice): Promise<void> {
    const r = await this.call('POST', '/devices', {
      deviceId: device.deviceId,
      username: device.username,
      password: device.password,
      authType: device.auth,
      serverPassword: device.serverPassword,
    });
    if (r.status !== 201)
      throw new Error(`register ${device.deviceId}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  }

  async enqueue(deviceId: string, command: unknown): Promise<number> {
    const r = await this.call<{ id: number }>(
      'POST',
      `/devices/${encodeURIComponent(deviceId)}/commands`,
      command,
    );
    if (r.status !== 201) throw new Error(`enqueue: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  }

  async command(deviceId: string, id: number): Promise<CommandView> {
    const r = await this.call<CommandView>('GET', `/devices/${encodeURIComponent(deviceId)}/commands/${id}`);
    if (r.status !== 200) throw new Error(`command ${id}: HTTP ${r.status}`);
    return r.body;
  }

  async tree(
    deviceId: string,
    path: string,
  ): Promise<{ uri: string; data: string | null; format: string | null }[]> {
    const r = await this.call<{ items: { uri: string; data: string | null; format: string | null }[] }>(
      'GET',
      `/devices/${encodeURIComponent(deviceId)}/tree?path=${encodeURIComponent(path)}`,
    );
    return r.body.items;
  }
}

export interface CommandView {
  readonly id: number;
  readonly state: string;
  readonly status: number | null;
  readonly childStatuses: number[] | null;
  readonly results: { target: string; data: string | null; format: string | null; type: string | null }[];
  readonly sentAt: string | null;
  readonly doneAt: string | null;
}
