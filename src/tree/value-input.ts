/**
 * What an Add/Replace carries (Meta Format/Type + Data) and how it becomes a stored leaf value.
 * representation.md §5: binary over XML arrives as Format b64 and is stored as bin (DG-CMD-19).
 */
import type { Format } from '../syncml/constants.js';
import type { NodeDescription } from './description.js';
import { checkValue, decodeB64, fromUtf8, toFormat, utf8 } from './format.js';
import type { NodeRecord } from './node-record.js';
import { TreeError } from './tree-error.js';

export interface NodeInput {
  /** Meta Format as sent (`node` creates an interior node); absent → description default, else `chr` (Add) or unchanged (Replace). */
  readonly format?: string;
  /** Meta Type as sent; absent → description default, else `text/plain` (Add) or unchanged (Replace). */
  readonly type?: string;
  /** Data: text, or raw bytes (WBXML OPAQUE). For Format b64 the Base64 text. */
  readonly value?: string | Uint8Array;
}

export interface ResolvedValue {
  readonly format: Format;
  readonly type: string;
  /** undefined for interior nodes. */
  readonly bytes?: Uint8Array;
}

const DEFAULT_TYPE = 'text/plain';

/** Resolves an input against the node's description and (for Replace) its current record. */
export function resolveInput(
  input: NodeInput,
  desc: NodeDescription | undefined,
  current: NodeRecord | undefined,
  uri: string,
): ResolvedValue {
  const sent = input.format === undefined || input.format === '' ? undefined : toFormat(input.format, uri);
  if (sent === 'node') {
    if (desc !== undefined && desc.format !== 'node') {
      throw new TreeError(405, 'leaf-expected', 'the device description makes this node a leaf', uri);
    }
    if (input.value !== undefined && input.value.length > 0) {
      throw new TreeError(400, 'interior-with-data', 'an interior node carries no Data', uri);
    }
    return { format: 'node', type: input.type ?? desc?.types[0] ?? '' };
  }
  if (desc?.format === 'node') {
    throw new TreeError(
      405,
      'interior-expected',
      'the device description makes this node interior (Format node)',
      uri,
    );
  }
  let format: Format = sent ?? current?.format ?? desc?.format ?? 'chr';
  let bytes = typeof input.value === 'string' ? utf8(input.value) : (input.value ?? new Uint8Array());
  if (format === 'b64' && desc?.format !== 'b64') {
    // representation.md §5 / tree.md §4: b64 on the wire, stored Format bin with the decoded bytes.
    bytes = decodeB64(fromUtf8(bytes), uri);
    format = 'bin';
  }
  if (desc !== undefined && desc.format !== format) {
    throw new TreeError(
      415,
      'format-mismatch',
      `Format ${format} where the description requires ${desc.format}`,
      uri,
    );
  }
  const type =
    input.type ?? (sent === undefined ? current?.type : undefined) ?? desc?.types[0] ?? DEFAULT_TYPE;
  if (desc !== undefined && desc.types.length > 0 && !desc.types.includes(type)) {
    throw new TreeError(415, 'type-mismatch', `Type ${type} not among ${desc.types.join(', ')}`, uri);
  }
  checkValue(format, bytes, uri);
  return { format, type, bytes };
}
