/**
 * `GET /api/v1/events`: Server-Sent Events from the EventBus. Each event is sent as
 * `id: <n>` / `event: <type>` / `data: <json>`; a comment line (`: heartbeat`) every `heartbeatMs` keeps proxies from
 * timing the stream out. The stream ends cleanly when the client goes away or the app closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SERVER_EVENT_TYPES } from '../events/event-bus.js';
import type { EventBus, EventFilter, ServerEventType } from '../events/event-bus.js';
import { HttpError } from './http-util.js';

export const DEFAULT_HEARTBEAT_MS = 15_000;

export function parseEventFilter(query: URLSearchParams): EventFilter {
  const filter: { deviceId?: string; types?: ServerEventType[] } = {};
  const deviceId = query.get('deviceId');
  if (deviceId !== null && deviceId !== '') filter.deviceId = deviceId;
  const types = query.get('types');
  if (types !== null && types !== '') {
    const list = types.split(',').map((t) => t.trim());
    for (const t of list) {
      if (!(SERVER_EVENT_TYPES as readonly string[]).includes(t)) {
        throw new HttpError(400, 'invalid-query', `types: unknown event type ${JSON.stringify(t)}`, {
          field: 'types',
        });
      }
    }
    filter.types = list as ServerEventType[];
  }
  return filter;
}

/** Open SSE streams, so the app can end them all when it closes. */
export class EventStreams {
  readonly #open = new Set<() => void>();

  get size(): number {
    return this.#open.size;
  }

  serve(
    req: IncomingMessage,
    res: ServerResponse,
    bus: EventBus,
    filter: EventFilter,
    heartbeatMs: number = DEFAULT_HEARTBEAT_MS,
  ): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\nretry: 3000\n\n');
    let n = 0;
    const unsubscribe = bus.subscribe((event) => {
      n++;
      res.write(`id: ${n}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    }, filter);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.#open.delete(end);
      if (!res.writableEnded) res.end();
    };
    this.#open.add(end);
    req.on('close', end);
    res.on('close', end);
  }

  /** Ends every open stream. */
  endAll(): void {
    for (const end of [...this.#open]) end();
  }
}
