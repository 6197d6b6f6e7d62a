/**
 * The tree side of the session contract (src/syncml/command-outcome.ts): model Commands in, status codes
 * and Results items out.
 *
 * Rules:
 * - Command Meta applies to every Item; Item Meta refines it (representation.md §4).
 * - One status per command. Items run in order; the first failing Item decides the status, and a
 *   mutating command is all-or-nothing: earlier Items of the same command are rolled back. A failing
 *   Get returns no Results. The failing node's URI is echoed in `statusItems` (representation.md §6, Add).
 * - Atomic: children in order; the first failure stops it, the tree is restored, the Atomic answers 507,
 *   executed children 216, the failing child its code, children never run 215. Get, Exec, Atomic and
 *   Sequence inside Atomic are illegal in DM → 500 (DG-CMD-16).
 * - Sequence: children in order, each with its own status; the Sequence answers 200.
 * - Alert (UI alerts inside Atomic/Sequence) goes to `alertHandler`; without one → 406.
 * - After every top-level command that changed the tree, the attached TreeStore is saved.
 * Commands are serialized: a second execute() waits for the first.
 */
import type { CommandContext, CommandExecutor, CommandOutcome } from '../syncml/command-outcome.js';
import { TNDS_WBXML_TYPE, TNDS_XML_TYPE } from '../syncml/constants.js';
import type { Alert, Command, Data, Item, MetInf } from '../syncml/model.js';
import { encodeB64, fromUtf8 } from './format.js';
import type { ManagementTree } from './management-tree.js';
import type { Actor } from './node-record.js';
import type { ReadEntry } from './read-ops.js';
import { addTnds, replaceTnds } from './tnds-import.js';
import { TreeError, statusOf } from './tree-error.js';
import { xmlText } from './doc-element.js';
import type { NodeInput } from './value-input.js';

/** The session may say which encoding the current message uses (binary data and TNDS differ). */
export interface TreeCommandContext extends CommandContext {
  readonly encoding?: 'xml' | 'wbxml';
}

export interface TreeExecutorOptions {
  /** Handles Alerts found inside Atomic/Sequence (user interaction); absent → 406. */
  readonly alertHandler?: (alert: Alert, context: CommandContext) => CommandOutcome | Promise<CommandOutcome>;
}

export class TreeCommandExecutor implements CommandExecutor {
  readonly #tree: ManagementTree;
  readonly #options: TreeExecutorOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(tree: ManagementTree, options: TreeExecutorOptions = {}) {
    this.#tree = tree;
    this.#options = options;
  }

  execute(command: Command, context: CommandContext): Promise<CommandOutcome> {
    const run = this.#queue.then(async () => {
      const outcome = await this.#run(command, context, 'top');
      await this.#tree.save();
      return outcome;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(
    command: Command,
    context: TreeCommandContext,
    where: 'top' | 'atomic' | 'sequence',
  ): Promise<CommandOutcome> {
    const actor: Actor = { serverId: context.serverId };
    switch (command.kind) {
      case 'Atomic':
        if (where === 'atomic') return { code: 500 };
        return this.#atomic(command.commands, context);
      case 'Sequence':
        if (where !== 'top') return { code: 500 };
        return this.#sequence(command.commands, context);
      case 'Get':
        if (where === 'atomic') return { code: 500 };
        return this.#get(command.items, actor, context);
      case 'Exec':
        if (where === 'atomic') return { code: 500 };
        return this.#each(command.items, command.meta, async (item, uri) => {
          const data = item.data === undefined ? undefined : bytesOf(item.data);
          const input = {
            ...(data === undefined ? {} : { data }),
            ...(command.correlator === undefined ? {} : { correlator: command.correlator }),
          };
          return this.#tree.exec(uri, input, actor);
        });
      case 'Add':
        return this.#each(command.items, command.meta, async (item, uri, meta) => {
          if (isTnds(meta)) await addTnds(this.#tree, uri, item.data, actor);
          else await this.#tree.add(uri, inputOf(item, meta), actor);
          return 200;
        });
      case 'Replace':
        return this.#each(command.items, command.meta, async (item, uri, meta) => {
          if (isTnds(meta)) await replaceTnds(this.#tree, uri, item.data, actor);
          else await this.#tree.replace(uri, inputOf(item, meta), actor);
          return 200;
        });
      case 'Delete':
        return this.#each(command.items, command.meta, async (_item, uri) => {
          await this.#tree.delete(uri, actor);
          return 200;
        });
      case 'Copy':
        return this.#each(command.items, command.meta, async (item, uri) => {
          const source = item.source?.locUri;
          if (source === undefined)
            throw new TreeError(412, 'incomplete-command', 'Copy Item without Source', uri);
          await this.#tree.copy(source, uri, actor);
          return 200;
        });
      case 'Alert':
        return this.#options.alertHandler?.(command, context) ?? { code: 406 };
      case 'Results':
      case 'Status':
        return { code: 400 };
    }
  }

  /** Runs a mutating command's Items all-or-nothing; the first failure decides the status. */
  async #each(
    items: readonly Item[],
    commandMeta: MetInf | undefined,
    work: (item: Item, uri: string, meta: MetInf) => Promise<number>,
  ): Promise<CommandOutcome> {
    if (items.length === 0) return { code: 412 };
    let code = 200;
    let failed: string | undefined;
    try {
      await this.#tree.transaction(async () => {
        for (const item of items) {
          const uri = item.target?.locUri;
          failed = uri;
          if (uri === undefined) throw new TreeError(412, 'incomplete-command', 'Item without Target');
          const c = await work(item, uri, { ...commandMeta, ...item.meta });
          if (c >= 300) throw new TreeError(c, 'exec-failed', 'handler failed', uri);
          if (c !== 200) code = c;
        }
      });
    } catch (error) {
      const at = error instanceof TreeError && error.uri !== undefined ? error.uri : failed;
      return at === undefined
        ? { code: statusOf(error) }
        : { code: statusOf(error), statusItems: [{ target: { locUri: at } }] };
    }
    return { code };
  }

  async #get(items: readonly Item[], actor: Actor, context: TreeCommandContext): Promise<CommandOutcome> {
    if (items.length === 0) return { code: 412 };
    const results: Item[] = [];
    for (const item of items) {
      const uri = item.target?.locUri;
      if (uri === undefined) return { code: 412 };
      try {
        for (const entry of await this.#tree.get(uri, actor)) results.push(this.#resultItem(entry, context));
      } catch (error) {
        return { code: statusOf(error), statusItems: [{ target: { locUri: uri } }] };
      }
    }
    return { code: 200, results };
  }

  #resultItem(entry: ReadEntry, context: TreeCommandContext): Item {
    const source = { locUri: entry.uri };
    const type = entry.type === '' ? {} : { type: entry.type };
    if (entry.tnds !== undefined) {
      // The WBXML codec turns an embedded TNDS into OPAQUE WBXML and the Type into +wbxml (wbxml.md §8).
      return {
        source,
        meta: { format: 'xml', type: TNDS_XML_TYPE },
        data: { kind: 'xml', element: entry.tnds },
      };
    }
    if (entry.value === undefined) return { source, meta: { format: entry.format, ...type } };
    if (entry.format === 'bin') {
      // representation.md §5: binary travels as OPAQUE (Format bin) in WBXML, as Base64 (Format b64) in XML.
      return context.encoding === 'wbxml'
        ? { source, meta: { format: 'bin', ...type }, data: { kind: 'binary', bytes: entry.value } }
        : { source, meta: { format: 'b64', ...type }, data: { kind: 'text', text: encodeB64(entry.value) } };
    }
    return {
      source,
      meta: { format: entry.format, ...type },
      data: { kind: 'text', text: fromUtf8(entry.value) },
    };
  }

  async #atomic(commands: readonly Command[], context: TreeCommandContext): Promise<CommandOutcome> {
    const children: CommandOutcome[] = [];
    let failedAt = -1;
    try {
      await this.#tree.transaction(async () => {
        for (const [i, child] of commands.entries()) {
          const outcome = await this.#run(child, context, 'atomic');
          children.push(outcome);
          if (outcome.code >= 300) {
            failedAt = i;
            throw new TreeError(507, 'atomic-failed', `command ${child.cmdId} in Atomic failed`);
          }
        }
      });
    } catch {
      // representation.md §6 Atomic: 507 for the Atomic, 216 for rolled-back children, 215 for those never run.
      const rolled = children.map((c, i) => (i === failedAt ? c : { ...c, code: 216, results: [] }));
      const skipped = commands.slice(children.length).map(() => ({ code: 215 }));
      return { code: 507, children: [...rolled, ...skipped].map(stripEmptyResults) };
    }
    return { code: 200, children };
  }

  async #sequence(commands: readonly Command[], context: TreeCommandContext): Promise<CommandOutcome> {
    const children: CommandOutcome[] = [];
    for (const child of commands) children.push(await this.#run(child, context, 'sequence'));
    return { code: 200, children };
  }
}

function stripEmptyResults(o: CommandOutcome): CommandOutcome {
  if (o.results === undefined || o.results.length > 0) return o;
  const { results: _r, ...rest } = o;
  return rest;
}

function isTnds(meta: MetInf): boolean {
  return meta.type === TNDS_XML_TYPE || meta.type === TNDS_WBXML_TYPE;
}

function bytesOf(data: Data): Uint8Array {
  if (data.kind === 'binary') return data.bytes;
  if (data.kind === 'text') return new TextEncoder().encode(data.text);
  return new TextEncoder().encode(xmlText(data.element));
}

/** Item + merged Meta → NodeInput (Data xml for an `xml` leaf is stored as its text). */
export function inputOf(item: Item, meta: MetInf): NodeInput {
  const value =
    item.data === undefined ? undefined : item.data.kind === 'text' ? item.data.text : bytesOf(item.data);
  return {
    ...(meta.format === undefined ? {} : { format: meta.format }),
    ...(meta.type === undefined ? {} : { type: meta.type }),
    ...(value === undefined ? {} : { value }),
  };
}
