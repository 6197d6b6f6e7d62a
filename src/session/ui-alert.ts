/** User interaction alerts 1100–1104 (protocol.md §12): parsing the options and the items, mapping answers to codes. */
import type { Alert, Item } from '../syncml/model.js';
import { dataText, textData } from '../syncml/model.js';
import { AlertCode, StatusCode } from '../syncml/constants.js';

export interface UiOptions {
  /** MINDT: minimum display time, seconds. */
  readonly minDisplayTime?: number;
  /** MAXDT: how long to wait for the user, seconds. */
  readonly maxDisplayTime?: number;
  /** DR: default response, as sent (URL-decoded). */
  readonly defaultResponse?: string;
  /** MAXLEN: maximum input length (1102). */
  readonly maxLength?: number;
  /** IT: input type A, N, D, T, P, I (1102). */
  readonly inputType?: 'A' | 'N' | 'D' | 'T' | 'P' | 'I';
  /** ET: echo type T or P (1102). */
  readonly echoType?: 'T' | 'P';
}

export type UiKind = 'display' | 'confirm' | 'text-input' | 'single-choice' | 'multiple-choice';

export interface UiRequest {
  readonly kind: UiKind;
  readonly code: number;
  readonly options: UiOptions;
  readonly text: string;
  /** 1103/1104: the choices, numbered from 1 in this order. */
  readonly choices: readonly string[];
  readonly correlator?: string;
}

/** What the user did. `timeout` answers 408; `cancel` 214 (protocol.md §12). */
export type UiAnswer =
  | { readonly type: 'ok' }
  | { readonly type: 'confirm'; readonly accepted: boolean }
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'choice'; readonly selected: readonly number[] }
  | { readonly type: 'cancel' }
  | { readonly type: 'timeout' };

/** The device's user interface: a port. May be async (it waits for a person). */
export type UiHandler = (request: UiRequest) => UiAnswer | Promise<UiAnswer>;

const KINDS: Readonly<Record<number, UiKind>> = {
  [AlertCode.DISPLAY]: 'display',
  [AlertCode.CONFIRM_OR_REJECT]: 'confirm',
  [AlertCode.TEXT_INPUT]: 'text-input',
  [AlertCode.SINGLE_CHOICE]: 'single-choice',
  [AlertCode.MULTIPLE_CHOICE]: 'multiple-choice',
};

function positive(value: string): number | undefined {
  return /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : undefined;
}

function urlDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/** protocol.md §12.1: `name=value` pairs joined by `&`; unknown options are silently skipped (DG-UI-11). */
export function parseUiOptions(text: string): UiOptions {
  const options: { -readonly [K in keyof UiOptions]: UiOptions[K] } = {};
  for (const pair of text.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim().toUpperCase();
    const value = urlDecode(pair.slice(eq + 1));
    switch (name) {
      case 'MINDT': {
        const n = positive(value);
        if (n !== undefined) options.minDisplayTime = n;
        break;
      }
      case 'MAXDT': {
        const n = positive(value);
        if (n !== undefined) options.maxDisplayTime = n;
        break;
      }
      case 'MAXLEN': {
        const n = positive(value);
        if (n !== undefined) options.maxLength = n;
        break;
      }
      case 'DR':
        options.defaultResponse = value;
        break;
      case 'IT':
        if (/^[ANDTPI]$/.test(value)) options.inputType = value as NonNullable<UiOptions['inputType']>;
        break;
      case 'ET':
        if (value === 'T' || value === 'P') options.echoType = value;
        break;
      default:
        break;
    }
  }
  return options;
}

/** Parses a UI alert; undefined when it is malformed (fewer than two Items → answer 412). */
export function parseUiAlert(command: Alert): UiRequest | undefined {
  const kind = command.code === undefined ? undefined : KINDS[command.code];
  if (kind === undefined || command.items.length < 2) return undefined;
  const [first, second, ...rest] = command.items as [Item, Item, ...Item[]];
  return {
    kind,
    code: command.code!,
    options: parseUiOptions(dataText(first.data) ?? ''),
    text: dataText(second.data) ?? '',
    choices:
      kind === 'single-choice' || kind === 'multiple-choice'
        ? rest.map((item) => dataText(item.data) ?? '')
        : [],
    ...(command.correlator === undefined ? {} : { correlator: command.correlator }),
  };
}

/** The Status code and Items for an answer (protocol.md §12 table). */
export function uiAnswerStatus(request: UiRequest, answer: UiAnswer): { code: number; items: Item[] } {
  switch (answer.type) {
    case 'cancel':
      return { code: StatusCode.OPERATION_CANCELLED, items: [] };
    case 'timeout':
      return { code: StatusCode.REQUEST_TIMEOUT, items: [] };
    case 'confirm':
      return { code: answer.accepted ? StatusCode.OK : StatusCode.NOT_MODIFIED, items: [] };
    case 'text':
      if (request.options.maxLength !== undefined && [...answer.text].length > request.options.maxLength) {
        return { code: StatusCode.REQUESTED_SIZE_TOO_BIG, items: [] };
      }
      return { code: StatusCode.OK, items: [{ data: textData(answer.text) }] };
    case 'choice': {
      const valid = answer.selected.every(
        (n) => Number.isInteger(n) && n >= 1 && n <= request.choices.length,
      );
      if (!valid || (request.kind === 'single-choice' && answer.selected.length !== 1)) {
        return { code: StatusCode.INCOMPLETE_COMMAND, items: [] };
      }
      return { code: StatusCode.OK, items: answer.selected.map((n) => ({ data: textData(String(n)) })) };
    }
    case 'ok':
      return { code: StatusCode.OK, items: [] };
  }
}
