/**
 * protocol.md §8: a chunked command's final status is the status of its LAST chunk. 213 answers a buffered chunk;
 * an error for a non-final chunk stops the transfer and is the command's final status; a success other than 213
 * for a non-final chunk (libdmclient, which ignores MoreData, answers 200 and stores chunk 1 alone) is no final
 * word. The server engine is driven here by hand-written client messages, restored from its snapshot every time.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { SeededRandom } from '../../src/platform/random.js';
import { MemoryNonceStore } from '../../src/security/nonce.js';
import {
  ServerSession,
  type Json,
  type ServerEvent,
  type ServerSessionOptions,
} from '../../src/session/index.js';
import type { Add, Command, SyncMLMessage } from '../../src/syncml/model.js';
import { DEV_INFO, DEVICE_ID, encode, SERVER_URI } from './harness.js';

const VALUE = 'A'.repeat(3000);

function options(): ServerSessionOptions {
  return {
    serverUri: SERVER_URI,
    credentials: { lookup: () => ({}) },
    nonces: new MemoryNonceStore(),
    random: new SeededRandom(7),
    clock: new ManualClock(1_700_000_000_000),
    measure: (m) => encode(m, 'xml').length,
  };
}

function clientMessage(msgId: number, body: readonly Command[]): SyncMLMessage {
  return {
    header: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1',
      msgId,
      target: { locUri: SERVER_URI },
      source: { locUri: DEVICE_ID },
      meta: { maxMsgSize: 1200 },
    },
    body: body.map((c, i) => ({ ...c, cmdId: i + 1 })),
    final: true,
  };
}

function status(msgRef: number, cmdRef: number, cmd: string, code: number): Command {
  return { kind: 'Status', cmdId: 0, msgRef, cmdRef, cmd, targetRefs: [], sourceRefs: [], code, items: [] };
}

/** Runs a session whose device answers the Add's chunk number `index` (from 0) with `codeFor`. */
async function transfer(
  codeFor: (index: number, last: boolean) => number,
): Promise<{ chunks: Add[]; events: ServerEvent[]; ended: boolean }> {
  let snapshot: Json | undefined;
  const chunks: Add[] = [];
  const events: ServerEvent[] = [];
  let message = clientMessage(1, [
    { kind: 'Alert', cmdId: 0, code: 1201, items: [] },
    { kind: 'Replace', cmdId: 0, items: DEV_INFO },
  ]);
  for (let turn = 0; turn < 20; turn++) {
    const server =
      snapshot === undefined ? new ServerSession(options()) : ServerSession.restore(snapshot, options());
    if (turn === 0) {
      server.enqueue('add', {
        kind: 'Add',
        cmdId: 0,
        items: [
          {
            target: { locUri: './Vendor/Blob' },
            meta: { format: 'chr' },
            data: { kind: 'text', text: VALUE },
          },
        ],
      });
    }
    const step = await server.receive(message);
    events.push(...step.events);
    snapshot = server.snapshot();
    if (server.state === 'ended') return { chunks, events, ended: true };
    const out = step.outgoing!.message;
    const add = out.body.find((c): c is Add => c.kind === 'Add');
    const msgId = message.header.msgId + 1;
    const hdr = status(out.header.msgId, 0, 'SyncHdr', 200);
    if (add === undefined) {
      message = clientMessage(msgId, [hdr]);
      continue;
    }
    chunks.push(add);
    const code = codeFor(chunks.length - 1, add.items[0]?.moreData !== true);
    message = clientMessage(msgId, [hdr, status(out.header.msgId, add.cmdId, 'Add', code)]);
  }
  return { chunks, events, ended: false };
}

function outcome(events: readonly ServerEvent[]): unknown {
  return events.filter((e) => e.type === 'outcome').map((e) => (e.type === 'outcome' ? [e.id, e.code] : []));
}

describe('protocol.md §8: the status of a chunked command', () => {
  it('213 for every chunk but the last: the last chunk’s status is the command’s', async () => {
    const run = await transfer((_, last) => (last ? 200 : 213));
    expect(run.chunks.length).toBeGreaterThan(2);
    expect(run.chunks.map((c) => c.items[0]?.moreData === true)).toEqual(
      run.chunks.map((_, i) => i < run.chunks.length - 1),
    );
    expect(outcome(run.events)).toEqual([['add', 200]]);
    expect(run.ended).toBe(true);
  });

  it('an error for a non-final chunk stops the transfer and is the final status', async () => {
    const run = await transfer((index) => (index === 0 ? 213 : 500));
    expect(run.chunks).toHaveLength(2);
    expect(outcome(run.events)).toEqual([['add', 500]]);
    expect(run.ended).toBe(true);
  });

  it('libdmclient: 200 for chunk 1 (MoreData ignored) is not the final word; 418 for chunk 2 is, and ends the transfer', async () => {
    const run = await transfer((index) => (index === 0 ? 200 : 418));
    expect(run.chunks).toHaveLength(2);
    expect(outcome(run.events)).toEqual([['add', 418]]);
    expect(run.ended).toBe(true);
  });

  it('200 for every chunk: the last chunk’s 200 is the final status (sent whole)', async () => {
    const run = await transfer(() => 200);
    expect(run.chunks.at(-1)?.items[0]?.moreData).toBeUndefined();
    expect(outcome(run.events)).toEqual([['add', 200]]);
  });
});
