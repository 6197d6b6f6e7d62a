/**
 * What an operator asks the server to send to a device: the JSON form of one queued management command.
 * Stored as JSON in the command queue and turned into SyncML commands by the DM endpoint.
 *
 * Containers follow the DM content models (representation.md §3):
 * - Atomic: `(Add | Alert | Copy | Delete | Replace)+` (no Get, Exec or nested containers; the device would answer 500);
 * - Sequence: `(Add | Alert | Copy | Delete | Exec | Get | Replace)+` (no nested containers).
 */
import { Formats } from '../../syncml/constants.js';
import { OmadmError } from '../../errors.js';

export type ItemCommandName = 'Get' | 'Add' | 'Replace' | 'Delete' | 'Copy' | 'Exec';
export type LeafCommandName = ItemCommandName | 'Alert';
export type ContainerCommandName = 'Atomic' | 'Sequence';

/** Get/Add/Replace/Delete/Copy/Exec on one node. `source` is required for Copy (the node copied from). */
export interface ItemCommandSpec {
  readonly command: ItemCommandName;
  readonly target: string;
  readonly data?: string;
  /** Meta/Format (tree.md §4), e.g. `chr`, `int`, `node`, `b64`. */
  readonly format?: string;
  /** Meta/Type (a MIME type), e.g. `text/plain`. */
  readonly type?: string;
  readonly source?: string;
}

/**
 * A user-interaction Alert (1100–1104, protocol.md §12) or any other server alert.
 * `items` are the Item/Data texts in order (e.g. `["MINDT=30", "Update now?"]`).
 */
export interface AlertCommandSpec {
  readonly command: 'Alert';
  readonly code: number;
  readonly items?: readonly string[];
}

export interface ContainerCommandSpec {
  readonly command: ContainerCommandName;
  readonly commands: readonly CommandSpec[];
}

export type CommandSpec = ItemCommandSpec | AlertCommandSpec | ContainerCommandSpec;

/** A request body (or stored JSON) that is not a valid command: the field at fault is named. */
export class InvalidCommandError extends OmadmError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('invalid-command', `${field}: ${message}`, { httpStatus: 400 });
    this.field = field;
  }
}

const ITEM_COMMANDS: readonly string[] = ['Get', 'Add', 'Replace', 'Delete', 'Copy', 'Exec'];
const ATOMIC_CHILDREN: readonly string[] = ['Add', 'Alert', 'Copy', 'Delete', 'Replace'];
const SEQUENCE_CHILDREN: readonly string[] = ['Add', 'Alert', 'Copy', 'Delete', 'Exec', 'Get', 'Replace'];
const ALL_COMMANDS: readonly string[] = [...ITEM_COMMANDS, 'Alert', 'Atomic', 'Sequence'];
/** Longest URI we accept for a target (tree.md: devices limit URI length; 1024 is generous). */
const MAX_URI_LENGTH = 1024;
const MAX_CHILDREN = 256;

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(obj: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InvalidCommandError(`${path}${key}`, 'must be a string');
  return v;
}

function uri(obj: Record<string, unknown>, key: string, path: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0)
    throw new InvalidCommandError(`${path}${key}`, 'must be a non-empty URI');
  if (v.length > MAX_URI_LENGTH)
    throw new InvalidCommandError(`${path}${key}`, `longer than ${MAX_URI_LENGTH} characters`);
  if (v.startsWith('/') || v.includes('//') || hasControlCharacter(v)) {
    throw new InvalidCommandError(`${path}${key}`, 'is not a valid management tree URI (e.g. ./DevInfo/Mod)');
  }
  return v;
}

/**
 * Validates untrusted JSON as a CommandSpec and returns a clean copy (unknown keys dropped).
 * Throws InvalidCommandError naming the offending field (`commands[1].target`).
 */
export function parseCommandSpec(value: unknown, path = '', parent?: ContainerCommandName): CommandSpec {
  if (!isRecord(value))
    throw new InvalidCommandError(path === '' ? 'body' : path.replace(/\.$/, ''), 'must be an object');
  const command = value['command'];
  if (typeof command !== 'string' || !ALL_COMMANDS.includes(command)) {
    throw new InvalidCommandError(`${path}command`, `must be one of ${ALL_COMMANDS.join(', ')}`);
  }
  if (parent !== undefined) {
    const allowed = parent === 'Atomic' ? ATOMIC_CHILDREN : SEQUENCE_CHILDREN;
    if (!allowed.includes(command)) {
      throw new InvalidCommandError(
        `${path}command`,
        `${command} is not allowed inside ${parent} (allowed: ${allowed.join(', ')})`,
      );
    }
  }
  if (command === 'Atomic' || command === 'Sequence') {
    const children = value['commands'];
    if (!Array.isArray(children) || children.length === 0) {
      throw new InvalidCommandError(`${path}commands`, 'must be a non-empty array of commands');
    }
    if (children.length > MAX_CHILDREN)
      throw new InvalidCommandError(`${path}commands`, `more than ${MAX_CHILDREN} commands`);
    return {
      command,
      commands: children.map((child, i) => parseCommandSpec(child, `${path}commands[${i}].`, command)),
    };
  }
  if (command === 'Alert') {
    const code = value['code'];
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 1000 || code > 9999) {
      throw new InvalidCommandError(`${path}code`, 'must be a four-digit alert code such as 1100');
    }
    const items = value['items'];
    if (items === undefined) return { command, code };
    if (!Array.isArray(items) || !items.every((i): i is string => typeof i === 'string')) {
      throw new InvalidCommandError(`${path}items`, 'must be an array of strings');
    }
    return { command, code, items: [...items] };
  }
  const spec: { -readonly [K in keyof ItemCommandSpec]: ItemCommandSpec[K] } = {
    command: command as ItemCommandName,
    target: uri(value, 'target', path),
  };
  const data = optionalString(value, 'data', path);
  const format = optionalString(value, 'format', path);
  const type = optionalString(value, 'type', path);
  if (format !== undefined && !(Formats as readonly string[]).includes(format)) {
    throw new InvalidCommandError(`${path}format`, `must be one of ${Formats.join(', ')}`);
  }
  if (command === 'Copy') spec.source = uri(value, 'source', path);
  else if (value['source'] !== undefined) spec.source = uri(value, 'source', path);
  if (data !== undefined) {
    if (command === 'Get' || command === 'Delete') {
      throw new InvalidCommandError(`${path}data`, `${command} carries no data`);
    }
    spec.data = data;
  }
  if (format !== undefined) spec.format = format;
  if (type !== undefined) spec.type = type;
  return spec;
}

/** Whether a spec is a container (Atomic/Sequence). */
export function isContainerSpec(spec: CommandSpec): spec is ContainerCommandSpec {
  return spec.command === 'Atomic' || spec.command === 'Sequence';
}
