/**
 * Element → SyncMLMessage: the root, SyncHdr and SyncBody. Refuses anything that is not SyncML DM 1.2 with a
 * DecodeError whose `where` is the element path and whose `status` is the SyncML status to answer with.
 */
import { StatusCode } from '../constants.js';
import type { Element } from '../element.js';
import { isElement } from '../element.js';
import type { DecodeLimits } from '../limits.js';
import { resolveLimits } from '../limits.js';
import type { Command, SyncHdr, SyncMLMessage } from '../model.js';
import { SYNCML_NAMESPACE, VER_DTD } from '../model.js';
import type { At } from './decode-context.js';
import {
  child,
  duplicate,
  fail,
  inSyncml,
  isSyncmlNs,
  missing,
  numberOf,
  trimmedText,
  unknownElement,
} from './decode-context.js';
import { decodeCommand } from './decode-commands.js';
import { checkFiller, decodeCred, decodeLocRef, decodeMeta } from './decode-parts.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Older SyncML namespaces: a SyncML message, but not of the version we speak (answer 505). */
const OLDER_SYNCML = /^syncml:syncml1\.[01]$/i;
/** VerProto: DM/1.x; a different major version is incompatible (representation.md §4). */
const DM_PROTO = /^DM\/1\.\d+$/;

export function elementToMessage(root: Element, limits?: Partial<DecodeLimits>): SyncMLMessage {
  const { maxDepth } = resolveLimits(limits);
  const at: At = { parent: undefined, el: root };
  if (root.name !== 'SyncML') {
    fail('not-syncml', `root element is <${root.name}>, expected <SyncML xmlns="${SYNCML_NAMESPACE}">`, at);
  }
  if (!isSyncmlNs(root.ns)) {
    if (OLDER_SYNCML.test(root.ns)) {
      fail(
        'unsupported-dtd-version',
        `namespace ${root.ns} is not SyncML 1.2`,
        at,
        StatusCode.DTD_VERSION_NOT_SUPPORTED,
      );
    }
    const ns = root.ns === '' ? 'no namespace' : `namespace ${root.ns}`;
    fail('not-syncml', `<SyncML> is in ${ns}, expected ${SYNCML_NAMESPACE}`, at);
  }
  let header: SyncHdr | undefined;
  let body: { commands: Command[]; final: boolean } | undefined;
  for (const node of root.children) {
    if (!isElement(node)) checkFiller(node, at);
    else if (!inSyncml(node)) unknownElement(node, at);
    else if (node.name === 'SyncHdr') {
      if (header !== undefined) duplicate(node, at);
      header = decodeHeader(node, child(at, node));
    } else if (node.name === 'SyncBody') {
      if (body !== undefined) duplicate(node, at);
      body = decodeBody(node, child(at, node), maxDepth);
    } else unknownElement(node, at);
  }
  if (header === undefined) missing('SyncHdr', at);
  if (body === undefined) missing('SyncBody', at);
  return { header, body: body.commands, final: body.final };
}

function decodeHeader(el: Element, at: At): SyncHdr {
  const hdr: Partial<Mutable<SyncHdr>> = {};
  for (const node of el.children) {
    if (!isElement(node)) {
      checkFiller(node, at);
      continue;
    }
    if (!inSyncml(node)) unknownElement(node, at);
    switch (node.name) {
      case 'VerDTD':
        if (hdr.verDtd !== undefined) duplicate(node, at);
        hdr.verDtd = trimmedText(node, at);
        // RepPro §4 (representation.md): DM 1.2 messages carry VerDTD 1.2; anything else gets 505.
        if (hdr.verDtd !== VER_DTD) {
          fail(
            'unsupported-dtd-version',
            `VerDTD "${hdr.verDtd}" is not supported, expected ${VER_DTD}`,
            child(at, node),
            StatusCode.DTD_VERSION_NOT_SUPPORTED,
          );
        }
        break;
      case 'VerProto':
        if (hdr.verProto !== undefined) duplicate(node, at);
        hdr.verProto = trimmedText(node, at);
        if (hdr.verProto !== 'DM/1.2' && !DM_PROTO.test(hdr.verProto)) {
          fail(
            'unsupported-protocol-version',
            `VerProto "${hdr.verProto}" is not supported, expected DM/1.2`,
            child(at, node),
            StatusCode.PROTOCOL_VERSION_NOT_SUPPORTED,
          );
        }
        break;
      case 'SessionID':
        if (hdr.sessionId !== undefined) duplicate(node, at);
        hdr.sessionId = trimmedText(node, at);
        break;
      case 'MsgID':
        if (hdr.msgId !== undefined) duplicate(node, at);
        hdr.msgId = numberOf(node, at);
        break;
      case 'Target':
        if (hdr.target !== undefined) duplicate(node, at);
        hdr.target = decodeLocRef(node, at);
        break;
      case 'Source':
        if (hdr.source !== undefined) duplicate(node, at);
        hdr.source = decodeLocRef(node, at);
        break;
      case 'RespURI':
        if (hdr.respUri !== undefined) duplicate(node, at);
        hdr.respUri = trimmedText(node, at);
        break;
      case 'NoResp':
        if (hdr.noResp !== undefined) duplicate(node, at);
        hdr.noResp = true;
        break;
      case 'Cred':
        if (hdr.cred !== undefined) duplicate(node, at);
        hdr.cred = decodeCred(node, at);
        break;
      case 'Meta':
        if (hdr.meta !== undefined) duplicate(node, at);
        hdr.meta = decodeMeta(node, at);
        break;
      default:
        unknownElement(node, at);
    }
  }
  const { verDtd, verProto, sessionId, msgId, target, source } = hdr;
  if (verDtd === undefined) missing('VerDTD', at);
  if (verProto === undefined) missing('VerProto', at);
  if (sessionId === undefined) missing('SessionID', at);
  if (msgId === undefined) missing('MsgID', at);
  if (target === undefined) missing('Target', at);
  if (source === undefined) missing('Source', at);
  return hdr as SyncHdr;
}

function decodeBody(el: Element, at: At, maxDepth: number): { commands: Command[]; final: boolean } {
  const commands: Command[] = [];
  let final = false;
  for (const node of el.children) {
    if (!isElement(node)) checkFiller(node, at);
    else if (node.name === 'Final' && inSyncml(node)) {
      if (final) duplicate(node, at);
      final = true;
    } else commands.push(decodeCommand(node, at, 0, maxDepth));
  }
  return { commands, final };
}
