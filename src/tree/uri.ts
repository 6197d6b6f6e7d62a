/**
 * DM URIs (tree.md §1): `.`, `./A/B` and `A/B` name nodes relative to the root; `?prop=NAME` and `?list=…`
 * address properties and tree exchange. Names are kept decoded; URIs are written with `%HH` escaping.
 */
import { TreeError } from './tree-error.js';

/** DevDetail/URI limits (tree.md §1): 0 or undefined = unlimited. */
export interface UriLimits {
  readonly maxDepth?: number;
  readonly maxTotLen?: number;
  readonly maxSegLen?: number;
}

export type UriQuery =
  { readonly kind: 'prop'; readonly name: string } | { readonly kind: 'list'; readonly spec: string };

export interface ParsedUri {
  /** Decoded node names below the root; empty for `.`. */
  readonly segments: readonly string[];
  readonly query?: UriQuery;
}

// tree.md §1 / RFC 2396 pchar: alnum, `: @ & = + $ ,`, unreserved marks `- _ . ! ~ * ' ( )`.
const PCHAR = /^[A-Za-z0-9:@&=+$,\-_.!~*'()]$/;

function bad(raw: string, why: string): TreeError {
  return new TreeError(400, 'bad-uri', `malformed URI (${why})`, raw);
}

function decodeSegment(raw: string, segment: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(segment)) throw bad(raw, `bad %-escape in segment "${segment}"`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f#]/.test(segment)) throw bad(raw, `illegal character in segment "${segment}"`);
  try {
    return decodeURIComponent(segment);
  } catch {
    throw bad(raw, `%-escapes that are not UTF-8 in segment "${segment}"`);
  }
}

/** Parses and checks a URI from a command. Throws TreeError 400 (malformed), 414 (limits) or 406 (query). */
export function parseUri(raw: string, limits: UriLimits = {}): ParsedUri {
  if (limits.maxTotLen && raw.length > limits.maxTotLen) {
    // tree.md §1: MaxTotLen counts the whole URI, properties included → 414.
    throw new TreeError(414, 'uri-too-long', `URI longer than MaxTotLen ${limits.maxTotLen}`, raw);
  }
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? undefined : parseQuery(raw, raw.slice(q + 1));
  let rest: string;
  if (path === '.') rest = '';
  else if (path.startsWith('./')) rest = path.slice(2);
  else rest = path;
  if (path === '' || path === './') throw bad(raw, 'empty path');
  if (rest.startsWith('/')) throw bad(raw, 'starts with "/"');
  if (rest.endsWith('/')) throw bad(raw, 'ends with "/"');
  const encoded = rest === '' ? [] : rest.split('/');
  for (const seg of encoded) {
    if (seg === '') throw bad(raw, 'empty segment');
    // tree.md §1: `../` is forbidden and `./` only allowed at the very beginning.
    if (seg === '.' || seg === '..') throw bad(raw, `segment "${seg}"`);
    if (limits.maxSegLen && seg.length > limits.maxSegLen) {
      throw new TreeError(
        414,
        'uri-too-long',
        `segment "${seg}" longer than MaxSegLen ${limits.maxSegLen}`,
        raw,
      );
    }
  }
  if (limits.maxDepth && encoded.length > limits.maxDepth) {
    throw new TreeError(414, 'uri-too-long', `URI deeper than MaxDepth ${limits.maxDepth}`, raw);
  }
  const segments = encoded.map((s) => decodeSegment(raw, s));
  return query === undefined ? { segments } : { segments, query };
}

function parseQuery(raw: string, text: string): UriQuery {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? '' : text.slice(eq + 1);
  if (value === '') throw bad(raw, `query "${text}" without a value`);
  if (key === 'prop') return { kind: 'prop', name: value };
  if (key === 'list') return { kind: 'list', spec: value };
  throw new TreeError(406, 'unsupported-query', `unsupported URI query "${key}"`, raw);
}

/** Escapes one node name for a URI: UTF-8 bytes outside pchar become `%HH`. */
export function escapeSegment(name: string): string {
  let out = '';
  for (const ch of name) {
    if (PCHAR.test(ch)) out += ch;
    else
      for (const b of new TextEncoder().encode(ch))
        out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The canonical URI of a node: `.` for the root, else `./A/B` with escaped names. */
export function formatUri(segments: readonly string[]): string {
  return segments.length === 0 ? '.' : `./${segments.map(escapeSegment).join('/')}`;
}

/** Checks a node name for a rename or a DDF/TNDS NodeName (tree.md §1: non-empty, no `/`). */
export function checkNodeName(name: string, uri: string): void {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new TreeError(400, 'bad-node-name', `invalid node name "${name}"`, uri);
  }
}
