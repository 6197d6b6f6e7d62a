/**
 * One error root for the whole library. Every error says who is at fault and what to answer:
 * - LocalProtocolError: we (the caller of this library) asked for something illegal.
 * - RemoteProtocolError: the peer sent something we refuse; `status` is the SyncML status to answer with.
 * - DecodeError: bytes that are not an acceptable SyncML DM message (a RemoteProtocolError subtype).
 * - AuthenticationError: credentials missing, wrong or stale.
 * `code` is stable and machine-readable; messages are for humans and may change.
 */
export class OmadmError extends Error {
  readonly code: string;
  /** SyncML status code to answer with, when the error maps to one. */
  readonly status: number | undefined;
  /** HTTP status to answer with, when the error surfaces over HTTP. */
  readonly httpStatus: number;

  constructor(
    code: string,
    message: string,
    options: { status?: number; httpStatus?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.httpStatus = options.httpStatus ?? 500;
  }
}

/** We broke the protocol (a bug in the caller or an illegal move of a state machine). */
export class LocalProtocolError extends OmadmError {
  constructor(code: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(code, message, { ...options, httpStatus: 500 });
  }
}

/** The peer broke the protocol. */
export class RemoteProtocolError extends OmadmError {
  constructor(
    code: string,
    message: string,
    options: { status?: number; httpStatus?: number; cause?: unknown } = {},
  ) {
    super(code, message, { httpStatus: 400, ...options });
  }
}

/** Bytes that do not decode to an acceptable SyncML DM message. `where` locates the problem. */
export class DecodeError extends RemoteProtocolError {
  /** Byte offset (WBXML) or line:column (XML) or element path where the problem was found. */
  readonly where: string | undefined;

  constructor(
    code: string,
    message: string,
    where?: string,
    options: { cause?: unknown; httpStatus?: number; status?: number } = {},
  ) {
    super(code, where === undefined ? message : `${message} (at ${where})`, { status: 400, ...options });
    this.where = where;
  }
}

/** An encoder was handed a message it cannot represent (our fault). */
export class EncodeError extends LocalProtocolError {}

/** Credentials were missing, wrong, stale or of the wrong type. */
export class AuthenticationError extends RemoteProtocolError {
  constructor(code: string, message: string, options: { status?: number } = {}) {
    super(code, message, { status: options.status ?? 401, httpStatus: 401 });
  }
}
