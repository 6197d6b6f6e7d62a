/**
 * SyncMLMessage → Element, in the element order of the SyncML 1.2 DTD (representation.md §3), with SyncML
 * elements in exactly `SYNCML:SYNCML1.2` and MetInf elements in exactly `syncml:metinf`.
 * Binary Data becomes an OPAQUE node: WBXML carries it as is, the XML serializer refuses it.
 */
import { EncodeError } from '../../errors.js';
import type { Element, Node } from '../element.js';
import type {
  Chal,
  Command,
  Cred,
  Data,
  Item,
  LocRef,
  MetInf,
  Status,
  SyncHdr,
  SyncMLMessage,
  XmlElement,
} from '../model.js';
import { METINF_NAMESPACE, SYNCML_NAMESPACE } from '../model.js';

const NS = SYNCML_NAMESPACE;

function el(name: string, children: readonly Node[]): Element {
  return { name, ns: NS, children };
}

function leaf(name: string, text: string): Element {
  return { name, ns: NS, children: text === '' ? [] : [text] };
}

const EMPTY: readonly Node[] = [];

function flag(name: string): Element {
  return { name, ns: NS, children: EMPTY };
}

/** The text of a count element (MsgID, CmdID, Size, …); anything but a non-negative safe integer is refused. */
export function countText(name: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new EncodeError('invalid-number', `<${name}> must be a non-negative integer, got ${String(value)}`);
  }
  return String(value);
}

function num(name: string, value: number): Element {
  return { name, ns: NS, children: [countText(name, value)] };
}

export function messageToElement(message: SyncMLMessage): Element {
  const body: Node[] = message.body.map(encodeCommand);
  if (message.final) body.push(flag('Final'));
  return el('SyncML', [encodeHeader(message.header), el('SyncBody', body)]);
}

function encodeHeader(h: SyncHdr): Element {
  const c: Node[] = [
    leaf('VerDTD', h.verDtd),
    leaf('VerProto', h.verProto),
    leaf('SessionID', h.sessionId),
    num('MsgID', h.msgId),
    encodeLocRef('Target', h.target),
    encodeLocRef('Source', h.source),
  ];
  if (h.respUri !== undefined) c.push(leaf('RespURI', h.respUri));
  if (h.noResp === true) c.push(flag('NoResp'));
  if (h.cred !== undefined) c.push(encodeCred(h.cred));
  if (h.meta !== undefined) c.push(encodeMeta(h.meta));
  return el('SyncHdr', c);
}

function encodeLocRef(name: string, ref: LocRef): Element {
  const c: Node[] = [leaf('LocURI', ref.locUri)];
  if (ref.locName !== undefined) c.push(leaf('LocName', ref.locName));
  return el(name, c);
}

function metinf(name: string, text: string): Element {
  return { name, ns: METINF_NAMESPACE, children: text === '' ? EMPTY : [text] };
}

function metinfNum(name: string, value: number): Element {
  return { name, ns: METINF_NAMESPACE, children: [countText(name, value)] };
}

/** MetInf DTD order: Format, Type, Mark, Size, Version, NextNonce, MaxMsgSize, MaxObjSize, EMI*. */
function encodeMeta(m: MetInf): Element {
  const c: Node[] = [];
  if (m.format !== undefined) c.push(metinf('Format', m.format));
  if (m.type !== undefined) c.push(metinf('Type', m.type));
  if (m.mark !== undefined) c.push(metinf('Mark', m.mark));
  if (m.size !== undefined) c.push(metinfNum('Size', m.size));
  if (m.version !== undefined) c.push(metinf('Version', m.version));
  if (m.nextNonce !== undefined) c.push(metinf('NextNonce', m.nextNonce));
  if (m.maxMsgSize !== undefined) c.push(metinfNum('MaxMsgSize', m.maxMsgSize));
  if (m.maxObjSize !== undefined) c.push(metinfNum('MaxObjSize', m.maxObjSize));
  if (m.emi !== undefined) for (const e of m.emi) c.push(metinf('EMI', e));
  return el('Meta', c);
}

function encodeCred(cred: Cred): Element {
  const c: Node[] = [];
  if (cred.meta !== undefined) c.push(encodeMeta(cred.meta));
  c.push(leaf('Data', cred.data));
  return el('Cred', c);
}

function encodeChal(chal: Chal): Element {
  return el('Chal', [encodeMeta(chal.meta)]);
}

/** Item: Target?, Source?, Meta?, Data?, MoreData?. */
function encodeItem(item: Item): Element {
  const c: Node[] = [];
  if (item.target !== undefined) c.push(encodeLocRef('Target', item.target));
  if (item.source !== undefined) c.push(encodeLocRef('Source', item.source));
  if (item.meta !== undefined) c.push(encodeMeta(item.meta));
  if (item.data !== undefined) c.push(encodeData(item.data));
  if (item.moreData === true) c.push(flag('MoreData'));
  return el('Item', c);
}

function encodeData(data: Data): Element {
  switch (data.kind) {
    case 'text':
      return leaf('Data', data.text);
    case 'binary':
      return el('Data', [{ opaque: data.bytes }]);
    case 'xml':
      return el('Data', [xmlToElement(data.element, '')]);
  }
}

/** An embedded document: `namespace` absent means inherited from the enclosing embedded element. */
export function xmlToElement(x: XmlElement, inheritedNs: string): Element {
  const ns = x.namespace ?? inheritedNs;
  const children: Node[] = [];
  for (const c of x.children) {
    if (typeof c === 'string') {
      if (c !== '') children.push(c);
    } else children.push(xmlToElement(c, ns));
  }
  return x.attributes === undefined
    ? { name: x.name, ns, children }
    : { name: x.name, ns, attributes: x.attributes, children };
}

function common(cmd: { cmdId: number; noResp?: boolean }): Node[] {
  const c: Node[] = [num('CmdID', cmd.cmdId)];
  if (cmd.noResp === true) c.push(flag('NoResp'));
  return c;
}

function encodeCommand(cmd: Command): Element {
  switch (cmd.kind) {
    case 'Add':
    case 'Copy':
    case 'Delete':
    case 'Get':
    case 'Replace':
    case 'Exec': {
      // Add/Copy/Delete/Get/Replace: (CmdID, NoResp?, Cred?, Meta?, Item+); Exec adds Correlator? before Item.
      const c = common(cmd);
      if (cmd.cred !== undefined) c.push(encodeCred(cmd.cred));
      if (cmd.meta !== undefined) c.push(encodeMeta(cmd.meta));
      if (cmd.kind === 'Exec' && cmd.correlator !== undefined) c.push(leaf('Correlator', cmd.correlator));
      for (const item of cmd.items) c.push(encodeItem(item));
      return el(cmd.kind, c);
    }
    case 'Alert': {
      // (CmdID, NoResp?, Cred?, Data?, Correlator?, Item*)
      const c = common(cmd);
      if (cmd.cred !== undefined) c.push(encodeCred(cmd.cred));
      if (cmd.code !== undefined) c.push(num('Data', cmd.code));
      if (cmd.correlator !== undefined) c.push(leaf('Correlator', cmd.correlator));
      for (const item of cmd.items) c.push(encodeItem(item));
      return el('Alert', c);
    }
    case 'Atomic':
    case 'Sequence': {
      const c = common(cmd);
      if (cmd.meta !== undefined) c.push(encodeMeta(cmd.meta));
      for (const child of cmd.commands) c.push(encodeCommand(child));
      return el(cmd.kind, c);
    }
    case 'Status':
      return encodeStatus(cmd);
    case 'Results': {
      // (CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+)
      const c: Node[] = [num('CmdID', cmd.cmdId)];
      if (cmd.msgRef !== undefined) c.push(num('MsgRef', cmd.msgRef));
      c.push(num('CmdRef', cmd.cmdRef));
      if (cmd.meta !== undefined) c.push(encodeMeta(cmd.meta));
      if (cmd.targetRef !== undefined) c.push(leaf('TargetRef', cmd.targetRef));
      if (cmd.sourceRef !== undefined) c.push(leaf('SourceRef', cmd.sourceRef));
      for (const item of cmd.items) c.push(encodeItem(item));
      return el('Results', c);
    }
  }
}

/** (CmdID, MsgRef?, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*) */
function encodeStatus(s: Status): Element {
  const c: Node[] = [num('CmdID', s.cmdId)];
  if (s.msgRef !== undefined) c.push(num('MsgRef', s.msgRef));
  c.push(num('CmdRef', s.cmdRef), leaf('Cmd', s.cmd));
  for (const ref of s.targetRefs) c.push(leaf('TargetRef', ref));
  for (const ref of s.sourceRefs) c.push(leaf('SourceRef', ref));
  if (s.cred !== undefined) c.push(encodeCred(s.cred));
  if (s.chal !== undefined) c.push(encodeChal(s.chal));
  c.push(num('Data', s.code));
  for (const item of s.items) c.push(encodeItem(item));
  return el('Status', c);
}
