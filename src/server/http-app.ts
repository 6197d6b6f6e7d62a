/**
 * The server's HTTP composition: one node:http request listener routing
 *   `/healthz`  → 200 `{status: "ok"}` when ready (503 while starting or draining),
 *   `/api/v1/*` → the REST API,
 *   `/dm`, `/dm/…` → the injected DM handler (404 until one is supplied; it reads the body itself),
 * with a request body size limit (413) and graceful shutdown: `close()` refuses new requests (503,
 * `Connection: close`), ends event streams and resolves once in-flight requests have finished.
 *
 *     const app = createServerApp({ store, events, adminToken });
 *     const server = http.createServer(app);
 *     process.on('SIGTERM', async () => { server.close(); await app.close(); });
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OmadmError } from '../errors.js';
import type { Clock } from '../platform/clock.js';
import type { EventBus } from './events/event-bus.js';
import { DEFAULT_MAX_BODY_BYTES, HttpError, readBody, sendError, sendJson } from './api/http-util.js';
import { API_PREFIX, createRestApi } from './api/rest-api.js';
import type { RestApi, RestApiOptions } from './api/rest-api.js';
import type { MessageDecoder } from './api/views.js';
import type { Notifier } from './notification/device-notifier.js';
import type { CommandQueue } from './queue/command-queue.js';
import type { CommandRecord, Store } from './store/store.js';

/**
 * Handles one DM request (e.g. `createDmHandler` of src/server/dm/dm-handler.ts). The app refuses bodies whose
 * declared Content-Length is over the limit (413) before calling it; the handler reads `req` itself and enforces
 * the same limit on chunked bodies. Must answer through `res`.
 */
export type DmHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface ServerAppOptions {
  readonly store: Store;
  readonly events: EventBus;
  /** The REST API's bearer token. */
  readonly adminToken: string;
  readonly dmHandler?: DmHandler;
  /** Largest request body accepted on any route. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  readonly clock?: Clock;
  readonly decodeMessage?: MessageDecoder;
  readonly onCommandQueued?: (command: CommandRecord) => void | Promise<void>;
  /** See RestApiOptions: the queue (with its policies) and the Package 0 sender. */
  readonly queue?: CommandQueue;
  readonly notifier?: Notifier;
  /** Whether the app should answer /healthz with 200 (e.g. after startup work). Default: always. */
  readonly isReady?: () => boolean;
  readonly sseHeartbeatMs?: number;
  /** Told about failures that are the server's fault (answered 500 without details), for logging. */
  readonly onError?: (error: unknown, req: IncomingMessage) => void;
}

export interface ServerApp {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Requests being handled now (event streams excluded). */
  readonly inFlight: number;
  readonly api: RestApi;
  /**
   * Graceful shutdown: new requests get 503, event streams end, and the promise resolves when in-flight requests
   * have finished, or after `timeoutMs` (default 10 s) with `false`.
   */
  close(options?: { timeoutMs?: number }): Promise<boolean>;
}

export function createServerApp(options: ServerAppOptions): ServerApp {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const apiOptions: RestApiOptions = {
    store: options.store,
    events: options.events,
    adminToken: options.adminToken,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.decodeMessage === undefined ? {} : { decodeMessage: options.decodeMessage }),
    ...(options.onCommandQueued === undefined ? {} : { onCommandQueued: options.onCommandQueued }),
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    ...(options.notifier === undefined ? {} : { notifier: options.notifier }),
    ...(options.sseHeartbeatMs === undefined ? {} : { sseHeartbeatMs: options.sseHeartbeatMs }),
  };
  const api = createRestApi(apiOptions);
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/healthz') {
      const ready = !draining && (options.isReady?.() ?? true);
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : draining ? 'draining' : 'starting' });
      return;
    }
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) {
      const body = await readBody(req, maxBodyBytes);
      await api.handle(req, res, body);
      return;
    }
    if (path === '/dm' || path.startsWith('/dm/')) {
      if (options.dmHandler === undefined) {
        throw new HttpError(404, 'not-found', 'no DM endpoint on this server');
      }
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        throw new HttpError(413, 'body-too-large', `request body is larger than ${maxBodyBytes} bytes`, {
          headers: { connection: 'close' },
        });
      }
      await options.dmHandler(req, res);
      return;
    }
    throw new HttpError(404, 'not-found', `no route ${req.method ?? 'GET'} ${path}`);
  }

  const app = ((req: IncomingMessage, res: ServerResponse): void => {
    if (draining) {
      sendJson(
        res,
        503,
        { code: 'shutting-down', message: 'the server is shutting down' },
        { connection: 'close' },
      );
      req.resume();
      return;
    }
    inFlight++;
    let counted = true;
    const done = (): void => {
      if (!counted) return;
      counted = false;
      inFlight--;
      if (draining && inFlight === 0) drained?.();
    };
    res.on('close', done);
    res.on('finish', done);
    route(req, res)
      .then(() => {
        // An event stream is long-lived: it does not hold up draining (close() ends it).
        if (String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) done();
      })
      .catch((error: unknown) => {
        if (!(error instanceof OmadmError) || error.httpStatus >= 500) options.onError?.(error, req);
        sendError(res, error);
        // A refused body is not read further: the connection closes once the answer is out.
        if (error instanceof HttpError && error.httpStatus === 413) res.on('finish', () => req.destroy());
      });
  }) as ServerApp;

  Object.defineProperty(app, 'inFlight', { get: () => inFlight });
  Object.defineProperty(app, 'api', { value: api });
  app.close = async ({ timeoutMs = 10_000 } = {}) => {
    draining = true;
    api.closeStreams();
    if (inFlight === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      drained = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  };
  return app;
}
