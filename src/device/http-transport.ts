/**
 * The device's HTTP side (STYLE.md: the application does the HTTP, the engine turns packets into packets).
 * One POST per client message with node's fetch: the encoded body, the DM content type, the x-syncml-hmac
 * header when HMAC is in use (security.md §5); the response body is decoded with the content type it came with.
 */
import { OmadmError, RemoteProtocolError } from '../errors.js';
import { HMAC_HEADER } from '../security/hmac-header.js';
import { decodeMessage } from '../syncml/codec.js';
import type { DecodeLimits } from '../syncml/limits.js';
import type { SyncMLMessage } from '../syncml/model.js';

/** A transport failure: the server could not be reached or did not answer with a DM message. */
export class TransportError extends OmadmError {
  constructor(code: string, message: string, options: { httpStatus?: number; cause?: unknown } = {}) {
    super(code, message, {
      httpStatus: options.httpStatus ?? 502,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
  }
}

export interface HttpExchange {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  readonly hmac: string | undefined;
  readonly message: SyncMLMessage;
}

export interface PostOptions {
  readonly url: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly hmac: string | undefined;
  readonly timeoutMs: number;
  readonly limits?: Partial<DecodeLimits>;
  /** Injected fetch (defaults to the global one). */
  readonly fetch?: typeof fetch;
}

/** Posts one message and decodes the answer. Throws TransportError (network, HTTP status, size) or DecodeError. */
export async function postMessage(options: PostOptions): Promise<HttpExchange> {
  const headers: Record<string, string> = {
    'content-type': options.contentType,
    accept: options.contentType,
  };
  if (options.hmac !== undefined) headers[HMAC_HEADER] = options.hmac;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      headers,
      body: options.body,
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (cause) {
    const why =
      cause instanceof Error && cause.name === 'TimeoutError'
        ? `no answer within ${options.timeoutMs} ms`
        : describeCause(cause);
    throw new TransportError('http-unreachable', `POST ${redactUrl(options.url)} failed: ${why}`, { cause });
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) {
    const text = new TextDecoder().decode(bytes.subarray(0, 200)).split('\n')[0]?.trim() ?? '';
    throw new TransportError(
      'http-status',
      `server answered HTTP ${response.status}${text === '' ? '' : `: ${text}`}`,
      {
        httpStatus: response.status,
      },
    );
  }
  const contentType = response.headers.get('content-type') ?? '';
  const maxBytes = options.limits?.maxBytes;
  if (maxBytes !== undefined && bytes.length > maxBytes) {
    // protocol.md §7: the server MUST keep its messages within the MaxMsgSize we announced.
    throw new RemoteProtocolError(
      'message-too-large',
      `server message of ${bytes.length} bytes exceeds our MaxMsgSize ${maxBytes}`,
      { status: 413 },
    );
  }
  const message = decodeMessage(bytes, contentType, options.limits);
  return { bytes, contentType, hmac: response.headers.get(HMAC_HEADER) ?? undefined, message };
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as { cause?: unknown }).cause;
  if (inner instanceof Error && inner.message !== '') return `${cause.message} (${inner.message})`;
  return cause.message;
}

/** URLs may carry session tokens (RespURI, protocol.md §9): show scheme, host and path only. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search === '' ? '' : '?…'}`;
  } catch {
    return '<invalid URL>';
  }
}
