/**
 * `POST /dm`: the HTTP side of the DM endpoint. It owns only HTTP concerns (method, content type, body size,
 * decoding, the `x-syncml-hmac` header, error mapping) and hands each decoded message to a `DmExchange`, which owns
 * the protocol and the store. Whatever the peer sends, it gets an HTTP answer naming who is at fault; nothing the
 * peer sends crashes the process.
 *
 * - Accepted types: `application/vnd.syncml.dm+xml|+wbxml` and the legacy `application/vnd.syncml+xml|+wbxml`
 *   (libdmclient posts these); the answer uses the request's encoding with the DM content type.
 * - Oversize body → 413; unsupported content type → 415; undecodable → 400 with `{code, message}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OmadmError, RemoteProtocolError } from '../../errors.js';
import { decodeMessage } from '../../syncml/codec.js';
import { contentTypeFor, encodingOf, type Encoding } from '../../syncml/content-type.js';
import type { SyncMLMessage } from '../../syncml/model.js';
import { HMAC_HEADER } from '../../security/hmac-header.js';

/** One decoded DM request. */
export interface DmRequest {
  readonly message: SyncMLMessage;
  /** Exact bytes as received (HMAC is verified over them). */
  readonly body: Uint8Array;
  readonly encoding: Encoding;
  readonly contentType: string;
  readonly hmacHeader: string | undefined;
}

/** The answer to send: the encoded message and, when the session uses HMAC, the header value over those bytes. */
export interface DmReply {
  readonly body: Uint8Array;
  readonly hmacHeader?: string;
}

export interface DmExchangePort {
  handle(request: DmRequest): Promise<DmReply>;
}

export interface DmHandlerOptions {
  readonly exchange: DmExchangePort;
  /** Largest request body accepted, bytes. Default 1 MiB (the codecs' default limit). */
  readonly maxBodyBytes?: number;
  /** Called with errors that are our fault (HTTP 5xx), for logging. */
  readonly onError?: (error: unknown) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

class PayloadTooLargeError extends RemoteProtocolError {
  constructor(limit: number) {
    super('payload-too-large', `request body larger than ${limit} bytes`, { status: 413, httpStatus: 413 });
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new PayloadTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      // node:http hands each request its own chunks: one chunk (the usual check-in) is used as it is, no copy.
      const only = chunks.length === 1 ? chunks[0] : undefined;
      const body = only ?? Buffer.concat(chunks, size);
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ code, message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The `(req, res)` handler for `POST /dm`. */
export function createDmHandler(
  options: DmHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (req, res) => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      sendError(
        res,
        405,
        'method-not-allowed',
        `${req.method ?? '?'} ${req.url ?? ''}: the DM endpoint only accepts POST`,
      );
      return;
    }
    try {
      const contentType = req.headers['content-type'] ?? '';
      const encoding = encodingOf(contentType);
      const body = await readBody(req, limit);
      if (body.length === 0)
        throw new RemoteProtocolError('empty-body', 'empty request body: expected a SyncML DM message');
      const message = decodeMessage(body, contentType, { maxBytes: limit });
      const hmac = req.headers[HMAC_HEADER];
      const reply = await options.exchange.handle({
        message,
        body,
        encoding,
        contentType,
        hmacHeader: Array.isArray(hmac) ? hmac[0] : hmac,
      });
      const headers: Record<string, string | number> = {
        'content-type': contentTypeFor(encoding),
        'content-length': reply.body.byteLength,
        'cache-control': 'no-store',
      };
      if (reply.hmacHeader !== undefined) headers[HMAC_HEADER] = reply.hmacHeader;
      res.writeHead(200, headers);
      res.end(reply.body);
    } catch (error) {
      if (error instanceof OmadmError && error.httpStatus < 500) {
        if (error.httpStatus === 413) res.setHeader('connection', 'close');
        sendError(res, error.httpStatus, error.code, error.message);
        // Stop reading an oversize body we will not use.
        if (error.httpStatus === 413) req.resume();
        return;
      }
      options.onError?.(error);
      const status = error instanceof OmadmError ? error.httpStatus : 500;
      sendError(
        res,
        status,
        error instanceof OmadmError ? error.code : 'internal-error',
        'the server failed to process the message; see its log',
      );
    }
  };
}
