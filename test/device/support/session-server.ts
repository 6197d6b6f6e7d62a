/**
 * Test support: a small DM server made of the real ServerSession engine behind node:http on 127.0.0.1. Real
 * HTTP, real codecs, real engines; nothing mocked. Each session gets a RespURI carrying a token (protocol.md §9)
 * so tests see the device follow it. Tests queue commands per device and read back outcomes and alerts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../../src/platform/clock.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { MemoryNonceStore } from '../../../src/security/nonce.js';
import { HMAC_HEADER } from '../../../src/security/hmac-header.js';
import { ServerSession, type DeviceAccount, type ServerEvent } from '../../../src/session/index.js';
import { decodeMessage, encodeMessage } from '../../../src/syncml/codec.js';
import { contentTypeFor, encodingOf } from '../../../src/syncml/content-type.js';
import type { Command } from '../../../src/syncml/model.js';

export interface ServerRecord {
  readonly deviceId: string;
  readonly sessionId: string;
  readonly events: ServerEvent[];
  readonly paths: string[];
}

export class SessionServer {
  readonly accounts = new Map<string, DeviceAccount>();
  readonly nonces = new MemoryNonceStore();
  readonly sessions: ServerRecord[] = [];
  /** Commands to send in the next session of a device (taken when the session starts). */
  readonly queues = new Map<string, { id: string; command: Command }[]>();
  #server: Server | undefined;
  #live = new Map<string, { engine: ServerSession; record: ServerRecord }>();
  #seq = 0;
  url = '';

  /** `maxMsgSize`: the largest message this server accepts (sent as MaxMsgSize to devices). */
  constructor(readonly options: { readonly maxMsgSize?: number } = {}) {}

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/dm`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  enqueue(deviceId: string, id: string, command: Command): void {
    const queue = this.queues.get(deviceId) ?? [];
    queue.push({ id, command });
    this.queues.set(deviceId, queue);
  }

  /** Every event of every session of a device, in order. */
  events(deviceId: string): ServerEvent[] {
    return this.sessions.filter((s) => s.deviceId === deviceId).flatMap((s) => s.events);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      const body = new Uint8Array(Buffer.concat(chunks));
      const contentType = req.headers['content-type'] ?? '';
      const encoding = encodingOf(contentType);
      const message = decodeMessage(body, contentType);
      const key = `${message.header.source.locUri}\u0000${message.header.sessionId}`;
      let live = this.#live.get(key);
      if (live === undefined) {
        const token = `t${++this.#seq}`;
        const engine = new ServerSession({
          serverUri: this.url,
          respUri: `${this.url}?session=${token}`,
          credentials: { lookup: (deviceId) => this.accounts.get(deviceId) },
          nonces: this.nonces,
          random: cryptoRandom,
          clock: systemClock,
          measure: (m) => encodeMessage(m, contentTypeFor(encoding)).length,
          ...(this.options.maxMsgSize === undefined ? {} : { maxMsgSize: this.options.maxMsgSize }),
        });
        const record: ServerRecord = {
          deviceId: message.header.source.locUri,
          sessionId: message.header.sessionId,
          events: [],
          paths: [],
        };
        for (const queued of this.queues.get(record.deviceId) ?? [])
          engine.enqueue(queued.id, queued.command);
        this.queues.delete(record.deviceId);
        this.sessions.push(record);
        live = { engine, record };
        this.#live.set(key, live);
      }
      live.record.paths.push(req.url ?? '');
      const hmac = req.headers[HMAC_HEADER];
      const step = await live.engine.receive(message, {
        body,
        ...(typeof hmac === 'string' ? { hmac } : {}),
      });
      live.record.events.push(...step.events);
      if (live.engine.state === 'ended') this.#live.delete(key);
      if (step.outgoing === undefined) {
        res.writeHead(204).end();
        return;
      }
      const out = encodeMessage(step.outgoing.message, contentTypeFor(encoding));
      const headers: Record<string, string> = { 'content-type': contentTypeFor(encoding) };
      const mac = step.outgoing.hmacHeader(out);
      if (mac !== undefined) headers[HMAC_HEADER] = mac;
      res.writeHead(200, headers).end(out);
    } catch (error) {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end(error instanceof Error ? error.message : String(error));
    }
  }
}
