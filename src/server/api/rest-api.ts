/**
 * The operators' REST API under `/api/v1` (node:http, no framework). Every route but the OpenAPI document needs
 * `Authorization: Bearer <admin token>`; the events stream also accepts `?access_token=` because browsers'
 * EventSource cannot set headers. Errors are `{code, message, field?}` with the HTTP status.
 *
 * The route table below is the single source of truth; openapi.ts documents the same table, and a test checks
 * that the two agree.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../platform/clock.js';
import { systemClock } from '../../platform/clock.js';
import type { EventBus } from '../events/event-bus.js';
import type { Notifier } from '../notification/device-notifier.js';
import { NotificationDeliveryError } from '../notification/notification-channel.js';
import { storeCommandQueue, type CommandQueue } from '../queue/command-queue.js';
import { parseCommandSpec } from '../store/command-spec.js';
import type { CommandRecord, Store } from '../store/store.js';
import { HttpError, bearerToken, secretsEqual, sendJson } from './http-util.js';
import { openApiDocument } from './openapi.js';
import { EventStreams, parseEventFilter } from './sse.js';
import {
  alertView,
  commandView,
  deviceView,
  messageView,
  parseDevicePatch,
  parseNewDevice,
  parseNotifyQuery,
  parseNotifyRequest,
  parsePageQuery,
  parseTtl,
  queueNotificationView,
  treeValueView,
} from './views.js';
import type { MessageDecoder } from './views.js';

export const API_PREFIX = '/api/v1';

export interface RestApiOptions {
  readonly store: Store;
  readonly events: EventBus;
  readonly adminToken: string;
  readonly clock?: Clock;
  /** Decodes logged messages for `GET …/messages` (e.g. the SyncML codec); without it bodies are shown raw. */
  readonly decodeMessage?: MessageDecoder;
  /** Called after a command is queued, after the answer (notifying belongs in `queue`'s policy). Errors are ignored. */
  readonly onCommandQueued?: (command: CommandRecord) => void | Promise<void>;
  /**
   * Where `POST …/commands` queues, with its policies (e.g. `notifyOnQueue(storeCommandQueue(store), …)`).
   * Default: the plain store queue, which cannot notify.
   */
  readonly queue?: CommandQueue;
  /** Sends Package 0 for `POST …/notify`; without it that route answers 501. */
  readonly notifier?: Notifier;
  readonly sseHeartbeatMs?: number;
}

interface Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body (POST/PATCH), undefined otherwise. */
  readonly body: unknown;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  readonly method: Method;
  /** Path under `/api/v1`, with `{name}` parameters, as in the OpenAPI document. */
  readonly path: string;
  readonly auth: boolean;
}

interface Route extends RouteSpec {
  readonly handle: (ctx: Context) => Promise<void>;
  /** POST without a body is allowed (the body is then undefined). */
  readonly optionalBody?: boolean;
}

/** A request to the API, as the app hands it over: the body already read under the size limit. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void>;

export interface RestApi {
  readonly handle: ApiHandler;
  readonly routes: readonly RouteSpec[];
  /** Ends all open event streams (graceful shutdown). */
  closeStreams(): void;
  readonly openStreams: number;
}

function deviceNotFound(deviceId: string): HttpError {
  return new HttpError(404, 'device-not-found', `no device ${JSON.stringify(deviceId)}`);
}

function commandId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw))
    throw new HttpError(404, 'command-not-found', `no command ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function createRestApi(options: RestApiOptions): RestApi {
  const { store, events } = options;
  const clock = options.clock ?? systemClock;
  const queue = options.queue ?? storeCommandQueue(store);
  const streams = new EventStreams();

  async function requireDevice(deviceId: string): Promise<void> {
    if ((await store.getDevice(deviceId)) === undefined) throw deviceNotFound(deviceId);
  }

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/openapi.json',
      auth: false,
      handle: async ({ res }) => sendJson(res, 200, openApiDocument()),
    },
    {
      method: 'POST',
      path: '/devices',
      auth: true,
      handle: async ({ res, body }) => {
        const device = await store.createDevice(parseNewDevice(body));
        sendJson(res, 201, deviceView(device), {
          location: `${API_PREFIX}/devices/${encodeURIComponent(device.deviceId)}`,
        });
      },
    },
    {
      method: 'GET',
      path: '/devices',
      auth: true,
      handle: async ({ res, query }) => {
        const prefix = query.get('prefix');
        const page = await store.listDevices({
          ...parsePageQuery(query),
          ...(prefix === null ? {} : { idPrefix: prefix }),
        });
        sendJson(res, 200, {
          items: page.items.map(deviceView),
          ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
        });
      },
    },
    {
      method: 'GET',
      path: '/devices/{deviceId}',
      auth: true,
      handle: async ({ res, params }) => {
        const device = await store.getDevice(params['deviceId']!);
        if (device === undefined) throw deviceNotFound(params['deviceId']!);
        sendJson(res, 200, deviceView(device));
      },
    },
    {
      method: 'PATCH',
      path: '/devices/{deviceId}',
      auth: true,
      handle: async ({ res, params, body }) => {
        const device = await store.updateDevice(params['deviceId']!, parseDevicePatch(body));
        if (device === undefined) throw deviceNotFound(params['deviceId']!);
        sendJson(res, 200, deviceView(device));
      },
    },
    {
      method: 'DELETE',
      path: '/devices/{deviceId}',
      auth: true,
      handle: async ({ res, params }) => {
        if (!(await store.deleteDevice(params['deviceId']!))) throw deviceNotFound(params['deviceId']!);
        res.writeHead(204).end();
      },
    },
    {
      method: 'POST',
      path: '/devices/{deviceId}/commands',
      auth: true,
      handle: async ({ res, params, query, body }) => {
        const deviceId = params['deviceId']!;
        const spec = parseCommandSpec(body);
        const ttl = parseTtl(body);
        const notify = parseNotifyQuery(query);
        const queued = await queue.enqueue(deviceId, spec, {
          ...(ttl === undefined ? {} : { expiresAt: clock.now() + ttl * 1000 }),
          ...(notify === undefined ? {} : { notify }),
        });
        if (queued === undefined) throw deviceNotFound(deviceId);
        const { command, notification } = queued;
        sendJson(
          res,
          201,
          {
            id: command.id,
            state: command.state,
            ...(notification === undefined ? {} : { notification: queueNotificationView(notification) }),
          },
          {
            location: `${API_PREFIX}/devices/${encodeURIComponent(deviceId)}/commands/${command.id}`,
          },
        );
        if (options.onCommandQueued !== undefined) {
          Promise.resolve()
            .then(() => options.onCommandQueued!(command))
            .catch(() => undefined);
        }
      },
    },
    {
      method: 'POST',
      path: '/devices/{deviceId}/notify',
      auth: true,
      optionalBody: true,
      handle: async ({ res, params, body }) => {
        const request = parseNotifyRequest(body);
        if (options.notifier === undefined) {
          sendJson(res, 501, {
            code: 'notifications-unavailable',
            message: 'this server sends no notifications',
          });
          return;
        }
        try {
          const sent = await options.notifier.notify(params['deviceId']!, request);
          sendJson(res, 202, {
            sessionId: sent.sessionId,
            uiMode: sent.uiMode,
            notifiedAt: new Date(sent.notifiedAt).toISOString(),
            ...(sent.nonceResyncUntil === undefined
              ? {}
              : { nonceResyncUntil: new Date(sent.nonceResyncUntil).toISOString() }),
          });
        } catch (error) {
          // The device or the network failed, not us: 502 with the reason (sendError hides every 5xx as 500).
          if (error instanceof NotificationDeliveryError && error.httpStatus === 502) {
            sendJson(res, 502, { code: error.code, message: error.message });
            return;
          }
          throw error;
        }
      },
    },
    {
      method: 'GET',
      path: '/devices/{deviceId}/commands',
      auth: true,
      handle: async ({ res, params, query }) => {
        const deviceId = params['deviceId']!;
        await requireDevice(deviceId);
        const page = await store.listCommands(deviceId, parsePageQuery(query));
        sendJson(res, 200, {
          items: page.items.map(commandView),
          ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
        });
      },
    },
    {
      method: 'GET',
      path: '/devices/{deviceId}/commands/{commandId}',
      auth: true,
      handle: async ({ res, params }) => {
        const deviceId = params['deviceId']!;
        const command = await store.getCommand(deviceId, commandId(params['commandId']!));
        if (command === undefined) {
          await requireDevice(deviceId);
          throw new HttpError(404, 'command-not-found', `no command ${params['commandId']} for this device`);
        }
        sendJson(res, 200, commandView(command));
      },
    },
    {
      method: 'DELETE',
      path: '/devices/{deviceId}/commands/{commandId}',
      auth: true,
      handle: async ({ res, params }) => {
        const deviceId = params['deviceId']!;
        const id = commandId(params['commandId']!);
        const outcome = await store.cancelCommand(deviceId, id);
        if (outcome === 'not-found') {
          await requireDevice(deviceId);
          throw new HttpError(404, 'command-not-found', `no command ${id} for this device`);
        }
        if (outcome === 'not-queued') {
          const current = await store.getCommand(deviceId, id);
          throw new HttpError(
            409,
            'command-not-queued',
            `command ${id} is ${current?.state ?? 'gone'}; only queued commands can be cancelled`,
          );
        }
        sendJson(res, 200, { id, state: 'cancelled' });
        events
          .publish({
            type: 'command.done',
            deviceId,
            commandId: id,
            state: 'cancelled',
            status: null,
            at: clock.now(),
          })
          .catch(() => undefined);
      },
    },
    {
      method: 'GET',
      path: '/devices/{deviceId}/tree',
      auth: true,
      handle: async ({ res, params, query }) => {
        const deviceId = params['deviceId']!;
        await requireDevice(deviceId);
        const path = query.get('path') ?? '.';
        const values = await store.getTree(deviceId, path);
        sendJson(res, 200, { path, items: values.map(treeValueView) });
      },
    },
    {
      method: 'GET',
      path: '/devices/{deviceId}/alerts',
      auth: true,
      handle: async ({ res, params, query }) => {
        const deviceId = params['deviceId']!;
        await requireDevice(deviceId);
        const page = await store.listAlerts(deviceId, parsePageQuery(query));
        sendJson(res, 200, {
          items: page.items.map(alertView),
          ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
        });
      },
    },
    {
      method: 'GET',
      path: '/devices/{deviceId}/messages',
      auth: true,
      handle: async ({ res, params, query }) => {
        const deviceId = params['deviceId']!;
        await requireDevice(deviceId);
        const page = await store.listMessages(deviceId, parsePageQuery(query));
        sendJson(res, 200, {
          items: page.items.map((m) => messageView(m, options.decodeMessage)),
          ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
        });
      },
    },
    {
      method: 'GET',
      path: '/events',
      auth: true,
      handle: async ({ req, res, query }) => {
        streams.serve(req, res, events, parseEventFilter(query), options.sseHeartbeatMs);
      },
    },
  ];

  function match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | 'wrong-method' | undefined {
    const segments = path.split('/').slice(1);
    let pathMatched = false;
    for (const route of routes) {
      const pattern = route.path.split('/').slice(1);
      if (pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < pattern.length && ok; i++) {
        const p = pattern[i]!;
        const s = segments[i]!;
        if (p.startsWith('{')) {
          try {
            params[p.slice(1, -1)] = decodeURIComponent(s);
          } catch {
            throw new HttpError(
              400,
              'invalid-path',
              `path segment ${JSON.stringify(s)} is not valid percent-encoding`,
            );
          }
          ok = s.length > 0;
        } else ok = p === s;
      }
      if (!ok) continue;
      pathMatched = true;
      if (route.method === method) return { route, params };
    }
    return pathMatched ? 'wrong-method' : undefined;
  }

  function allowed(path: string): string {
    const methods = new Set<string>();
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      const m = match(method, path);
      if (m !== undefined && m !== 'wrong-method') methods.add(method);
    }
    return [...methods].join(', ');
  }

  function authorize(req: IncomingMessage, url: URL, route: Route): void {
    let token = bearerToken(req);
    if (token === undefined && route.path === '/events')
      token = url.searchParams.get('access_token') ?? undefined;
    if (token === undefined || !secretsEqual(token, options.adminToken)) {
      throw new HttpError(401, 'unauthorized', 'a valid admin bearer token is required', {
        headers: { 'www-authenticate': 'Bearer realm="omadm"' },
      });
    }
  }

  function parseJson(req: IncomingMessage, raw: Buffer): unknown {
    const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && !type.endsWith('+json')) {
      throw new HttpError(
        415,
        'unsupported-media-type',
        `expected application/json, got ${JSON.stringify(type)}`,
      );
    }
    if (raw.length === 0) throw new HttpError(400, 'invalid-json', 'a JSON body is required');
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch (error) {
      throw new HttpError(
        400,
        'invalid-json',
        `body is not valid JSON: ${error instanceof Error ? error.message : ''}`.trim(),
      );
    }
  }

  const handle: ApiHandler = async (req, res, raw) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.slice(API_PREFIX.length) || '/';
    const method = req.method ?? 'GET';
    const found = match(method === 'HEAD' ? 'GET' : method, path);
    if (found === undefined) throw new HttpError(404, 'not-found', `no route ${method} ${url.pathname}`);
    if (found === 'wrong-method') {
      throw new HttpError(405, 'method-not-allowed', `${method} is not allowed on ${url.pathname}`, {
        headers: { allow: allowed(path) },
      });
    }
    const { route, params } = found;
    if (route.auth) authorize(req, url, route);
    const hasBody =
      (method === 'POST' || method === 'PATCH') && !(route.optionalBody === true && raw.length === 0);
    const body = hasBody ? parseJson(req, raw) : undefined;
    await route.handle({ req, res, params, query: url.searchParams, body });
  };

  return {
    handle,
    routes: routes.map(({ method, path, auth }) => ({ method, path, auth })),
    closeStreams: () => streams.endAll(),
    get openStreams() {
      return streams.size;
    },
  };
}
