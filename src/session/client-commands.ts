/**
 * How the client engine executes one server command (protocol.md §8, §11, §12): large objects reassembled
 * before execution (213 per chunk, 424 on a size mismatch, 413 above MaxObjSize, Alert 1225 when broken),
 * UI alerts through the UiHandler, Sequence and Atomic around them, and the Status/Results that answer.
 */
import type { Alert, Atomic, Command, Sequence, Status } from '../syncml/model.js';
import type { CommandExecutor, CommandOutcome } from '../syncml/command-outcome.js';
import { AlertCode, StatusCode } from '../syncml/constants.js';
import { alert, commandStatus, statusesForAll } from './commands.js';
import type { PendingCommand } from './packer.js';
import {
  appendChunk,
  assemble,
  dataSize,
  objectKey,
  startObject,
  type IncomingObject,
} from './large-object.js';
import { parseUiAlert, uiAnswerStatus, type UiHandler } from './ui-alert.js';

export type CommandRunnerEvent = { readonly type: 'large-object-rejected'; readonly code: number };

export interface CommandRunnerContext {
  readonly executor: CommandExecutor;
  readonly ui: UiHandler | undefined;
  /** The authenticated server's ServerID (CommandContext for ACL checks). */
  readonly serverId: string;
  /** Our MaxObjSize. */
  readonly maxObjSize: number | undefined;
  /** The server's latest MaxObjSize: no Results larger than it are sent. */
  serverMaxObjSize(): number | undefined;
  emit(event: CommandRunnerEvent): void;
}

const BREAKS_LARGE_OBJECT: ReadonlySet<string> = new Set([
  'Add',
  'Replace',
  'Delete',
  'Copy',
  'Atomic',
  'Sequence',
]);

export class ClientCommandRunner {
  readonly #c: CommandRunnerContext;
  #incoming: { object: IncomingObject; command: Command } | undefined;
  #rejectedObjectKey: string | undefined;

  constructor(context: CommandRunnerContext) {
    this.#c = context;
  }

  /** Whether a large object is still arriving (the client must not close its package). */
  get receivingLargeObject(): boolean {
    return this.#incoming !== undefined;
  }

  /** Executes one command; returns the replies (Status, Results, Alert 1225) and whether the user cancelled. */
  async process(
    command: Command,
    msgRef: number,
  ): Promise<{ replies: PendingCommand[]; cancelled: boolean }> {
    const replies: PendingCommand[] = [];
    const reply = (c: Command): void => {
      replies.push({ command: c });
    };
    // protocol.md §8: a new command while a large object is incomplete → Alert 1225, nothing committed.
    if (this.#incoming !== undefined) {
      const continues =
        'items' in command &&
        command.items.length === 1 &&
        objectKey(command.kind, command.items[0]!) === this.#incoming.object.key;
      // protocol.md §8: a new data object or command (Add, Replace, Delete, Copy, Atomic, Sequence) breaks it.
      if (!continues && BREAKS_LARGE_OBJECT.has(command.kind)) {
        const broken = this.#incoming.object.first;
        const uri = broken.target?.locUri ?? broken.source?.locUri;
        reply(alert(AlertCode.NO_END_OF_DATA, uri === undefined ? [] : [{ target: { locUri: uri } }]));
        this.#incoming = undefined;
      }
    }
    if (command.kind === 'Alert') {
      const r = await this.#alert(command, msgRef);
      if (!(command.noResp ?? false)) reply(r.status);
      return { replies, cancelled: r.cancelled };
    }
    if (command.kind === 'Sequence') {
      const r = await this.#sequence(command, msgRef);
      return { replies: [...replies, ...r.replies], cancelled: r.cancelled };
    }
    if (command.kind === 'Atomic')
      return { replies: [...replies, ...(await this.#atomic(command, msgRef))], cancelled: false };
    if (command.kind === 'Status' || command.kind === 'Results') return { replies, cancelled: false };
    const items = command.items;
    // Large objects arriving in chunks.
    const continuing =
      this.#incoming !== undefined &&
      items.length === 1 &&
      objectKey(command.kind, items[0]!) === this.#incoming.object.key;
    if (items.length === 1 && (items[0]!.moreData === true || continuing)) {
      const item = items[0]!;
      const key = objectKey(command.kind, item);
      if (this.#rejectedObjectKey === key) {
        if (item.moreData !== true) this.#rejectedObjectKey = undefined;
        if (!(command.noResp ?? false))
          reply(commandStatus(command, msgRef, StatusCode.REQUEST_ENTITY_TOO_LARGE));
        return { replies, cancelled: false };
      }
      if (this.#incoming === undefined) {
        const size = item.meta?.size ?? command.meta?.size;
        if (size !== undefined && this.#c.maxObjSize !== undefined && size > this.#c.maxObjSize) {
          // protocol.md §7: objects larger than MaxObjSize are refused with 413.
          this.#rejectedObjectKey = key;
          this.#c.emit({ type: 'large-object-rejected', code: StatusCode.REQUEST_ENTITY_TOO_LARGE });
          reply(commandStatus(command, msgRef, StatusCode.REQUEST_ENTITY_TOO_LARGE));
          return { replies, cancelled: false };
        }
        this.#incoming = { object: startObject(command.kind, item, command.meta), command };
      } else {
        this.#incoming = { ...this.#incoming, object: appendChunk(this.#incoming.object, item) };
      }
      if (item.moreData === true) {
        // protocol.md §8: 213 for every buffered chunk.
        reply(commandStatus(command, msgRef, StatusCode.CHUNKED_ITEM_ACCEPTED));
        return { replies, cancelled: false };
      }
      const { object, command: first } = this.#incoming;
      this.#incoming = undefined;
      const whole = assemble(object);
      if (object.size !== undefined && whole.size !== object.size) {
        // protocol.md §8: size mismatch → 424, nothing committed.
        this.#c.emit({ type: 'large-object-rejected', code: StatusCode.SIZE_MISMATCH });
        reply(commandStatus(command, msgRef, StatusCode.SIZE_MISMATCH));
        return { replies, cancelled: false };
      }
      const assembled = { ...first, cmdId: command.cmdId, items: [whole.item] } as Command;
      return { replies: [...replies, ...(await this.#executeOne(assembled, msgRef))], cancelled: false };
    }
    return { replies: [...replies, ...(await this.#executeOne(command, msgRef))], cancelled: false };
  }

  async #executeOne(command: Command, msgRef: number): Promise<PendingCommand[]> {
    const tooBig =
      this.#c.maxObjSize !== undefined &&
      'items' in command &&
      command.items.some((item) => dataSize(item.data) > this.#c.maxObjSize!);
    const outcome: CommandOutcome = tooBig
      ? { code: StatusCode.REQUEST_ENTITY_TOO_LARGE }
      : await this.#c.executor.execute(command, { serverId: this.#c.serverId });
    return this.#answer(command, msgRef, outcome);
  }

  /** Status (then Results after it, then children's statuses) for one executed command (protocol.md §5.5). */
  #answer(command: Command, msgRef: number, given: CommandOutcome): PendingCommand[] {
    const out: PendingCommand[] = [];
    const max = this.#c.serverMaxObjSize();
    // protocol.md §7: never send the server an object larger than its MaxObjSize.
    const outcome: CommandOutcome =
      max !== undefined && given.results?.some((item) => dataSize(item.data) > max) === true
        ? { code: StatusCode.REQUEST_ENTITY_TOO_LARGE }
        : given;
    const noResp = 'noResp' in command && command.noResp === true;
    if (!noResp)
      out.push({
        command: commandStatus(
          command,
          msgRef,
          outcome.code,
          outcome.statusItems === undefined ? {} : { items: outcome.statusItems },
        ),
      });
    if (command.kind === 'Get' && outcome.results !== undefined && outcome.results.length > 0) {
      out.push({
        command: { kind: 'Results', cmdId: 0, msgRef, cmdRef: command.cmdId, items: outcome.results },
      });
    }
    if (command.kind === 'Atomic' || command.kind === 'Sequence') {
      command.commands.forEach((child, i) => {
        const childOutcome = outcome.children?.[i] ?? { code: outcome.code };
        out.push(...this.#answer(child, msgRef, childOutcome));
      });
    }
    return out;
  }

  async #alert(command: Alert, msgRef: number): Promise<{ status: Status; cancelled: boolean }> {
    const code = command.code ?? 0;
    if (code === AlertCode.NEXT_MESSAGE)
      return { status: commandStatus(command, msgRef, StatusCode.OK), cancelled: false };
    if (code < AlertCode.DISPLAY || code > AlertCode.MULTIPLE_CHOICE) {
      return {
        status: commandStatus(command, msgRef, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED),
        cancelled: false,
      };
    }
    if (this.#c.ui === undefined) {
      // protocol.md §12: a client without UI answers 406.
      return {
        status: commandStatus(command, msgRef, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED),
        cancelled: false,
      };
    }
    const request = parseUiAlert(command);
    if (request === undefined)
      return { status: commandStatus(command, msgRef, StatusCode.INCOMPLETE_COMMAND), cancelled: false };
    const answer = await this.#c.ui(request);
    const { code: statusCode, items } = uiAnswerStatus(request, answer);
    return {
      status: commandStatus(command, msgRef, statusCode, { items }),
      cancelled: statusCode === StatusCode.OPERATION_CANCELLED,
    };
  }

  /** Sequence: children in order; a "no" (304) or cancel (214) skips the rest with 215 (protocol.md §12, DG-UI-03). */
  async #sequence(
    command: Sequence,
    msgRef: number,
  ): Promise<{ replies: PendingCommand[]; cancelled: boolean }> {
    const children: PendingCommand[] = [];
    let skip = false;
    let cancelled = false;
    for (const child of command.commands) {
      if (skip) {
        children.push(
          ...statusesForAll([child], msgRef, StatusCode.NOT_EXECUTED).map((c) => ({ command: c })),
        );
        continue;
      }
      if (child.kind === 'Alert') {
        const r = await this.#alert(child, msgRef);
        if (!(child.noResp ?? false)) children.push({ command: r.status });
        if (r.status.code === StatusCode.NOT_MODIFIED || r.cancelled) skip = true;
        if (r.cancelled) cancelled = true;
        continue;
      }
      const r = await this.process(child, msgRef);
      children.push(...r.replies);
    }
    // protocol.md §11: the Sequence itself is 200 once its execution started.
    const own = command.noResp === true ? [] : [{ command: commandStatus(command, msgRef, StatusCode.OK) }];
    return { replies: [...own, ...children], cancelled };
  }

  /** Atomic: UI alerts inside are asked first; a "no" fails the whole Atomic (507, 216) before anything runs. */
  async #atomic(command: Atomic, msgRef: number): Promise<PendingCommand[]> {
    const uiStatuses = new Map<number, Status>();
    let refused = false;
    for (const child of command.commands) {
      if (child.kind !== 'Alert') continue;
      const r = await this.#alert(child, msgRef);
      uiStatuses.set(child.cmdId, r.status);
      if (!isOk(r.status.code)) refused = true;
    }
    if (refused) {
      const out: PendingCommand[] = [{ command: commandStatus(command, msgRef, StatusCode.ATOMIC_FAILED) }];
      for (const child of command.commands) {
        const ui = uiStatuses.get(child.cmdId);
        if (ui !== undefined) out.push({ command: ui });
        else
          out.push(
            ...statusesForAll([child], msgRef, StatusCode.ATOMIC_ROLLBACK_OK).map((c) => ({ command: c })),
          );
      }
      return out;
    }
    const rest = command.commands.filter((child) => child.kind !== 'Alert');
    const outcome = await this.#c.executor.execute(
      { ...command, commands: rest },
      { serverId: this.#c.serverId },
    );
    const out: PendingCommand[] =
      command.noResp === true ? [] : [{ command: commandStatus(command, msgRef, outcome.code) }];
    let index = 0;
    for (const child of command.commands) {
      const ui = uiStatuses.get(child.cmdId);
      if (ui !== undefined) {
        out.push({ command: ui });
        continue;
      }
      out.push(...this.#answer(child, msgRef, outcome.children?.[index] ?? { code: outcome.code }));
      index++;
    }
    return out;
  }
}

function isOk(code: number): boolean {
  return code >= 200 && code < 300;
}
