/**
 * The element and attribute names SyncML DM documents repeat, found by a hash the parser computes while it scans
 * a name. A hit returns the string literal itself: no slice is allocated, and the mapping's `name === 'Item'`
 * tests become pointer compares. The table is fixed at load: names read from a document are never stored, so it
 * cannot grow or keep a document alive.
 */
import { COMMAND_KINDS } from '../model.js';
import { holdsAt } from './chars.js';

/** Literals, so that a hit is the very string the mapping's literals compare with (V8 internalizes literals). */
// prettier-ignore
const KNOWN_NAMES: readonly string[] = [
  ...COMMAND_KINDS,
  // SyncML (representation.md §3) and MetInf
  'SyncML', 'SyncHdr', 'SyncBody', 'VerDTD', 'VerProto', 'SessionID', 'MsgID', 'MsgRef', 'CmdID', 'CmdRef',
  'Cmd', 'Target', 'Source', 'LocURI', 'LocName', 'TargetRef', 'SourceRef', 'RespURI', 'NoResp', 'Cred',
  'Chal', 'Meta', 'Data', 'Item', 'MoreData', 'Correlator', 'Final', 'MetInf', 'Format', 'Type', 'Mark',
  'Size', 'NextNonce', 'Version', 'MaxMsgSize', 'MaxObjSize', 'EMI', 'Anchor', 'Last', 'Next', 'Mem',
  'SharedMem', 'FreeMem', 'FreeID', 'Lang', 'Archive', 'SftDel', 'Sync', 'Put', 'Map', 'MapItem', 'Search',
  // DM DDF and TNDS, embedded in Data
  'MgmtTree', 'Man', 'Mod', 'Node', 'NodeName', 'Path', 'RTProperties', 'DFProperties', 'AccessType',
  'DefaultValue', 'Description', 'DFFormat', 'Occurrence', 'Scope', 'DFTitle', 'DFType', 'MIME', 'Value',
  'CaseSense', 'ACL', 'Name', 'Title', 'TStamp', 'VerNo', 'Permanent', 'Dynamic', 'One', 'ZeroOrOne',
  'ZeroOrMore', 'OneOrMore', 'ZeroOrN', 'OneOrN', 'CS', 'CIS', 'b64', 'bin', 'bool', 'chr', 'int', 'node',
  'null', 'xml', 'date', 'time', 'float', 'DDFName',
  // attributes
  'xmlns', 'xml:lang',
];

const SLOTS = 1024;
const MASK = SLOTS - 1;

/** The hash state before the first character. */
export const NAME_HASH_SEED = 0x811c9dc5 | 0;

/** One step of FNV-1a over UTF-16 units: cheap enough to run inside the parser's name loop. */
export function nameHashStep(hash: number, unit: number): number {
  return Math.imul(hash ^ unit, 0x01000193);
}

function slotOf(hash: number): number {
  return (hash ^ (hash >>> 15)) & MASK;
}

/** Open addressing with one extra probe; '' marks an empty slot (it never matches: names are non-empty). */
const TABLE: string[] = new Array<string>(SLOTS).fill('');

for (const name of KNOWN_NAMES) {
  let hash = NAME_HASH_SEED;
  for (let i = 0; i < name.length; i++) hash = nameHashStep(hash, name.charCodeAt(i));
  const slot = slotOf(hash);
  if (TABLE[slot] === '' || TABLE[slot] === name) TABLE[slot] = name;
  else if (TABLE[(slot + 1) & MASK] === '') TABLE[(slot + 1) & MASK] = name;
  // else: left out; such a name is simply sliced like any unknown one.
}

/** The known name equal to `src[start, end)` (whose hash is `hash`), or undefined. */
export function knownName(src: string, start: number, end: number, hash: number): string | undefined {
  const length = end - start;
  const slot = slotOf(hash);
  const first = TABLE[slot]!;
  if (first.length === length && holdsAt(src, start, first)) return first;
  const second = TABLE[(slot + 1) & MASK]!;
  if (second.length === length && holdsAt(src, start, second)) return second;
  return undefined;
}
