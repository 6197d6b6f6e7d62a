/**
 * Paired engines over real bytes: {XML, WBXML} × {basic, md5, hmac} × {credentials up front, challenged in
 * Package 2, wrong password, stale nonce, server challenged by client}.
 */
import { describe, expect, it } from 'vitest';
import type { AuthName } from '../../src/syncml/constants.js';
import { AUTH_TYPE_BY_NAME } from '../../src/syncml/constants.js';
import { parseHmacHeader } from '../../src/security/index.js';
import { DEVICE_ID, ENCODINGS, Pair, SERVER_ID, kinds, statusesOf } from './harness.js';

const SCHEMES: readonly AuthName[] = ['basic', 'md5', 'hmac'];
const getMod = { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] } as const;

function clientSecret(auth: AuthName, password = 'devpw') {
  return { auth, username: 'dev-user', password };
}
function serverSecret(auth: AuthName) {
  return { auth, username: SERVER_ID, password: 'srvpw' };
}
/** Both sides remember the nonce of a previous session (what "credentials up front" needs for md5/HMAC). */
function seedNonces(pair: Pair, clientSide: string, serverSide: string): void {
  pair.clientNonces.set(SERVER_ID, 'client-to-server', clientSide);
  pair.serverNonces.set(DEVICE_ID, 'client-to-server', serverSide);
}
function hasClientCredentials(pair: Pair, index: number, auth: AuthName): boolean {
  const exchange = pair.transcript.filter((e) => e.from === 'client')[index]!;
  if (auth === 'hmac')
    return exchange.hmac !== undefined && parseHmacHeader(exchange.hmac)?.username === 'dev-user';
  return exchange.message.header.cred?.meta?.type === AUTH_TYPE_BY_NAME[auth];
}
function ended(pair: Pair) {
  return pair.clientEvents.find((e) => e.type === 'ended');
}

for (const encoding of ENCODINGS) {
  describe(`auth matrix over ${encoding}`, () => {
    for (const auth of SCHEMES) {
      const okCode = auth === 'hmac' ? 200 : 212;

      it(`${auth}: credentials up front are accepted in Package 2 (${okCode})`, async () => {
        const pair = new Pair({
          encoding,
          account: { client: clientSecret(auth) },
          beforeServer: (server, turn) => turn === 1 && server.enqueue('get', getMod),
        });
        seedNonces(pair, 'cHJldmlvdXM=', 'cHJldmlvdXM=');
        await pair.run();
        expect(hasClientCredentials(pair, 0, auth)).toBe(true);
        const [p2] = pair.messages('server');
        expect(statusesOf(p2!)[0]).toMatchObject({ cmd: 'SyncHdr', code: okCode });
        expect(pair.serverEvents).toContainEqual(
          expect.objectContaining({ type: 'outcome', id: 'get', code: 200 }),
        );
        expect(ended(pair)).toEqual({ type: 'ended', reason: 'completed' });
        expect(pair.messages('client')).toHaveLength(2);
        if (auth !== 'basic') {
          // security.md §6: a NextNonce comes back and both sides now agree on it.
          const next =
            statusesOf(p2!)[0] &&
            (p2!.body[0] as { chal?: { meta: { nextNonce?: string } } }).chal?.meta.nextNonce;
          expect(next).toBeDefined();
          expect(pair.clientNonces.get(SERVER_ID, 'client-to-server')).toBe(
            pair.serverNonces.get(DEVICE_ID, 'client-to-server'),
          );
        }
        if (auth === 'hmac') expect(hasClientCredentials(pair, 1, auth)).toBe(true);
      });

      it(`${auth}: challenged in Package 2, the client resends Package 1 with ${auth} credentials`, async () => {
        const pair = new Pair({
          encoding,
          account: { client: clientSecret(auth) },
          client: { credentialsUpFront: false },
          beforeServer: (server, turn) => turn === 2 && server.enqueue('get', getMod),
        });
        await pair.run();
        const [p2] = pair.messages('server');
        expect(statusesOf(p2!).map((s) => s.code)).toEqual([407, 407, 407]);
        expect(p2!.body.every((c) => c.kind === 'Status')).toBe(true);
        const chal = (
          p2!.body[0] as { chal?: { meta: { type?: string; format?: string; nextNonce?: string } } }
        ).chal;
        expect(chal?.meta.type).toBe(AUTH_TYPE_BY_NAME[auth]);
        if (auth !== 'basic') expect(chal?.meta.nextNonce).toBeDefined();
        const resend = pair.messages('client')[1]!;
        expect(resend.header.msgId).toBe(2);
        expect(kinds(resend)).toEqual(['Status', 'Alert 1201', 'Replace']);
        expect(hasClientCredentials(pair, 1, auth)).toBe(true);
        expect(statusesOf(pair.messages('server')[1]!)[0]!.code).toBe(okCode);
        expect(pair.serverEvents).toContainEqual(
          expect.objectContaining({ type: 'outcome', id: 'get', code: 200 }),
        );
        expect(ended(pair)).toEqual({ type: 'ended', reason: 'completed' });
      });

      it(`${auth}: a wrong password ends the session after bounded retries on both sides`, async () => {
        const pair = new Pair({
          encoding,
          account: { client: clientSecret(auth) },
          client: { credentials: clientSecret(auth, 'wrong') },
        });
        seedNonces(pair, 'c2FtZQ==', 'c2FtZQ==');
        await pair.run();
        const serverMessages = pair.messages('server');
        // 1 + maxAuthAttempts (3) messages, the last one a 401 without Chal; the server never loops.
        expect(serverMessages).toHaveLength(4);
        expect(statusesOf(serverMessages.at(-1)!)[0]!.code).toBe(401);
        expect((serverMessages.at(-1)!.body[0] as { chal?: unknown }).chal).toBeUndefined();
        expect(pair.serverEvents.at(-1)).toMatchObject({ type: 'ended', reason: 'auth-failed' });
        const end = ended(pair);
        expect(end).toMatchObject({ type: 'ended', reason: 'auth-failed' });
        expect(end?.type === 'ended' && end.error?.message).toMatch(/refused|without a challenge/);
        expect(pair.tree.log).toEqual([]);
      });

      it(`${auth}: a stale nonce gets one more challenge with a fresh nonce (DG-AUT-08)`, async () => {
        const pair = new Pair({
          encoding,
          account: { client: clientSecret(auth) },
          beforeServer: (server, turn) =>
            server.state !== 'ended' && turn === 2 && server.enqueue('get', getMod),
        });
        seedNonces(pair, 'c3RhbGU=', 'ZnJlc2g=');
        await pair.run();
        const [p2] = pair.messages('server');
        if (auth === 'basic') {
          expect(statusesOf(p2!)[0]!.code).toBe(212);
          return;
        }
        expect(statusesOf(p2!)[0]!.code).toBe(401);
        const nonce = (p2!.body[0] as { chal?: { meta: { nextNonce?: string } } }).chal?.meta.nextNonce;
        expect(nonce).toBeDefined();
        expect(nonce).not.toBe('ZnJlc2g=');
        expect(statusesOf(pair.messages('server')[1]!)[0]!.code).toBe(okCode);
        expect(ended(pair)).toEqual({ type: 'ended', reason: 'completed' });
      });

      it(`${auth}: the server challenged by the client resends its commands with credentials (DG-AUT-06)`, async () => {
        const pair = new Pair({
          encoding,
          account: { client: clientSecret('basic'), server: serverSecret(auth) },
          server: { credentialsUpFront: false },
          beforeServer: (server, turn) => turn === 1 && server.enqueue('get', getMod),
        });
        await pair.run();
        const p3 = pair.messages('client')[1]!;
        expect(statusesOf(p3).map((s) => s.code)).toEqual([407, 407]);
        const chal = (p3.body[0] as { chal?: { meta: { type?: string; nextNonce?: string } } }).chal;
        expect(chal?.meta.type).toBe(AUTH_TYPE_BY_NAME[auth]);
        expect(chal?.meta.nextNonce).toBeDefined();
        expect(pair.tree.log).toEqual(['Get']);
        const p4 = pair.transcript.filter((e) => e.from === 'server')[1]!;
        if (auth === 'hmac') expect(parseHmacHeader(p4.hmac)?.username).toBe(SERVER_ID);
        else expect(p4.message.header.cred?.meta?.type).toBe(AUTH_TYPE_BY_NAME[auth]);
        expect(pair.clientEvents).toContainEqual({ type: 'server-authenticated', auth });
        expect(pair.serverEvents).toContainEqual(
          expect.objectContaining({ type: 'outcome', id: 'get', code: 200 }),
        );
        expect(ended(pair)).toEqual({ type: 'ended', reason: 'completed' });
      });
    }
  });
}
