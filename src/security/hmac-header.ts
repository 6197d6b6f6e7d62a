/** The `x-syncml-hmac` transport header (security.md §5). */

export const HMAC_HEADER = 'x-syncml-hmac';

export interface HmacHeader {
  /** Always `MD5` in DM 1.2; a missing attribute defaults to MD5. */
  readonly algorithm: string;
  readonly username: string;
  readonly mac: string;
}

/** `algorithm=MD5, username="<name>", mac=<base64>`. Quotes and backslashes in the name are escaped. */
export function buildHmacHeader(username: string, mac: string): string {
  const quoted = username.replace(/["\\]/g, (c) => `\\${c}`);
  return `algorithm=MD5, username="${quoted}", mac=${mac}`;
}

/**
 * Parses liberally: attributes in any order, any case, with or without spaces after commas, quoted or bare
 * values. Returns undefined when username or mac is missing or the algorithm is not MD5.
 */
export function parseHmacHeader(value: string | undefined): HmacHeader | undefined {
  if (value === undefined) return undefined;
  const attributes = new Map<string, string>();
  const pattern = /\s*([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*?))\s*(?:,|$)/gy;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < value.length && (match = pattern.exec(value)) !== null) {
    const name = match[1]!.toLowerCase();
    const raw = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '');
    attributes.set(name, raw);
    if (match[0].length === 0) break;
  }
  const algorithm = attributes.get('algorithm') ?? 'MD5';
  const username = attributes.get('username');
  const mac = attributes.get('mac');
  if (algorithm.toUpperCase() !== 'MD5' || username === undefined || mac === undefined || mac === '')
    return undefined;
  return { algorithm: 'MD5', username, mac };
}
