/**
 * The DM server as a running thing: store + events + DM endpoint + REST API + operator console behind one
 * node:http(s) server, with housekeeping and a graceful shutdown. The composition root `omadm server`
 * (src/cli/server.ts) only turns options into a `ServerConfig`.
 *
 * Routes: the console's three static files at `/` (web-assets.ts), then the HTTP app (http-app.ts): `POST /dm`
 * (also `/dm/…`, so RespURIs may carry a path) to the DM endpoint (dm/), `GET /healthz`, `/api/v1/…`.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../platform/clock.js';
import { systemClock } from '../platform/clock.js';
import type { Random } from '../platform/random.js';
import { cryptoRandom } from '../platform/random.js';
import { decodeMessage } from '../syncml/codec.js';
import type { EventBus } from './events/event-bus.js';
import { InProcessEventBus } from './events/in-process-event-bus.js';
import { PostgresEventBus } from './events/postgres-event-bus.js';
import { DEFAULT_MAX_BODY_BYTES } from './api/http-util.js';
import { createServerApp } from './http-app.js';
import type { LockoutPolicy } from './store/store.js';
import { openPostgresStore, openSqliteStore, type SqlStore } from './store/index.js';
import { createDmHandler } from './dm/dm-handler.js';
import { DmExchange, unansweredEvents } from './dm/exchange.js';
import type { NotificationChannel } from './notification/notification-channel.js';
import { serverNotifications } from './notification/server-notifications.js';
import { loadWebAssets } from './web-assets.js';

export interface ServerConfig {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 8080; 0 picks a free port. */
  readonly port?: number;
  /** SQLite file (default ./omadm.db) or `postgres://…` (an optional `?schema=NAME` picks a schema). */
  readonly db?: string;
  readonly adminToken: string;
  /** Default `omadm`. */
  readonly serverId?: string;
  /** The URL devices reach this server at (e.g. behind a load balancer); sent as RespURI `<url>/dm`. */
  readonly publicUrl?: string;
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string };
  readonly lockout?: LockoutPolicy;
  /** Failed authentications per session answered with a new challenge after the first (default 3, protocol.md §10). */
  readonly maxAuthAttempts?: number;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Largest request body on /dm and /api/v1. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Housekeeping period (expiry, orphaned sessions, message retention). Default 60 s; 0 disables. */
  readonly housekeepingMs?: number;
  /** A session not heard from for this long is abandoned and its commands requeued. Default 10 minutes. */
  readonly sessionIdleMs?: number;
  /**
   * Sessions a command is sent in (crash recovery included) before, still unanswered, it fails with status null and
   * reason `unanswered` instead of going out again. Default 3.
   */
  readonly maxDeliveries?: number;
  /** Longest wait for requests in flight on close before their connections are cut. Default 10 s. */
  readonly drainMs?: number;
  /** Delivers Package 0 (`POST …/notify`, notify-on-queue). Default: udp:, http:, https: (createNotificationChannel). */
  readonly notificationChannel?: NotificationChannel & { supports?(target: string): boolean };
  /**
   * How long a device sent a nonce resync trigger (`POST …/notify` with `nonceResync`) may answer it with
   * credentials built on the special nonce (security.md §8.3). Default 10 minutes.
   */
  readonly nonceResyncOfferMs?: number;
  /** Where the server reports its own failures (never secrets). Default: nowhere. */
  readonly log?: (line: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly store: SqlStore;
  readonly events: EventBus;
  readonly http: Server;
  /** Stops accepting, waits for requests in flight, then closes the store and the bus. Idempotent. */
  close(): Promise<void>;
}

/** Splits `postgres://…?schema=x` into the connection string pg understands and the schema. */
export function parsePostgresLocation(location: string): { connection: string; schema?: string } {
  const url = new URL(location);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  return schema === null || schema === ''
    ? { connection: url.toString() }
    : { connection: url.toString(), schema };
}

export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

function formatError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const clock = config.clock ?? systemClock;
  const random = config.random ?? cryptoRandom;
  const log = config.log ?? (() => undefined);
  const location = config.db ?? './omadm.db';
  const limit = config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  let store: SqlStore;
  let events: EventBus;
  if (isPostgresLocation(location)) {
    const pgLocation = parsePostgresLocation(location);
    store = await openPostgresStore({
      connection: pgLocation.connection,
      clock,
      ...(config.maxDeliveries === undefined ? {} : { maxDeliveries: config.maxDeliveries }),
      ...(pgLocation.schema === undefined ? {} : { schema: pgLocation.schema }),
    });
    try {
      // Processes sharing a schema share a channel; other schemas (other tenants, parallel tests) stay apart.
      const channel =
        pgLocation.schema === undefined ? undefined : `omadm_events_${pgLocation.schema}`.slice(0, 63);
      events = await PostgresEventBus.connect({
        connection: pgLocation.connection,
        ...(channel === undefined ? {} : { channel }),
      });
    } catch (error) {
      await store.close();
      throw error;
    }
  } else {
    store = await openSqliteStore(location, {
      clock,
      ...(config.maxDeliveries === undefined ? {} : { maxDeliveries: config.maxDeliveries }),
    });
    events = new InProcessEventBus();
  }

  const serverId = config.serverId ?? 'omadm';
  const publicUrl = config.publicUrl?.replace(/\/+$/, '');
  const notifications = serverNotifications({
    store,
    events,
    serverId,
    clock,
    random,
    ...(config.notificationChannel === undefined ? {} : { channel: config.notificationChannel }),
    ...(config.nonceResyncOfferMs === undefined ? {} : { nonceResyncOfferMs: config.nonceResyncOfferMs }),
    onError: (error) => log(`notification bookkeeping failed: ${formatError(error)}`),
  });
  const exchange = new DmExchange({
    store,
    // session.started answering a Package 0 gets notifiedAt and latencyMs.
    events: notifications.dmEvents,
    clock,
    random,
    serverId,
    ...(publicUrl === undefined ? {} : { respUri: `${publicUrl}/dm` }),
    ...(config.lockout === undefined ? {} : { lockout: config.lockout }),
    ...(config.maxAuthAttempts === undefined ? {} : { maxAuthAttempts: config.maxAuthAttempts }),
    maxMsgSize: limit,
    onError: (error) => log(`event publish failed: ${formatError(error)}`),
  });
  const dm = createDmHandler({
    exchange,
    maxBodyBytes: limit,
    onError: (error) => log(`DM request failed: ${formatError(error)}`),
  });
  let ready = false;
  const app = createServerApp({
    store,
    events,
    adminToken: config.adminToken,
    dmHandler: dm,
    queue: notifications.queue,
    notifier: notifications.notifier,
    maxBodyBytes: limit,
    clock,
    decodeMessage: (bytes, contentType) => decodeMessage(bytes, contentType),
    isReady: () => ready,
    onError: (error, req) =>
      log(`${req.method ?? '?'} ${(req.url ?? '').split('?')[0] ?? ''} failed: ${formatError(error)}`),
  });
  const assets = loadWebAssets();
  // The console's three files first; everything else (/healthz, /api/v1, /dm, 404s) is the app's.
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (assets(req, res)) return;
    app(req, res);
  };
  const http: Server =
    config.tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, handler);
  http.keepAliveTimeout = 5_000;

  const host = config.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port ?? 8080, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await events.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
  const port = (http.address() as AddressInfo).port;
  const scheme = config.tls === undefined ? 'http' : 'https';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const housekeepingMs = config.housekeepingMs ?? 60_000;
  /** Time each housekeeping run may start new message-log retention chunks for (≈ 0.4 % of a minute). */
  const HOUSEKEEPING_PRUNE_BUDGET_MS = 250;
  const idleMs = config.sessionIdleMs ?? 10 * 60_000;
  const housekeeping = async (): Promise<void> => {
    try {
      await store.expireDue();
      const sweep = await store.requeueOrphaned({ idleMs });
      const at = clock.now();
      for (const { deviceId, id } of sweep.unanswered) {
        for (const event of unansweredEvents(deviceId, [id], at)) await events.publish(event);
      }
      // A slice of the message log's retention per run, resumed by the next one: a full pass over millions of rows
      // would hold SQLite (and so the event loop) for seconds every minute.
      await store.pruneMessages(undefined, { budgetMs: HOUSEKEEPING_PRUNE_BUDGET_MS });
    } catch (error) {
      log(`housekeeping failed: ${formatError(error)}`);
    }
  };
  const timer = housekeepingMs > 0 ? setInterval(() => void housekeeping(), housekeepingMs) : undefined;
  timer?.unref();
  ready = true;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (timer !== undefined) clearInterval(timer);
      // New requests get 503 (Connection: close); event streams end; requests in flight finish.
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      const drainedInTime = await app.close({ timeoutMs: config.drainMs ?? 10_000 });
      if (!drainedInTime) log('requests still in flight after the drain timeout; closing their connections');
      http.closeIdleConnections();
      const idle = setInterval(() => http.closeIdleConnections(), 50);
      const deadline = setTimeout(() => http.closeAllConnections(), drainedInTime ? 2_000 : 0);
      await closed;
      clearInterval(idle);
      clearTimeout(deadline);
      await events.close().catch((error: unknown) => log(`closing events failed: ${formatError(error)}`));
      await store.close();
    })();
    return closing;
  };

  return { url, host, port, store, events, http, close };
}
