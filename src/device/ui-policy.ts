/**
 * UI alert policies (protocol.md §12): the device's answer to 1100–1104 without (auto-accept / auto-reject) or
 * with (prompt) a person. Each is a UiHandler for the client engine.
 */
import { createInterface } from 'node:readline/promises';
import type { UiAnswer, UiHandler, UiRequest } from '../session/ui-alert.js';

export type UiPolicy = 'auto-accept' | 'auto-reject' | 'prompt';
export const UI_POLICIES: readonly UiPolicy[] = ['auto-accept', 'auto-reject', 'prompt'];

/** DR for 1103/1104 (`2` or `2-3`) as choice numbers within range, or undefined. */
function defaultChoices(request: UiRequest): number[] | undefined {
  const dr = request.options.defaultResponse;
  if (dr === undefined) return undefined;
  const picked = dr.split('-').map(Number);
  const ok =
    picked.length > 0 && picked.every((n) => Number.isInteger(n) && n >= 1 && n <= request.choices.length);
  return ok ? picked : undefined;
}

/** Says yes to everything: confirm → 200, text → the default response (DR) or '', choices → DR or the first. */
export const autoAccept: UiHandler = (request) => {
  switch (request.kind) {
    case 'display':
      return { type: 'ok' };
    case 'confirm':
      return { type: 'confirm', accepted: true };
    case 'text-input':
      return { type: 'text', text: request.options.defaultResponse ?? '' };
    case 'single-choice':
      return { type: 'choice', selected: defaultChoices(request)?.slice(0, 1) ?? [1] };
    case 'multiple-choice':
      return { type: 'choice', selected: defaultChoices(request) ?? [1] };
  }
};

/** Says no: confirm → 304, input and choices → cancelled (214); a plain display is still shown (200). */
export const autoReject: UiHandler = (request) => {
  switch (request.kind) {
    case 'display':
      return { type: 'ok' };
    case 'confirm':
      return { type: 'confirm', accepted: false };
    default:
      return { type: 'cancel' };
  }
};

/** A UiHandler that holds a resource (the terminal) until closed. */
export interface ClosableUiHandler {
  readonly handle: UiHandler;
  close(): void;
}

/**
 * Asks on a terminal. Empty input takes the default; `c` cancels (214); MAXDT bounds the wait (408 on expiry).
 * One readline interface serves every question (so answers typed ahead are not lost); `close()` releases
 * the input when the device is done.
 */
export function promptUi(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): ClosableUiHandler {
  let rl: ReturnType<typeof createInterface> | undefined;
  let ended = false;
  const handle: UiHandler = async (request) => {
    if (rl === undefined && !ended) {
      rl = createInterface({ input, output, terminal: false });
      rl.once('close', () => (ended = true));
    }
    const timeout = request.options.maxDisplayTime;
    const controller = new AbortController();
    const timer = timeout === undefined ? undefined : setTimeout(() => controller.abort(), timeout * 1000);
    const ask = async (question: string): Promise<string | undefined> => {
      if (rl === undefined || ended) return undefined; // no terminal input left: treated as no answer
      try {
        return (await rl.question(question, { signal: controller.signal })).trim();
      } catch {
        return undefined; // timed out or the input ended
      }
    };
    try {
      output.write(`\n[server] ${request.text}\n`);
      return await answer(request, ask);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };
  return { handle, close: () => rl?.close() };
}

async function answer(
  request: UiRequest,
  ask: (q: string) => Promise<string | undefined>,
): Promise<UiAnswer> {
  switch (request.kind) {
    case 'display': {
      await ask('press Enter to continue ');
      return { type: 'ok' };
    }
    case 'confirm': {
      const dflt = request.options.defaultResponse === '0' ? 'n' : 'y';
      const reply = await ask(`accept? [${dflt === 'y' ? 'Y/n' : 'y/N'}/c] `);
      if (reply === undefined) return { type: 'timeout' };
      const r = (reply === '' ? dflt : reply).toLowerCase();
      if (r.startsWith('c')) return { type: 'cancel' };
      return { type: 'confirm', accepted: r.startsWith('y') };
    }
    case 'text-input': {
      const dflt = request.options.defaultResponse ?? '';
      const reply = await ask(
        `input${dflt === '' ? '' : ` [${dflt}]`} (empty line for the default, "\\c" to cancel): `,
      );
      if (reply === undefined) return { type: 'timeout' };
      if (reply === '\\c') return { type: 'cancel' };
      return { type: 'text', text: reply === '' ? dflt : reply };
    }
    case 'single-choice':
    case 'multiple-choice': {
      const list = request.choices.map((choice, i) => `  ${i + 1}. ${choice}`).join('\n');
      const many = request.kind === 'multiple-choice';
      const reply = await ask(
        `${list}\nchoose ${many ? 'numbers separated by spaces' : 'a number'} (c to cancel): `,
      );
      if (reply === undefined) return { type: 'timeout' };
      if (reply.toLowerCase() === 'c') return { type: 'cancel' };
      const picked =
        reply === ''
          ? (defaultChoices(request) ?? [])
          : reply
              .split(/[\s,-]+/)
              .filter((s) => s !== '')
              .map(Number);
      return { type: 'choice', selected: many ? picked : picked.slice(0, 1) };
    }
  }
}

/** The handler for a policy name; `prompt` asks on the given terminal streams. Close it when done. */
export function uiHandlerFor(
  policy: UiPolicy,
  terminal: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream },
): ClosableUiHandler {
  if (policy === 'auto-accept') return { handle: autoAccept, close: () => undefined };
  if (policy === 'auto-reject') return { handle: autoReject, close: () => undefined };
  return promptUi(terminal.input, terminal.output);
}
