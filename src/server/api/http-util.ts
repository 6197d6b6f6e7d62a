/** Small node:http helpers shared by the REST API and the app: bodies with a size limit, JSON answers, errors. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OmadmError } from '../../errors.js';

/** An HTTP error answered as `{code, message, field?}`. */
export class HttpError extends OmadmError {
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    httpStatus: number,
    code: string,
    message: string,
    options: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(code, message, { httpStatus });
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a whole request body, refusing more than `limit` bytes with 413 (early, from Content-Length, when the
 * client declares it). On refusal the rest of the body is not read.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = (): HttpError =>
    new HttpError(413, 'body-too-large', `request body is larger than ${limit} bytes`, {
      headers: { connection: 'close' },
    });
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** JSON with Uint8Array values as Base64 strings (decoded messages carry binary Data). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
  );
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = toJson(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Answers any thrown value: OmadmErrors with their HTTP status and code, anything else as 500 `internal`. */
export function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof OmadmError && error.httpStatus < 500) {
    const field = (error as { field?: unknown }).field;
    const body =
      typeof field === 'string'
        ? { code: error.code, message: error.message, field }
        : { code: error.code, message: error.message };
    sendJson(res, error.httpStatus, body, error instanceof HttpError ? { ...error.headers } : {});
    return;
  }
  // Internals are not disclosed to clients.
  sendJson(res, 500, { code: 'internal', message: 'internal server error' });
}

/** Constant-time comparison of a presented secret with the expected one (lengths hidden by hashing both). */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && presented.length === expected.length;
}

/** The bearer token of an Authorization header, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
