/**
 * Golden transcripts: whole sessions between the real engines, recorded as XML and compared byte for byte.
 * Deterministic (SeededRandom, ManualClock). Regenerate after an intended change with
 *   UPDATE_TRANSCRIPTS=1 npx vitest run test/session/transcripts.test.ts
 * and review the diff like code.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { textData } from '../../src/syncml/model.js';
import { MapTree, Pair, SERVER_ID, type PairOptions } from './harness.js';

const DIR = new URL('../fixtures/transcripts/', import.meta.url);
const UPDATE = process.env['UPDATE_TRANSCRIPTS'] === '1';

function render(pair: Pair, title: string): string {
  const utf8 = new TextDecoder();
  const parts = [`<!-- ${title}: recorded by test/session/transcripts.test.ts; do not edit by hand -->\n`];
  pair.transcript.forEach((e, i) => {
    const direction = e.from === 'client' ? `client -> server ${e.url ?? ''}` : 'server -> client';
    parts.push(`<!-- #${i + 1} ${direction}${e.hmac === undefined ? '' : ` x-syncml-hmac: ${e.hmac}`} -->\n`);
    parts.push(`${utf8.decode(e.bytes)}\n`);
  });
  return parts.join('');
}

const sessions: Record<string, { title: string; options: PairOptions; setup?: (pair: Pair) => void }> = {
  'client-initiated-basic.xml': {
    title: 'client-initiated session, basic credentials up front, Get and Replace, Generic Alert',
    options: {
      encoding: 'xml',
      account: { client: { auth: 'basic', username: 'dev-user', password: 'devpw' } },
      beforeServer: (s, turn) => {
        if (turn !== 1) return;
        s.enqueue('get', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] });
        s.enqueue('set', {
          kind: 'Replace',
          cmdId: 0,
          items: [{ target: { locUri: './Vendor/Setting' }, meta: { format: 'chr' }, data: textData('off') }],
        });
      },
    },
    setup: (pair) =>
      pair.client.addAlert({
        id: 'boot',
        items: [{ meta: { type: 'org.example.boot', format: 'chr' }, data: textData('ok') }],
      }),
  },
  'md5-challenge-package1-rule.xml': {
    title:
      'md5 challenge in Package 2; the client resends Package 1 (protocol.md §4.2) to the RespURI; 212 with NextNonce',
    options: {
      encoding: 'xml',
      account: {
        client: { auth: 'md5', username: 'dev-user', password: 'devpw' },
        server: { auth: 'md5', username: SERVER_ID, password: 'srvpw' },
      },
      client: { credentialsUpFront: false },
      server: { respUri: 'http://127.0.0.1:18080/dm/s/1A' },
      beforeServer: (s, turn) =>
        turn === 2 &&
        s.enqueue('get', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] }),
    },
  },
  'large-object-ui-hmac.xml': {
    title: 'HMAC both ways, a chunked Replace (MaxMsgSize 1500), a confirm alert',
    options: {
      encoding: 'xml',
      account: {
        client: { auth: 'hmac', username: 'dev-user', password: 'devpw' },
        server: { auth: 'hmac', username: SERVER_ID, password: 'srvpw' },
      },
      tree: new MapTree({ './Vendor/Setting': 'on' }),
      client: {
        credentialsUpFront: false,
        maxMsgSize: 1500,
        ui: () => ({ type: 'confirm', accepted: true }),
      },
      beforeServer: (s, turn) => {
        if (turn !== 2) return;
        s.enqueue('ask', {
          kind: 'Alert',
          cmdId: 0,
          code: 1101,
          items: [{ data: textData('MAXDT=30') }, { data: textData('Install?') }],
        });
        s.enqueue('blob', {
          kind: 'Replace',
          cmdId: 0,
          items: [
            {
              target: { locUri: './Vendor/Blob' },
              meta: { format: 'chr' },
              data: textData('0123456789'.repeat(250)),
            },
          ],
        });
      },
    },
  },
};

describe('golden transcripts', () => {
  for (const [file, session] of Object.entries(sessions)) {
    it(`${file} is byte-for-byte unchanged`, async () => {
      const pair = new Pair(session.options);
      session.setup?.(pair);
      await pair.run();
      expect(pair.clientEvents.at(-1)).toEqual({ type: 'ended', reason: 'completed' });
      const text = render(pair, session.title);
      const path = new URL(file, DIR);
      if (UPDATE || !existsSync(path)) {
        if (!UPDATE)
          throw new Error(`missing golden transcript ${file}: run with UPDATE_TRANSCRIPTS=1 to record it`);
        writeFileSync(path, text);
      }
      expect(text).toBe(readFileSync(path, 'utf8'));
    });
  }
});
