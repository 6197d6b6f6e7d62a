/**
 * What one engine step means for the store: its events turned into command outcomes, last known tree values
 * (Results and DevInfo), generic alerts and session markers; and the SyncHdr verdict of the authentication done
 * outside the engine (security.md §6) put on the Status the engine wrote.
 */
import type { Alert, Chal, Command, Item, SyncMLMessage } from '../../syncml/model.js';
import type { ServerEvent as EngineEvent } from '../../session/server-session.js';
import type { CommandOutcome, NewGenericAlert, TreeValue } from '../store/store.js';
import { outcomeOf, resultItem } from './queue-mapping.js';
import type { DevInfoMemo } from './write-avoidance.js';

export interface Effects {
  readonly outcomes: CommandOutcome[];
  readonly treeValues: Omit<TreeValue, 'updatedAt'>[];
  readonly alerts: NewGenericAlert[];
  readonly started: boolean;
  /** Who asked for the session that started: `server` when Package 1 carried Alert 1200 (a Package 0 answer). */
  readonly initiator: 'client' | 'server' | undefined;
  /** DevInfo was new or changed and is part of `treeValues`. */
  readonly devInfoWritten: boolean;
  readonly endReason: string | undefined;
}

export function effectsOf(
  events: readonly EngineEvent[],
  context: { deviceId: string; sessionId: string; devInfo: DevInfoMemo },
): Effects {
  const outcomes: CommandOutcome[] = [];
  const treeValues: Omit<TreeValue, 'updatedAt'>[] = [];
  const alerts: NewGenericAlert[] = [];
  let started = false;
  let initiator: 'client' | 'server' | undefined;
  let devInfoWritten = false;
  let endReason: string | undefined;
  for (const event of events) {
    switch (event.type) {
      case 'session-started':
        started = true;
        initiator = event.initiator;
        break;
      case 'devinfo':
        // Package 1 repeats DevInfo every session; it is written again only when it changed.
        if (context.devInfo.changed(context.deviceId, event.items)) {
          devInfoWritten = true;
          for (const item of event.items) treeValues.push(treeValue(item));
        }
        break;
      case 'client-alert':
        alerts.push(alertRecord(event.alert, context.sessionId));
        break;
      case 'outcome': {
        const results = event.results.map((item) => resultItem(item, undefined, undefined));
        const children = event.children.some((c) => c !== undefined)
          ? event.children.map((c) => c ?? 0)
          : undefined;
        const outcome = outcomeOf(Number(event.id), event.code, children, results);
        // A local 413 (the command could not reach the device): the operator sees why it was never sent.
        outcomes.push(event.reason === undefined ? outcome : { ...outcome, reason: event.reason });
        for (const r of results)
          if (r.target !== '')
            treeValues.push({ uri: r.target, data: r.data, format: r.format, type: r.type });
        break;
      }
      case 'ended':
        endReason = event.reason;
        break;
      default:
        break;
    }
  }
  return { outcomes, treeValues, alerts, started, initiator, devInfoWritten, endReason };
}

function alertRecord(alert: Alert, sessionId: string): NewGenericAlert {
  return {
    sessionId,
    code: alert.code ?? 0,
    correlator: alert.correlator ?? null,
    items: alert.items.map((item) => ({
      source: item.source?.locUri ?? null,
      type: item.meta?.type ?? null,
      format: item.meta?.format ?? null,
      mark: item.meta?.mark ?? null,
      data: resultItem(item, undefined, undefined).data,
    })),
  };
}

function treeValue(item: Item): Omit<TreeValue, 'updatedAt'> {
  const r = resultItem(item, undefined, undefined);
  return { uri: r.target, data: r.data, format: r.format, type: r.type };
}

/** Puts the authentication verdict on the SyncHdr Status the engine wrote (security.md §6). */
export function withHeaderVerdict(
  message: SyncMLMessage,
  code: number,
  chal: Chal | undefined,
): SyncMLMessage {
  const body = message.body.map((command): Command => {
    if (command.kind !== 'Status' || command.cmdRef !== 0 || command.cmd !== 'SyncHdr') return command;
    const { chal: _old, ...rest } = command;
    return { ...rest, code, ...(chal === undefined ? {} : { chal }) };
  });
  return { ...message, body };
}
