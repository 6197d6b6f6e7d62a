/**
 * protocol.md §4.2 (the DM 1.2.1 clarification): both sentences, in XML and WBXML, plus the RespURI case.
 */
import { describe, expect, it } from 'vitest';
import { basicCredential, md5Credential, fromB64 } from '../../src/security/index.js';
import { ENCODINGS, Pair, SERVER_ID, SERVER_URI, ScriptedPeer, kinds, statusesOf } from './harness.js';

const md5Chal = (nonce: string) => ({ meta: { type: 'syncml:auth-md5', format: 'b64', nextNonce: nonce } });

for (const encoding of ENCODINGS) {
  describe(`Package 1 rule over ${encoding}`, () => {
    it('sentence 1: challenged in Package 2, the client reverts to Package 1 with Alert, DevInfo, Status(SyncHdr) and the requested credentials', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'md5', username: 'dev-user', password: 'devpw' },
        credentialsUpFront: false,
      });
      const p1 = await peer.start();
      expect(p1.header.cred).toBeUndefined();
      const p1again = await peer.reply([
        peer.hdrStatus(401, md5Chal('Tm9uY2VYWVo=')),
        peer.status(1, 'Alert', 401),
        peer.status(2, 'Replace', 401),
      ]);
      expect(p1again).toBeDefined();
      const m = p1again!;
      expect(m.header.sessionId).toBe(p1.header.sessionId);
      expect(m.header.msgId).toBe(2);
      expect(kinds(m)).toEqual(['Status', 'Alert 1201', 'Replace']);
      expect(statusesOf(m)[0]).toEqual({ cmd: 'SyncHdr', cmdRef: 0, code: 200, msgRef: 1 });
      expect(m.body.map((c) => c.cmdId)).toEqual([1, 2, 3]);
      expect(m.header.cred).toEqual({
        meta: { type: 'syncml:auth-md5', format: 'b64' },
        data: md5Credential('dev-user', 'devpw', fromB64('Tm9uY2VYWVo=')),
      });
      expect(m.header.source.locName).toBe('dev-user');
      expect(m.final).toBe(true);
      expect(peer.client.state).toBe('setup');
    });

    it('sentence 1 with RespURI: the resent Package 1 goes to the RespURI of the challenge', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'basic', username: 'dev-user', password: 'devpw' },
        credentialsUpFront: false,
      });
      await peer.start();
      const respUri = 'http://127.0.0.1:18080/dm/session/1A?token=abc';
      const again = await peer.reply(
        [
          peer.hdrStatus(407, { meta: { type: 'syncml:auth-basic', format: 'b64' } }),
          peer.status(1, 'Alert', 407),
          peer.status(2, 'Replace', 407),
        ],
        { respUri },
      );
      expect(peer.urls).toEqual([SERVER_URI, respUri]);
      expect(peer.client.url).toBe(respUri);
      expect(again!.header.cred?.data).toBe(basicCredential('dev-user', 'devpw'));
      expect(again!.header.target.locUri).toBe(SERVER_URI);
    });

    it('sentence 1, paired engines with a RespURI: the whole session completes over the RespURI', async () => {
      const respUri = 'http://127.0.0.1:18080/dm/s/42';
      const pair = new Pair({
        encoding,
        account: { client: { auth: 'md5', username: 'dev-user', password: 'devpw' } },
        client: { credentialsUpFront: false },
        server: { respUri },
        beforeServer: (server, turn) =>
          turn === 2 &&
          server.enqueue('get', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] }),
      });
      await pair.run();
      const urls = pair.transcript.filter((e) => e.from === 'client').map((e) => e.url);
      expect(urls).toEqual([SERVER_URI, respUri, respUri]);
      expect(pair.clientEvents.at(-1)).toEqual({ type: 'ended', reason: 'completed' });
    });

    it('sentence 2 (DG-AUT-05): no server credentials, no challenge, no commands → the client does not answer with a challenge', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'basic', username: 'dev-user', password: 'devpw' },
        serverCredentials: { auth: 'md5', username: SERVER_ID, password: 'srvpw' },
      });
      await peer.start();
      const answer = await peer.reply([
        peer.hdrStatus(212),
        peer.status(1, 'Alert', 200),
        peer.status(2, 'Replace', 200),
      ]);
      expect(answer).toBeUndefined();
      expect(peer.sent).toHaveLength(1);
      expect(peer.ended()).toMatchObject({ type: 'ended', reason: 'peer-auth-failed' });
      expect(peer.client.state).toBe('ended');
    });

    it('sentence 2 (DG-AUT-05): invalid server credentials, no commands → nothing is sent', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'basic', username: 'dev-user', password: 'devpw' },
        serverCredentials: { auth: 'basic', username: SERVER_ID, password: 'srvpw' },
      });
      await peer.start();
      const answer = await peer.reply(
        [peer.hdrStatus(212), peer.status(1, 'Alert', 200), peer.status(2, 'Replace', 200)],
        {
          cred: {
            meta: { type: 'syncml:auth-basic', format: 'b64' },
            data: basicCredential(SERVER_ID, 'guess'),
          },
        },
      );
      expect(answer).toBeUndefined();
      expect(peer.ended()).toMatchObject({ reason: 'peer-auth-failed' });
    });

    it('sentence 2, paired: a server without credentials and without work ends the session silently', async () => {
      const pair = new Pair({
        encoding,
        account: {
          client: { auth: 'basic', username: 'dev-user', password: 'devpw' },
          server: { auth: 'md5', username: SERVER_ID, password: 'srvpw' },
        },
        server: { credentialsUpFront: false },
      });
      await pair.run();
      expect(pair.messages('client')).toHaveLength(1);
      expect(pair.clientEvents.at(-1)).toMatchObject({ type: 'ended', reason: 'peer-auth-failed' });
      expect(pair.tree.log).toEqual([]);
    });
  });
}
