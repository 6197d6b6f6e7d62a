/**
 * The SyncML DM 1.2 message model: readonly data, discriminated on `kind` for commands.
 * Element order and content models follow representation.md §3 (the DM subset of the SyncML 1.2 DTD).
 * Codecs (xml/, wbxml/) turn bytes into these values and back; nothing here does I/O.
 */

/** `<Target>` / `<Source>`: `(LocURI, LocName?)`. */
export interface LocRef {
  readonly locUri: string;
  readonly locName?: string;
}

/** Meta-information (`syncml:metinf`). Sizes are numbers; everything else is text as sent. */
export interface MetInf {
  readonly format?: string;
  readonly type?: string;
  readonly mark?: string;
  readonly size?: number;
  readonly nextNonce?: string;
  readonly version?: string;
  readonly maxMsgSize?: number;
  readonly maxObjSize?: number;
  /** Extended meta information; may repeat. */
  readonly emi?: readonly string[];
}

/** A generic XML element, for Data that holds a nested document (TNDS `MgmtTree`, DevInf). */
export interface XmlElement {
  readonly name: string;
  /**
   * Namespace URI of this element when it differs from its parent's (e.g. `syncml:dmddf1.2` on `MgmtTree`).
   * Absent means inherited from the enclosing XmlElement (no namespace at the embedded root); `''` means none.
   * Decoders set it only where it changes, so children of `MgmtTree` carry none.
   */
  readonly namespace?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly children: readonly XmlContent[];
}
export type XmlContent = XmlElement | string;

/**
 * `<Data>` content:
 * - `text`: character data (XML PCDATA/CDATA, WBXML inline/table strings);
 * - `binary`: raw bytes (WBXML OPAQUE that is not valid UTF-8 text, or bytes the caller wants sent as OPAQUE);
 * - `xml`: an embedded document such as TNDS.
 */
export type Data =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'binary'; readonly bytes: Uint8Array }
  | { readonly kind: 'xml'; readonly element: XmlElement };

/** `<Cred>`: `(Meta?, Data)`. Only ever in the SyncHdr in DM. */
export interface Cred {
  readonly meta?: MetInf;
  readonly data: string;
}

/** `<Chal>`: `(Meta)`. Carried in a Status. */
export interface Chal {
  readonly meta: MetInf;
}

/** `<Item>`: `(Target?, Source?, Meta?, Data?, MoreData?)`. */
export interface Item {
  readonly target?: LocRef;
  readonly source?: LocRef;
  readonly meta?: MetInf;
  readonly data?: Data;
  readonly moreData?: boolean;
}

export interface SyncHdr {
  readonly verDtd: string;
  readonly verProto: string;
  readonly sessionId: string;
  readonly msgId: number;
  readonly target: LocRef;
  readonly source: LocRef;
  readonly respUri?: string;
  readonly noResp?: boolean;
  readonly cred?: Cred;
  readonly meta?: MetInf;
}

interface ItemCommand<K extends string> {
  readonly kind: K;
  readonly cmdId: number;
  readonly noResp?: boolean;
  readonly cred?: Cred;
  readonly meta?: MetInf;
  readonly items: readonly Item[];
}

export type Add = ItemCommand<'Add'>;
export type Copy = ItemCommand<'Copy'>;
export type Delete = ItemCommand<'Delete'>;
export type Get = ItemCommand<'Get'>;
export type Replace = ItemCommand<'Replace'>;

export interface Exec extends ItemCommand<'Exec'> {
  readonly correlator?: string;
}

/** `<Alert>`: `(CmdID, NoResp?, Cred?, Data?, Correlator?, Item*)`; `code` is the alert code in Data. */
export interface Alert {
  readonly kind: 'Alert';
  readonly cmdId: number;
  readonly noResp?: boolean;
  readonly cred?: Cred;
  readonly code?: number;
  readonly correlator?: string;
  readonly items: readonly Item[];
}

/** Commands allowed inside Atomic in DM (representation.md §3). */
export type AtomicChild = Add | Alert | Copy | Delete | Replace | Atomic | Sequence | Get | Exec;
/** Commands allowed inside Sequence in DM. */
export type SequenceChild = Add | Alert | Copy | Delete | Exec | Get | Replace | Atomic | Sequence;

export interface Atomic {
  readonly kind: 'Atomic';
  readonly cmdId: number;
  readonly noResp?: boolean;
  readonly meta?: MetInf;
  /** Decoders accept any command here so the engine can answer 500 for illegal nesting (Atomic inside Atomic, Get). */
  readonly commands: readonly AtomicChild[];
}

export interface Sequence {
  readonly kind: 'Sequence';
  readonly cmdId: number;
  readonly noResp?: boolean;
  readonly meta?: MetInf;
  readonly commands: readonly SequenceChild[];
}

/** `<Status>`: `(CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*)`. */
export interface Status {
  readonly kind: 'Status';
  readonly cmdId: number;
  readonly msgRef?: number;
  /** 0 for the SyncHdr. */
  readonly cmdRef: number;
  /** Name of the command this status answers, `SyncHdr` for the header. */
  readonly cmd: string;
  readonly targetRefs: readonly string[];
  readonly sourceRefs: readonly string[];
  readonly cred?: Cred;
  readonly chal?: Chal;
  /** The status code carried in Data. */
  readonly code: number;
  readonly items: readonly Item[];
}

/** `<Results>`: `(CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+)`. */
export interface Results {
  readonly kind: 'Results';
  readonly cmdId: number;
  readonly msgRef?: number;
  readonly cmdRef: number;
  readonly meta?: MetInf;
  readonly targetRef?: string;
  readonly sourceRef?: string;
  readonly items: readonly Item[];
}

export type Command =
  Add | Alert | Atomic | Copy | Delete | Exec | Get | Replace | Results | Sequence | Status;
export type CommandKind = Command['kind'];

export const COMMAND_KINDS: readonly CommandKind[] = [
  'Add',
  'Alert',
  'Atomic',
  'Copy',
  'Delete',
  'Exec',
  'Get',
  'Replace',
  'Results',
  'Sequence',
  'Status',
];

/** A whole SyncML DM message. `final` is `<Final/>` at the end of SyncBody (last message of a package). */
export interface SyncMLMessage {
  readonly header: SyncHdr;
  readonly body: readonly Command[];
  readonly final: boolean;
}

export const VER_DTD = '1.2';
export const VER_PROTO = 'DM/1.2';
export const SYNCML_NAMESPACE = 'SYNCML:SYNCML1.2';
export const METINF_NAMESPACE = 'syncml:metinf';
export const DMDDF_NAMESPACE = 'syncml:dmddf1.2';

/** Text of a Data value: UTF-8 for binary, serialized form is the codec's business for xml. */
export function dataText(data: Data | undefined): string | undefined {
  if (data === undefined) return undefined;
  if (data.kind === 'text') return data.text;
  if (data.kind === 'binary') return new TextDecoder().decode(data.bytes);
  return undefined;
}

export function textData(text: string): Data {
  return { kind: 'text', text };
}
