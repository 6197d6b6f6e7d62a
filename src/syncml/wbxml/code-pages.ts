/**
 * Tag code pages for SyncML DM 1.2 documents (wbxml.md §4–§6): page 0 SyncML, page 1 MetInf, page 2 DM DDF 1.2.
 * One code page per namespace, so switching page is how WBXML says "xmlns" (wbxml.md §2).
 */
import { FIRST_TAG_IDENTITY } from './tokens.js';

export const SYNCML_NS = 'SYNCML:SYNCML1.2';
export const METINF_NS = 'syncml:metinf';
export const DMDDF_NS = 'syncml:dmddf1.2';

export interface CodePage {
  readonly page: number;
  readonly ns: string;
  /** Tag name by identity (index = identity); undefined = no tag with that identity. */
  readonly names: readonly (string | undefined)[];
  /** Identity by tag name (case-sensitive: DDF has both `Node` and `node`). */
  readonly tokens: ReadonlyMap<string, number>;
}

function page(pageNo: number, ns: string, names: readonly (string | undefined)[]): CodePage {
  const byIdentity: (string | undefined)[] = new Array<string | undefined>(FIRST_TAG_IDENTITY).fill(
    undefined,
  );
  byIdentity.push(...names);
  const tokens = new Map<string, number>();
  byIdentity.forEach((name, identity) => {
    if (name !== undefined) tokens.set(name, identity);
  });
  return { page: pageNo, ns, names: byIdentity, tokens };
}

// wbxml.md §4: 0x05 … 0x3C, 0x30 reserved.
const SYNCML_TAGS = [
  'Add', 'Alert', 'Archive', 'Atomic', 'Chal', 'Cmd', 'CmdID', 'CmdRef', 'Copy', 'Cred', 'Data', 'Delete',
  'Exec', 'Final', 'Get', 'Item', 'Lang', 'LocName', 'LocURI', 'Map', 'MapItem', 'Meta', 'MsgID', 'MsgRef',
  'NoResp', 'NoResults', 'Put', 'Replace', 'RespURI', 'Results', 'Search', 'Sequence', 'SessionID', 'SftDel',
  'Source', 'SourceRef', 'Status', 'Sync', 'SyncBody', 'SyncHdr', 'SyncML', 'Target', 'TargetRef', undefined,
  'VerDTD', 'VerProto', 'NumberOfChanges', 'MoreData', 'Field', 'Filter', 'Record', 'FilterType', 'SourceParent',
  'TargetParent', 'Move', 'Correlator',
] as const; // prettier-ignore

// wbxml.md §5: 0x05 … 0x16.
const METINF_TAGS = [
  'Anchor', 'EMI', 'Format', 'FreeID', 'FreeMem', 'Last', 'Mark', 'MaxMsgSize', 'Mem', 'MetInf', 'Next',
  'NextNonce', 'SharedMem', 'Size', 'Type', 'Version', 'MaxObjSize', 'FieldLevel',
] as const; // prettier-ignore

// wbxml.md §6: 0x05 … 0x3C.
const DMDDF_TAGS = [
  'AccessType', 'ACL', 'Add', 'b64', 'bin', 'bool', 'chr', 'CaseSense', 'CIS', 'Copy', 'CS', 'date', 'DDFName',
  'DefaultValue', 'Delete', 'Description', 'DFFormat', 'DFProperties', 'DFTitle', 'DFType', 'Dynamic', 'Exec',
  'float', 'Format', 'Get', 'int', 'Man', 'MgmtTree', 'MIME', 'Mod', 'Name', 'Node', 'node', 'NodeName', 'null',
  'Occurrence', 'One', 'OneOrMore', 'OneOrN', 'Path', 'Permanent', 'Replace', 'RTProperties', 'Scope', 'Size',
  'time', 'Title', 'TStamp', 'Type', 'Value', 'VerDTD', 'VerNo', 'xml', 'ZeroOrMore', 'ZeroOrN', 'ZeroOrOne',
] as const; // prettier-ignore

export const CODE_PAGES: readonly CodePage[] = [
  page(0, SYNCML_NS, SYNCML_TAGS),
  page(1, METINF_NS, METINF_TAGS),
  page(2, DMDDF_NS, DMDDF_TAGS),
];

const PAGE_BY_NS = new Map<string, CodePage>();
for (const p of CODE_PAGES) {
  PAGE_BY_NS.set(p.ns, p);
  PAGE_BY_NS.set(p.ns.toLowerCase(), p);
}

/** The code page of a namespace. Namespace URNs compare case-insensitively (representation.md §1). */
export function pageForNamespace(ns: string): CodePage | undefined {
  return PAGE_BY_NS.get(ns) ?? PAGE_BY_NS.get(ns.toLowerCase());
}

/** The code page with this number, if it is one of ours. */
export function pageByNumber(pageNo: number): CodePage | undefined {
  return CODE_PAGES[pageNo];
}
