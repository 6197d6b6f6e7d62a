/**
 * Between the command queue and SyncML: a queued CommandSpec becomes the Command the server sends, and what the
 * device answered (Status codes, Results items) becomes the queue's outcome and the last known tree values.
 */
import type { Command, Data, Item, MetInf } from '../../syncml/model.js';
import { isSuccessStatus } from '../../syncml/constants.js';
import { b64 } from '../../security/digest.js';
import type { CommandSpec, ItemCommandSpec } from '../store/command-spec.js';
import type { CommandOutcome, ResultItem } from '../store/store.js';

function meta(spec: ItemCommandSpec): MetInf | undefined {
  if (spec.format === undefined && spec.type === undefined) return undefined;
  return {
    ...(spec.format === undefined ? {} : { format: spec.format }),
    ...(spec.type === undefined ? {} : { type: spec.type }),
  };
}

function itemOf(spec: ItemCommandSpec): Item {
  const m = meta(spec);
  return {
    target: { locUri: spec.target },
    ...(spec.source === undefined ? {} : { source: { locUri: spec.source } }),
    ...(m === undefined ? {} : { meta: m }),
    ...(spec.data === undefined ? {} : { data: { kind: 'text', text: spec.data } }),
  };
}

/** The SyncML command for a queued spec, CmdIDs left at 0 (the packer numbers them). */
export function commandOf(spec: CommandSpec): Command {
  switch (spec.command) {
    case 'Atomic':
      return { kind: 'Atomic', cmdId: 0, commands: spec.commands.map(commandOf) as never };
    case 'Sequence':
      return { kind: 'Sequence', cmdId: 0, commands: spec.commands.map(commandOf) as never };
    case 'Alert':
      return {
        kind: 'Alert',
        cmdId: 0,
        code: spec.code,
        // protocol.md §12: a UI alert's first Item carries the options, even when empty.
        items: (spec.items ?? []).map((text): Item => (text === '' ? {} : { data: { kind: 'text', text } })),
      };
    default:
      return { kind: spec.command, cmdId: 0, items: [itemOf(spec)] };
  }
}

function dataString(data: Data | undefined): string | null {
  if (data === undefined) return null;
  if (data.kind === 'text') return data.text;
  // Binary values (WBXML OPAQUE) are kept as Base64 text.
  if (data.kind === 'binary') return b64(data.bytes);
  return JSON.stringify(data.element);
}

/** One Results item as the queue and the tree keep it. */
export function resultItem(
  item: Item,
  commandMeta: MetInf | undefined,
  fallbackTarget: string | undefined,
): ResultItem {
  const format = item.meta?.format ?? commandMeta?.format ?? null;
  const type = item.meta?.type ?? commandMeta?.type ?? null;
  return {
    target: item.source?.locUri ?? item.target?.locUri ?? fallbackTarget ?? '',
    data: dataString(item.data),
    format,
    type,
  };
}

/** The outcome to record for a command from the device's status codes (the container's first) and results. */
export function outcomeOf(
  id: number,
  status: number,
  childStatuses: readonly number[] | undefined,
  results: readonly ResultItem[],
): CommandOutcome {
  return {
    id,
    state: isSuccessStatus(status) ? 'done' : 'failed',
    status,
    ...(childStatuses === undefined ? {} : { childStatuses }),
    ...(results.length === 0 ? {} : { results }),
  };
}
