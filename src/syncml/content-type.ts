import { RemoteProtocolError } from '../errors.js';

/** The two encodings of a SyncML DM message. */
export type Encoding = 'xml' | 'wbxml';

export const ContentType = {
  DM_XML: 'application/vnd.syncml.dm+xml',
  DM_WBXML: 'application/vnd.syncml.dm+wbxml',
  /** Legacy SyncML types that real clients (libdmclient) still post. */
  LEGACY_XML: 'application/vnd.syncml+xml',
  LEGACY_WBXML: 'application/vnd.syncml+wbxml',
  NOTIFICATION: 'application/vnd.syncml.notification',
} as const;

/** The content type we send for an encoding: always the DM 1.2 one (strict in what we send). */
export function contentTypeFor(encoding: Encoding): string {
  return encoding === 'xml' ? ContentType.DM_XML : ContentType.DM_WBXML;
}

/**
 * Which encoding a Content-Type header names. Accepts the DM and the legacy SyncML types, any case,
 * with parameters (`; charset=UTF-8`). Anything else is refused with HTTP 415.
 */
export function encodingOf(contentType: string | undefined): Encoding {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  switch (base) {
    case ContentType.DM_XML:
    case ContentType.LEGACY_XML:
      return 'xml';
    case ContentType.DM_WBXML:
    case ContentType.LEGACY_WBXML:
      return 'wbxml';
    default:
      throw new RemoteProtocolError(
        'unsupported-content-type',
        `unsupported content type ${JSON.stringify(contentType ?? '')}: expected ${ContentType.DM_XML} or ${ContentType.DM_WBXML}`,
        { status: 415, httpStatus: 415 },
      );
  }
}
