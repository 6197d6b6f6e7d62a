/** Status codes (representation.md §7), alert codes (protocol.md §13.3) and auth types (security.md §2). */

export const StatusCode = {
  IN_PROGRESS: 101,
  OK: 200,
  ACCEPTED_FOR_PROCESSING: 202,
  AUTHENTICATION_ACCEPTED: 212,
  CHUNKED_ITEM_ACCEPTED: 213,
  OPERATION_CANCELLED: 214,
  NOT_EXECUTED: 215,
  ATOMIC_ROLLBACK_OK: 216,
  NOT_MODIFIED: 304,
  BAD_REQUEST: 400,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  COMMAND_NOT_ALLOWED: 405,
  OPTIONAL_FEATURE_NOT_SUPPORTED: 406,
  MISSING_CREDENTIALS: 407,
  REQUEST_TIMEOUT: 408,
  INCOMPLETE_COMMAND: 412,
  REQUEST_ENTITY_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  REQUESTED_SIZE_TOO_BIG: 416,
  ALREADY_EXISTS: 418,
  DEVICE_FULL: 420,
  SIZE_MISMATCH: 424,
  PERMISSION_DENIED: 425,
  COMMAND_FAILED: 500,
  COMMAND_NOT_IMPLEMENTED: 501,
  DTD_VERSION_NOT_SUPPORTED: 505,
  PROCESSING_ERROR: 506,
  ATOMIC_FAILED: 507,
  DATA_STORE_FAILURE: 510,
  PROTOCOL_VERSION_NOT_SUPPORTED: 513,
  ATOMIC_ROLLBACK_FAILED: 516,
  ATOMIC_RESPONSE_TOO_LARGE: 517,
} as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

/** 2xx codes are success; everything else is a failure of the command. */
export function isSuccessStatus(code: number): boolean {
  return code >= 200 && code < 300;
}

export const AlertCode = {
  DISPLAY: 1100,
  CONFIRM_OR_REJECT: 1101,
  TEXT_INPUT: 1102,
  SINGLE_CHOICE: 1103,
  MULTIPLE_CHOICE: 1104,
  SERVER_INITIATED_MGMT: 1200,
  CLIENT_INITIATED_MGMT: 1201,
  NEXT_MESSAGE: 1222,
  SESSION_ABORT: 1223,
  CLIENT_EVENT: 1224,
  NO_END_OF_DATA: 1225,
  GENERIC_ALERT: 1226,
} as const;
export type AlertCode = (typeof AlertCode)[keyof typeof AlertCode];

export function isUserInteractionAlert(code: number): boolean {
  return code >= AlertCode.DISPLAY && code <= AlertCode.MULTIPLE_CHOICE;
}

/** Meta/Type strings for Cred and Chal. Case matters: `syncml:auth-MAC` is upper-case MAC (security.md §2). */
export const AuthType = {
  BASIC: 'syncml:auth-basic',
  MD5: 'syncml:auth-md5',
  HMAC: 'syncml:auth-MAC',
} as const;
export type AuthType = (typeof AuthType)[keyof typeof AuthType];

/** Short names used in configuration, REST API and CLI. */
export type AuthName = 'basic' | 'md5' | 'hmac';
export const AUTH_TYPE_BY_NAME: Readonly<Record<AuthName, AuthType>> = {
  basic: AuthType.BASIC,
  md5: AuthType.MD5,
  hmac: AuthType.HMAC,
};

export function authNameOf(type: string): AuthName | undefined {
  switch (type.toLowerCase()) {
    case 'syncml:auth-basic':
      return 'basic';
    case 'syncml:auth-md5':
      return 'md5';
    case 'syncml:auth-mac':
      return 'hmac';
    default:
      return undefined;
  }
}

/** Meta/Format values (tree.md §4). */
export const Formats = [
  'b64',
  'bin',
  'bool',
  'chr',
  'int',
  'node',
  'null',
  'xml',
  'date',
  'time',
  'float',
] as const;
export type Format = (typeof Formats)[number];

/** Meta/Type for TNDS payloads (tree.md §9). */
export const TNDS_XML_TYPE = 'application/vnd.syncml.dmtnds+xml';
export const TNDS_WBXML_TYPE = 'application/vnd.syncml.dmtnds+wbxml';
