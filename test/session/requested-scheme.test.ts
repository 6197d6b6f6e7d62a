/**
 * protocol.md §4.2 (1): challenged in Package 2, the client resends Package 1 "with the credentials requested" —
 * also when the challenge names another scheme than the account's, except a downgrade from a digest to basic.
 */
import { describe, expect, it } from 'vitest';
import { fromB64, md5Credential } from '../../src/security/index.js';
import { ENCODINGS, ScriptedPeer, kinds } from './harness.js';

for (const encoding of ENCODINGS) {
  describe(`requested scheme over ${encoding}`, () => {
    it('DG-AUT-02: a basic account challenged for md5 resends Package 1 with md5 on the decoded nonce', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'basic', username: 'dev-user', password: 'devpw' },
      });
      const p1 = await peer.start();
      expect(p1.header.cred?.meta?.type).toBe('syncml:auth-basic');
      const again = await peer.reply([
        peer.hdrStatus(401, { meta: { type: 'syncml:auth-md5', format: 'b64', nextNonce: 'TjBuY2U=' } }),
        peer.status(1, 'Alert', 401),
        peer.status(2, 'Replace', 401),
      ]);
      expect(kinds(again!)).toEqual(['Status', 'Alert 1201', 'Replace']);
      expect(again!.header.cred).toEqual({
        meta: { type: 'syncml:auth-md5', format: 'b64' },
        data: md5Credential('dev-user', 'devpw', fromB64('TjBuY2U=')),
      });
    });

    it('an md5 account challenged for basic does not downgrade: the session ends with auth-failed', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'md5', username: 'dev-user', password: 'devpw' },
      });
      await peer.start();
      const answer = await peer.reply([
        peer.hdrStatus(401, { meta: { type: 'syncml:auth-basic', format: 'b64' } }),
        peer.status(1, 'Alert', 401),
        peer.status(2, 'Replace', 401),
      ]);
      expect(answer).toBeUndefined();
      expect(peer.sent).toHaveLength(1);
      expect(peer.ended()).toMatchObject({ type: 'ended', reason: 'auth-failed' });
    });
  });
}
