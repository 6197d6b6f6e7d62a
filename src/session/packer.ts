/**
 * Fits a package into messages no larger than the peer's MaxMsgSize (protocol.md §6, §7): a Results with many
 * items is spread over several Results (see `splitsItems`), and a single large item is cut into chunks when it
 * cannot fit whole (protocol.md §8). The encoded size comes from an injected `measure` (the caller passes the
 * real encoder), so this stays pure.
 */
import type { Command, Item, Results, Status, SyncHdr, SyncMLMessage } from '../syncml/model.js';
import { LocalProtocolError } from '../errors.js';
import { numberCommands } from './commands.js';
import { chunkUnits, dataSize, isChunkable, sliceData } from './large-object.js';

export type Measure = (message: SyncMLMessage) => number;

/** A command waiting to be sent; `tag` lets the engine correlate the Status that will answer it. */
export interface PendingCommand {
  readonly command: Command;
  readonly tag?: string;
  /** Set once a large object has started: how many units (UTF-16 code units or bytes) were sent. */
  readonly sentUnits?: number;
  /** How many messages went out without this command because it did not fit (livelock guard). */
  readonly deferrals?: number;
}

/** A command that did not fit into this many messages in a row means MaxMsgSize is too small for the exchange. */
const MAX_DEFERRALS = 4;

export interface PackedCommand {
  readonly cmdId: number;
  readonly tag: string | undefined;
  readonly command: Command;
  /** A non-final chunk of a large object (the peer answers 213). */
  readonly chunk: boolean;
}

export interface PackResult {
  readonly message: SyncMLMessage;
  readonly packed: readonly PackedCommand[];
  readonly rest: readonly PendingCommand[];
}

/**
 * Whether a command's items may go out over several commands of its kind when they do not fit one message.
 *
 * Only Results. protocol.md §6 wants every command to fit into one message, with large-object data the only
 * thing spanning messages, so a too-big command is not cut up in general. A Get's answer is different: the
 * receiver learns nothing from how its items are grouped, since each Results names the Get by MsgRef/CmdRef and
 * each item names its node by Source (representation.md §6 Get: "Results go in the next message(s)"), and no
 * Status comes back for a Results received fine (protocol.md §5.5). Not split, on purpose:
 * - Atomic and Sequence: one unit by definition (protocol.md §11); their children never leave them.
 * - Status: exactly one per received command (protocol.md §5.5), and its items (UI choices) are one answer.
 * - Alert: a UI alert's items are one question (protocol.md §12); a Generic Alert's Status answers all items.
 * - Add, Replace, Delete, Copy, Get, Exec: each piece would get its own Status, while the sender correlates one
 *   command with one outcome; cutting them is a decision for the engine that queues them, not for the packer.
 */
export function splitsItems(command: Command): command is Results {
  return command.kind === 'Results' && command.items.length > 1;
}

/** The same Results (MsgRef, CmdRef, Meta, TargetRef/SourceRef) carrying `items` only. */
function withItems(results: Results, items: readonly Item[]): Results {
  return { ...results, items };
}

/** A Status without its TargetRef/SourceRef, or undefined when it has none (or is no Status). */
function withoutRefs(command: Command): Status | undefined {
  if (command.kind !== 'Status' || (command.targetRefs.length === 0 && command.sourceRefs.length === 0))
    return undefined;
  return { ...command, targetRefs: [], sourceRefs: [] };
}

function chunkableItem(command: Command): Item | undefined {
  if (command.kind !== 'Add' && command.kind !== 'Replace' && command.kind !== 'Results') return undefined;
  if (command.items.length !== 1) return undefined;
  const item = command.items[0]!;
  return isChunkable(item.data) ? item : undefined;
}

/**
 * The least any message carrying `command` as a large object needs (protocol.md §8): its first chunk cut to one
 * unit, with Size and MoreData. Undefined when the command cannot be chunked (only one item's Data of an Add,
 * Replace or Results can). An object of one unit comes back whole.
 */
export function smallestChunk(command: Command): Command | undefined {
  const item = chunkableItem(command);
  if (item === undefined) return undefined;
  const data = item.data as Extract<NonNullable<Item['data']>, { kind: 'text' | 'binary' }>;
  return withChunk(command, item, 0, 1, chunkUnits(data)).command;
}

function withChunk(
  command: Command,
  item: Item,
  start: number,
  length: number,
  total: number,
): { command: Command; last: boolean } {
  const data = item.data as Extract<NonNullable<Item['data']>, { kind: 'text' | 'binary' }>;
  const slice = sliceData(data, start, length);
  const sliceUnits =
    slice.kind === 'text' ? slice.text.length : slice.kind === 'binary' ? slice.bytes.length : 0;
  const last = start + sliceUnits >= total;
  const { size: _size, ...metaWithoutSize } = item.meta ?? {};
  // protocol.md §8: Size (total object size) only in the first chunk; MoreData on every chunk but the last.
  const meta = start === 0 && !last ? { ...metaWithoutSize, size: dataSize(data) } : metaWithoutSize;
  const chunkItem: Item = {
    ...(item.target === undefined ? {} : { target: item.target }),
    ...(item.source === undefined ? {} : { source: item.source }),
    ...(Object.keys(meta).length === 0 ? {} : { meta }),
    data: slice,
    ...(last ? {} : { moreData: true }),
  };
  return { command: { ...command, items: [chunkItem] } as Command, last };
}

function unitsOf(command: Command, item: Item, start: number, length: number, total: number): number {
  const { command: chunk } = withChunk(command, item, start, length, total);
  const data = (chunk as { items: readonly Item[] }).items[0]!.data!;
  return data.kind === 'text' ? data.text.length : data.kind === 'binary' ? data.bytes.length : 0;
}

export function pack(options: {
  readonly header: SyncHdr;
  readonly commands: readonly PendingCommand[];
  /** Whether this message would close the package if everything fits. */
  readonly final: boolean;
  readonly maxMsgSize: number | undefined;
  readonly measure: Measure | undefined;
  readonly role: 'client' | 'server';
  /** Leading commands that every message of this exchange carries (SyncHdr Status, Alert 1222): not progress. */
  readonly overhead?: number;
  /** Whether the peer accepts large objects (DevDetail/LrgObj); when false nothing is ever chunked. Default true. */
  readonly chunking?: boolean;
}): PackResult {
  const { header, commands, maxMsgSize, measure } = options;
  const body: Command[] = [];
  const packed: PackedCommand[] = [];
  const fits = (extra: Command): boolean =>
    measure === undefined ||
    maxMsgSize === undefined ||
    measure({ header, body: [...body, extra], final: true }) <= maxMsgSize;
  /** Whether `extra` would fit into a message holding only the leading commands every message carries. */
  const fitsAlone = (extra: Command): boolean =>
    measure === undefined ||
    maxMsgSize === undefined ||
    measure({ header, body: [...body.slice(0, options.overhead ?? 0), extra], final: true }) <= maxMsgSize;
  let next = 1;
  const take = (pending: PendingCommand, command: Command, chunk: boolean): void => {
    const numbered = numberCommands([command], next);
    next = numbered.next;
    const sent = numbered.commands[0]!;
    body.push(sent);
    packed.push({ cmdId: sent.cmdId, tag: pending.tag, command: sent, chunk });
  };
  const queue = [...commands];
  for (let i = 0; i < queue.length; i++) {
    const pending = queue[i]!;
    const item = options.chunking === false ? undefined : chunkableItem(pending.command);
    if (pending.sentUnits === undefined && splitsItems(pending.command)) {
      const results = pending.command;
      const part = (count: number): Command =>
        numberCommands([withItems(results, results.items.slice(0, count))], next).commands[0]!;
      // Most leading items that fit. Galloping, then bisection: the cost follows what one message holds, not the
      // whole answer (a listing of thousands of nodes is measured a few times per message, not in full each time).
      const lo = largestFitting(results.items.length, (count) => fits(part(count)));
      if (lo === results.items.length) {
        take(pending, pending.command, false);
        continue;
      }
      const cut = Math.max(lo, 1);
      const head: PendingCommand = { ...pending, command: withItems(results, results.items.slice(0, cut)) };
      const tail: PendingCommand = {
        ...pending,
        command: withItems(results, results.items.slice(cut)),
        deferrals: 0,
      };
      if (lo > 0) {
        take(head, head.command, false);
        // The other items follow in the next message(s), before anything queued after them: order is kept, so
        // every Results still comes after the Status of its Get (representation.md §6 Results).
        return { message: { header, body, final: false }, packed, rest: [tail, ...queue.slice(i + 1)] };
      }
      // Not even the first item fits beside what this message holds: it goes on alone (chunked as a large object
      // if it never fits, protocol.md §8), and the other items follow it.
      queue.splice(i, 1, head, tail);
      i--;
      continue;
    }
    if (pending.sentUnits === undefined) {
      const whole = numberCommands([pending.command], next).commands[0]!;
      if (fits(whole)) {
        take(pending, pending.command, false);
        continue;
      }
    }
    if (item !== undefined) {
      const data = item.data as Extract<NonNullable<Item['data']>, { kind: 'text' | 'binary' }>;
      const total = chunkUnits(data);
      const start = pending.sentUnits ?? 0;
      const candidate = (n: number): Command =>
        numberCommands([withChunk(pending.command, item, start, n, total).command], next).commands[0]!;
      if (fits(candidate(total - start))) {
        take(pending, withChunk(pending.command, item, start, total - start, total).command, false);
        continue;
      }
      // Largest chunk that fits, by bisection over the encoded size.
      let lo = 0;
      let hi = total - start - 1;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (fits(candidate(mid))) lo = mid;
        else hi = mid - 1;
      }
      if (lo === 0) {
        if (body.length <= (options.overhead ?? 0)) {
          throw new LocalProtocolError(
            'max-msg-size-too-small',
            `${options.role} cannot fit even one byte of a large object into MaxMsgSize ${String(maxMsgSize)}`,
          );
        }
        return {
          message: { header, body, final: false },
          packed,
          rest: defer(queue.slice(i), options.role, maxMsgSize),
        };
      }
      const sentNow = unitsOf(pending.command, item, start, lo, total);
      take(pending, withChunk(pending.command, item, start, lo, total).command, true);
      // protocol.md §8: nothing may be inserted between the chunks of an object; the message ends here.
      return {
        message: { header, body, final: false },
        packed,
        rest: [{ ...pending, sentUnits: start + sentNow, deferrals: 0 }, ...queue.slice(i + 1)],
      };
    }
    const bare = withoutRefs(pending.command);
    if (bare !== undefined && !fitsAlone(numberCommands([pending.command], next).commands[0]!)) {
      // A Status can never be split (one per command, protocol.md §5.5), but its TargetRef/SourceRef are optional
      // (`TargetRef*`, representation.md §3) copies of the command's URIs: a Status that would not fit even alone
      // (the answer to a Get of hundreds of nodes) goes without them; MsgRef/CmdRef still say what it answers.
      queue.splice(i, 1, { ...pending, command: bare });
      i--;
      continue;
    }
    if (body.length <= (options.overhead ?? 0)) {
      throw new LocalProtocolError(
        'command-too-large',
        `${options.role} cannot fit a ${pending.command.kind} command into MaxMsgSize ${String(maxMsgSize)} and it cannot be chunked`,
      );
    }
    return {
      message: { header, body, final: false },
      packed,
      rest: defer(queue.slice(i), options.role, maxMsgSize),
    };
  }
  return { message: { header, body, final: options.final }, packed, rest: [] };
}

/** The largest `count` in `[0, n]` with `fits(count)`, for a `fits` true up to some count and false after it. */
function largestFitting(n: number, fits: (count: number) => boolean): number {
  let lo = 0;
  let hi = n;
  for (let probe = 1; ; probe *= 2) {
    const count = Math.min(probe, n);
    if (!fits(count)) {
      hi = count - 1;
      break;
    }
    lo = count;
    if (count === n) return n;
  }
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function defer(
  rest: readonly PendingCommand[],
  role: string,
  maxMsgSize: number | undefined,
): PendingCommand[] {
  const first = rest[0];
  if (first === undefined) return [];
  const deferrals = (first.deferrals ?? 0) + 1;
  if (deferrals > MAX_DEFERRALS) {
    throw new LocalProtocolError(
      'max-msg-size-too-small',
      `${role} could not fit a ${first.command.kind} into ${MAX_DEFERRALS} messages in a row: MaxMsgSize ${String(maxMsgSize)} is too small`,
    );
  }
  return [{ ...first, deferrals }, ...rest.slice(1)];
}
