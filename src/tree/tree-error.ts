import { RemoteProtocolError } from '../errors.js';

/**
 * A management command the tree refuses. The server sent it, so it is the server's fault (a
 * RemoteProtocolError); `status` is the DM status code to answer with and `uri` the node at issue.
 */
export class TreeError extends RemoteProtocolError {
  readonly uri: string | undefined;
  override readonly status: number;

  constructor(status: number, code: string, message: string, uri?: string) {
    super(code, uri === undefined ? message : `${message}: ${uri}`, { status });
    this.status = status;
    this.uri = uri;
  }
}

/** Status code of anything thrown while running a command: TreeError's own, else 500 (our failure). */
export function statusOf(error: unknown): number {
  return error instanceof TreeError ? error.status : 500;
}
