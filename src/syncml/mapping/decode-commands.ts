/**
 * Element → model for the DM commands (representation.md §3 content models), order-tolerant.
 * Elements the DM subset does not use (Lang, Archive, SftDel, Sync, Put, Map …) are refused as unknown.
 */
import { DecodeError } from '../../errors.js';
import type { Element } from '../element.js';
import { isElement } from '../element.js';
import type {
  Alert,
  Atomic,
  AtomicChild,
  Chal,
  Command,
  Cred,
  Exec,
  Item,
  MetInf,
  Results,
  Sequence,
  Status,
} from '../model.js';
import type { At } from './decode-context.js';
import {
  child,
  duplicate,
  fail,
  inSyncml,
  missing,
  numberOf,
  pathOf,
  trimmedText,
  unknownElement,
} from './decode-context.js';
import { checkFiller, decodeChal, decodeCred, decodeItem, decodeMeta } from './decode-parts.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The fields most commands share; each command takes the ones its content model allows. */
interface Common {
  cmdId?: number;
  noResp?: boolean;
  cred?: Cred;
  meta?: MetInf;
  items: Item[];
}

/** The common fields, as bits: which of them a command's content model allows. */
const CMD_ID = 1;
const NO_RESP = 2;
const CRED = 4;
const META = 8;
const ITEM = 16;

/**
 * Reads CmdID / NoResp / Cred / Meta / Item when `allowed` has its bit; true when the element was consumed.
 * (Bits rather than a Set of names: the name is compared once, in the switch, instead of also being hashed.)
 */
function readCommon(node: Element, at: At, common: Common, allowed: number): boolean {
  switch (node.name) {
    case 'CmdID': {
      if ((allowed & CMD_ID) === 0) return false;
      if (common.cmdId !== undefined) duplicate(node, at);
      const cmdId = numberOf(node, at);
      // DM Protocol §5.3 (protocol.md): CmdID 0 is reserved for references to the SyncHdr.
      if (cmdId === 0) fail('invalid-cmd-id', 'CmdID 0 is reserved for the SyncHdr', child(at, node));
      common.cmdId = cmdId;
      return true;
    }
    case 'NoResp':
      if ((allowed & NO_RESP) === 0) return false;
      if (common.noResp !== undefined) duplicate(node, at);
      common.noResp = true;
      return true;
    case 'Cred':
      if ((allowed & CRED) === 0) return false;
      if (common.cred !== undefined) duplicate(node, at);
      common.cred = decodeCred(node, at);
      return true;
    case 'Meta':
      if ((allowed & META) === 0) return false;
      if (common.meta !== undefined) duplicate(node, at);
      common.meta = decodeMeta(node, at);
      return true;
    case 'Item':
      if ((allowed & ITEM) === 0) return false;
      common.items.push(decodeItem(node, at));
      return true;
    default:
      return false;
  }
}

function cmdIdOf(common: Common, at: At): number {
  if (common.cmdId === undefined) missing('CmdID', at);
  return common.cmdId;
}

/**
 * NoResp, Cred and Meta copied only when present (exactOptionalPropertyTypes: no `undefined` values in the model).
 * readCommon fills only the fields the command's content model allows, so each present one belongs.
 */
function withOptional<T extends object>(base: T, common: Common): T {
  const out = base as T & { noResp?: boolean; cred?: Cred; meta?: MetInf };
  if (common.noResp !== undefined) out.noResp = common.noResp;
  if (common.cred !== undefined) out.cred = common.cred;
  if (common.meta !== undefined) out.meta = common.meta;
  return out;
}

const ITEM_COMMAND = CMD_ID | NO_RESP | CRED | META | ITEM;
const ALERT = CMD_ID | NO_RESP | CRED | ITEM;
const CONTAINER = CMD_ID | NO_RESP | META;
const STATUS = CMD_ID | CRED | ITEM;
const RESULTS = CMD_ID | META | ITEM;

/** Decodes one command element found in SyncBody, Atomic or Sequence. `depth` counts container nesting. */
export function decodeCommand(el: Element, parent: At, depth: number, maxDepth: number): Command {
  if (!inSyncml(el)) unknownElement(el, parent);
  switch (el.name) {
    case 'Add':
    case 'Copy':
    case 'Delete':
    case 'Get':
    case 'Replace':
      return decodeItemCommand(el.name, el, child(parent, el));
    case 'Exec':
      return decodeExec(el, child(parent, el));
    case 'Alert':
      return decodeAlert(el, child(parent, el));
    case 'Atomic':
    case 'Sequence':
      return decodeContainer(el.name, el, child(parent, el), depth + 1, maxDepth);
    case 'Status':
      return decodeStatus(el, child(parent, el));
    case 'Results':
      return decodeResults(el, child(parent, el));
    default:
      return unknownElement(el, parent);
  }
}

function decodeItemCommand(
  kind: 'Add' | 'Copy' | 'Delete' | 'Get' | 'Replace',
  el: Element,
  at: At,
): Command {
  const common: Common = { items: [] };
  for (const node of el.children) {
    if (!isElement(node)) checkFiller(node, at);
    else if (!inSyncml(node) || !readCommon(node, at, common, ITEM_COMMAND)) unknownElement(node, at);
  }
  // An empty Item list is kept: the engine answers 412 (Incomplete command) rather than refusing the message.
  return withOptional({ kind, cmdId: cmdIdOf(common, at), items: common.items }, common);
}

function decodeExec(el: Element, at: At): Exec {
  const common: Common = { items: [] };
  let correlator: string | undefined;
  for (const node of el.children) {
    if (!isElement(node)) checkFiller(node, at);
    else if (!inSyncml(node)) unknownElement(node, at);
    else if (node.name === 'Correlator') {
      if (correlator !== undefined) duplicate(node, at);
      correlator = trimmedText(node, at);
    } else if (!readCommon(node, at, common, ITEM_COMMAND)) unknownElement(node, at);
  }
  const exec: Mutable<Exec> = { kind: 'Exec', cmdId: cmdIdOf(common, at), items: common.items };
  if (correlator !== undefined) exec.correlator = correlator;
  return withOptional(exec, common);
}

function decodeAlert(el: Element, at: At): Alert {
  const common: Common = { items: [] };
  let code: number | undefined;
  let correlator: string | undefined;
  for (const node of el.children) {
    if (!isElement(node)) checkFiller(node, at);
    else if (!inSyncml(node)) unknownElement(node, at);
    else if (node.name === 'Data') {
      if (code !== undefined) duplicate(node, at);
      code = numberOf(node, at);
    } else if (node.name === 'Correlator') {
      if (correlator !== undefined) duplicate(node, at);
      correlator = trimmedText(node, at);
    } else if (!readCommon(node, at, common, ALERT)) unknownElement(node, at);
  }
  const alert: Mutable<Alert> = { kind: 'Alert', cmdId: cmdIdOf(common, at), items: common.items };
  if (code !== undefined) alert.code = code;
  if (correlator !== undefined) alert.correlator = correlator;
  return withOptional(alert, common);
}

function decodeContainer(
  kind: 'Atomic' | 'Sequence',
  el: Element,
  at: At,
  depth: number,
  maxDepth: number,
): Command {
  if (depth > maxDepth) {
    throw new DecodeError('too-deep', `Atomic/Sequence nesting deeper than ${maxDepth}`, pathOf(at));
  }
  const common: Common = { items: [] };
  const commands: AtomicChild[] = [];
  for (const node of el.children) {
    if (!isElement(node)) checkFiller(node, at);
    else if (!inSyncml(node)) unknownElement(node, at);
    else if (!readCommon(node, at, common, CONTAINER)) {
      // Status and Results never nest; anything else is kept so the engine can answer 500 for illegal nesting.
      if (node.name === 'Status' || node.name === 'Results') unknownElement(node, at);
      commands.push(decodeCommand(node, at, depth, maxDepth) as AtomicChild);
    }
  }
  const base: Atomic | Sequence = { kind, cmdId: cmdIdOf(common, at), commands };
  return withOptional(base, common);
}

function decodeStatus(el: Element, at: At): Status {
  const common: Common = { items: [] };
  let msgRef: number | undefined;
  let cmdRef: number | undefined;
  let cmd: string | undefined;
  let chal: Chal | undefined;
  let code: number | undefined;
  const targetRefs: string[] = [];
  const sourceRefs: string[] = [];
  for (const node of el.children) {
    if (!isElement(node)) {
      checkFiller(node, at);
      continue;
    }
    if (!inSyncml(node)) unknownElement(node, at);
    switch (node.name) {
      case 'MsgRef':
        if (msgRef !== undefined) duplicate(node, at);
        msgRef = numberOf(node, at);
        break;
      case 'CmdRef':
        if (cmdRef !== undefined) duplicate(node, at);
        cmdRef = numberOf(node, at);
        break;
      case 'Cmd':
        if (cmd !== undefined) duplicate(node, at);
        cmd = trimmedText(node, at);
        break;
      case 'TargetRef':
        targetRefs.push(trimmedText(node, at));
        break;
      case 'SourceRef':
        sourceRefs.push(trimmedText(node, at));
        break;
      case 'Chal':
        if (chal !== undefined) duplicate(node, at);
        chal = decodeChal(node, at);
        break;
      case 'Data':
        if (code !== undefined) duplicate(node, at);
        code = numberOf(node, at);
        break;
      default:
        if (!readCommon(node, at, common, STATUS)) unknownElement(node, at);
    }
  }
  const cmdId = cmdIdOf(common, at);
  if (cmdRef === undefined) missing('CmdRef', at);
  if (cmd === undefined) missing('Cmd', at);
  if (code === undefined) missing('Data', at);
  const status: Mutable<Status> = {
    kind: 'Status',
    cmdId,
    cmdRef,
    cmd,
    targetRefs,
    sourceRefs,
    code,
    items: common.items,
  };
  if (msgRef !== undefined) status.msgRef = msgRef;
  if (common.cred !== undefined) status.cred = common.cred;
  if (chal !== undefined) status.chal = chal;
  return status;
}

function decodeResults(el: Element, at: At): Results {
  const common: Common = { items: [] };
  let msgRef: number | undefined;
  let cmdRef: number | undefined;
  let targetRef: string | undefined;
  let sourceRef: string | undefined;
  for (const node of el.children) {
    if (!isElement(node)) {
      checkFiller(node, at);
      continue;
    }
    if (!inSyncml(node)) unknownElement(node, at);
    switch (node.name) {
      case 'MsgRef':
        if (msgRef !== undefined) duplicate(node, at);
        msgRef = numberOf(node, at);
        break;
      case 'CmdRef':
        if (cmdRef !== undefined) duplicate(node, at);
        cmdRef = numberOf(node, at);
        break;
      case 'TargetRef':
        if (targetRef !== undefined) duplicate(node, at);
        targetRef = trimmedText(node, at);
        break;
      case 'SourceRef':
        if (sourceRef !== undefined) duplicate(node, at);
        sourceRef = trimmedText(node, at);
        break;
      default:
        if (!readCommon(node, at, common, RESULTS)) unknownElement(node, at);
    }
  }
  const cmdId = cmdIdOf(common, at);
  if (cmdRef === undefined) missing('CmdRef', at);
  const results: Mutable<Results> = { kind: 'Results', cmdId, cmdRef, items: common.items };
  if (msgRef !== undefined) results.msgRef = msgRef;
  if (common.meta !== undefined) results.meta = common.meta;
  if (targetRef !== undefined) results.targetRef = targetRef;
  if (sourceRef !== undefined) results.sourceRef = sourceRef;
  return results;
}
