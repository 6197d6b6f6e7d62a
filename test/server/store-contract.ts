/**
 * The Store contract (src/server/store/store.ts), run unchanged against every implementation on a real database:
 * store-sqlite.test.ts and store-postgres.test.ts. Each test gets a fresh, empty, migrated database.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import {
  DuplicateError,
  MIGRATIONS,
  NonceResyncTakenError,
  StaleSessionError,
  StoreRequestError,
  clientSecretDigest,
  migrate,
  SqlStore,
} from '../../src/server/store/index.js';
import type { CommandSpec, NewDevice, SqlStoreOptions } from '../../src/server/store/index.js';
import type { SqlDriver } from '../../src/server/store/sql-driver.js';
import { CorruptMessageLogError, SEGMENT_MAX_INPUT } from '../../src/server/store/message-segment.js';
import { pruneSlack } from '../../src/server/store/message-log.js';

export interface StoreHarness {
  /** Opens a store on a fresh, empty database. */
  open(options: SqlStoreOptions): Promise<SqlStore>;
  /** Opens another connection (another pool / handle) to the database `open` created. */
  openSecond(options: SqlStoreOptions): Promise<SqlStore>;
  /** Closes every store opened and removes the database. */
  cleanup(): Promise<void>;
}

/** Wraps a driver to count its round trips (a transaction counts once, whatever it runs). */
function countRoundTrips(inner: SqlDriver) {
  const calls = { reads: 0, writes: 0, transactions: 0 };
  const driver: SqlDriver = {
    dialect: inner.dialect,
    all: (sql, params) => {
      calls[/^\s*SELECT/i.test(sql) ? 'reads' : 'writes']++;
      return inner.all(sql, params);
    },
    run: (sql, params) => {
      calls.writes++;
      return inner.run(sql, params);
    },
    transaction: (fn) => {
      calls.transactions++;
      return inner.transaction(fn);
    },
    // A group read (SQLite: one read transaction in this process) is one round trip.
    ...(inner.readMany === undefined
      ? {}
      : {
          readMany: (queries) => {
            calls.reads++;
            return inner.readMany!(queries);
          },
        }),
    close: () => inner.close(),
  };
  return {
    driver,
    calls,
    reset: () => Object.assign(calls, { reads: 0, writes: 0, transactions: 0 }),
  };
}

const GET_MOD: CommandSpec = { command: 'Get', target: './DevInfo/Mod' };
const REPLACE: CommandSpec = { command: 'Replace', target: './Vendor/Setting', data: '42', format: 'int' };

function device(id: string, extra: Partial<NewDevice> = {}): NewDevice {
  return {
    deviceId: id,
    username: `user-${id}`,
    password: 'client-pw',
    authType: 'md5',
    serverPassword: 'server-pw',
    ...extra,
  };
}

export function storeContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`Store contract (${name})`, () => {
    let harness: StoreHarness;
    let clock: ManualClock;
    let store: SqlStore;

    beforeEach(async () => {
      harness = makeHarness();
      clock = new ManualClock(1_700_000_000_000);
      store = await harness.open({ clock, retention: { maxAgeMs: 60_000, maxPerDevice: 5 } });
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    /** A session with `ids` sent in it, at version 1. */
    async function sendInNewSession(deviceId: string, sessionId: string, ids: number[]): Promise<void> {
      await store.commitExchange({
        deviceId,
        session: { sessionId, expectedVersion: 0, snapshot: { step: 1 } },
        markSent: ids,
      });
    }

    /** Segment rows, their stored (compressed) bytes and their uncompressed bytes. */
    async function segmentStats(): Promise<{ segments: number; bytes: number; rawSize: number }> {
      const row = (
        await store.driver.all(
          `SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS bytes, COALESCE(SUM(raw_size), 0) AS raw FROM message_segments`,
        )
      )[0]!;
      return { segments: Number(row['n']), bytes: Number(row['bytes']), rawSize: Number(row['raw']) };
    }

    describe('devices', () => {
      it('creates a device storing only the digest of the client password', async () => {
        const created = await store.createDevice(
          device('IMEI:359000000000001', { notifyAddress: 'http://127.0.0.1:9/n' }),
        );
        expect(created).toMatchObject({
          deviceId: 'IMEI:359000000000001',
          username: 'user-IMEI:359000000000001',
          clientSecretDigest: clientSecretDigest('user-IMEI:359000000000001', 'client-pw'),
          authType: 'md5',
          serverPassword: 'server-pw',
          clientNonce: null,
          serverNonce: null,
          notifyAddress: 'http://127.0.0.1:9/n',
          failedAuthCount: 0,
          lockedUntil: null,
          lastSeen: null,
          createdAt: clock.now(),
        });
        expect(JSON.stringify(created)).not.toContain('client-pw');
        expect(await store.getDevice('IMEI:359000000000001')).toEqual(created);
      });

      it('the stored digest is enough to verify an md5 credential (security.md §3 vector Bruce2/OhBehave/Nonce)', () => {
        const digest = clientSecretDigest('Bruce2', 'OhBehave');
        const cred = createHash('md5').update(`${digest}:Nonce`).digest('base64');
        expect(cred).toBe('Zz6EivR3yeaaENcRN6lpAQ==');
      });

      it('refuses a duplicate device id with DuplicateError (409)', async () => {
        await store.createDevice(device('dup'));
        const error = await store.createDevice(device('dup')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DuplicateError);
        expect(error).toMatchObject({ code: 'device-exists', httpStatus: 409 });
      });

      it('returns undefined for an unknown device', async () => {
        expect(await store.getDevice('nope')).toBeUndefined();
        expect(await store.updateDevice('nope', { lastSeen: 1 })).toBeUndefined();
        expect(await store.deleteDevice('nope')).toBe(false);
      });

      it('lists devices ordered by id, paged by cursor and by offset, filtered by id prefix', async () => {
        for (const id of ['b-2', 'a-1', 'b-1', 'c-1', 'b-3']) await store.createDevice(device(id));
        const first = await store.listDevices({ limit: 2 });
        expect(first.items.map((d) => d.deviceId)).toEqual(['a-1', 'b-1']);
        expect(first.nextCursor).toBeDefined();
        const second = await store.listDevices({ limit: 2, cursor: first.nextCursor! });
        expect(second.items.map((d) => d.deviceId)).toEqual(['b-2', 'b-3']);
        const third = await store.listDevices({ limit: 2, cursor: second.nextCursor! });
        expect(third.items.map((d) => d.deviceId)).toEqual(['c-1']);
        expect(third.nextCursor).toBeUndefined();
        expect((await store.listDevices({ limit: 2, offset: 3 })).items.map((d) => d.deviceId)).toEqual([
          'b-3',
          'c-1',
        ]);
        const filtered = await store.listDevices({ idPrefix: 'b-', limit: 2 });
        expect(filtered.items.map((d) => d.deviceId)).toEqual(['b-1', 'b-2']);
        const rest = await store.listDevices({ idPrefix: 'b-', limit: 2, cursor: filtered.nextCursor! });
        expect(rest.items.map((d) => d.deviceId)).toEqual(['b-3']);
        expect((await store.listDevices({ idPrefix: 'B-' })).items).toEqual([]);
      });

      it('refuses bad page requests naming the field', async () => {
        await expect(store.listDevices({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
        await expect(store.listDevices({ limit: 1001 })).rejects.toBeInstanceOf(StoreRequestError);
        await expect(store.listDevices({ offset: -1 })).rejects.toMatchObject({ field: 'offset' });
        await expect(store.listDevices({ cursor: 'garbage!' })).rejects.toMatchObject({
          field: 'cursor',
          httpStatus: 400,
        });
      });

      it('updates fields, re-derives the digest from a new password, refuses a user name change without one', async () => {
        await store.createDevice(device('d1'));
        const updated = await store.updateDevice('d1', {
          authType: 'hmac',
          serverPassword: 'new-server',
          notifyAddress: 'http://127.0.0.1:1/x',
          clientNonce: 'Y2xpZW50',
          serverNonce: 'c2VydmVy',
          lastSeen: 123,
        });
        expect(updated).toMatchObject({
          authType: 'hmac',
          serverPassword: 'new-server',
          notifyAddress: 'http://127.0.0.1:1/x',
          clientNonce: 'Y2xpZW50',
          serverNonce: 'c2VydmVy',
          lastSeen: 123,
        });
        expect((await store.updateDevice('d1', { password: 'p2' }))!.clientSecretDigest).toBe(
          clientSecretDigest('user-d1', 'p2'),
        );
        await expect(store.updateDevice('d1', { username: 'other' })).rejects.toMatchObject({
          field: 'password',
        });
        const renamed = await store.updateDevice('d1', { username: 'other', password: 'p3' });
        expect(renamed).toMatchObject({
          username: 'other',
          clientSecretDigest: clientSecretDigest('other', 'p3'),
        });
        expect(await store.updateDevice('d1', { notifyAddress: null, clientNonce: null })).toMatchObject({
          notifyAddress: null,
          clientNonce: null,
        });
        expect(await store.updateDevice('d1', {})).toMatchObject({ deviceId: 'd1' });
      });

      it('security.md §2/§9: the server auth type is per direction, the client one by default (null resets it)', async () => {
        expect(await store.createDevice(device('d-same'))).toMatchObject({
          authType: 'md5',
          serverAuthType: 'md5',
        });
        const split = await store.createDevice({
          ...device('d-split'),
          authType: 'basic',
          serverAuthType: 'md5',
        });
        expect(split).toMatchObject({ authType: 'basic', serverAuthType: 'md5' });
        expect(await store.getDevice('d-split')).toEqual(split);
        expect(await store.updateDevice('d-split', { serverAuthType: 'hmac' })).toMatchObject({
          authType: 'basic',
          serverAuthType: 'hmac',
        });
        expect(await store.updateDevice('d-split', { serverAuthType: null, authType: 'md5' })).toMatchObject({
          authType: 'md5',
          serverAuthType: 'md5',
        });
      });

      it('deleting a device deletes its queue, sessions, tree values, alerts and messages', async () => {
        await store.createDevice(device('gone'));
        const cmd = await store.enqueueCommand('gone', GET_MOD);
        await store.commitExchange({
          deviceId: 'gone',
          session: { sessionId: '1', expectedVersion: 0, snapshot: {} },
          markSent: [cmd!.id],
          treeValues: [{ uri: './DevInfo/Mod', data: 'X', format: 'chr', type: null }],
          alerts: [{ sessionId: '1', code: 1226, correlator: null, items: [] }],
          messages: [
            {
              sessionId: '1',
              direction: 'in',
              contentType: 'application/vnd.syncml.dm+xml',
              body: new Uint8Array([1]),
            },
          ],
        });
        expect(await store.deleteDevice('gone')).toBe(true);
        await store.createDevice(device('gone'));
        expect(await store.getCommand('gone', cmd!.id)).toBeUndefined();
        expect(await store.loadExchange('gone', '1')).toMatchObject({ session: undefined, pending: [] });
        expect(await store.getTree('gone', '.')).toEqual([]);
        expect((await store.listAlerts('gone')).items).toEqual([]);
        expect((await store.listMessages('gone')).items).toEqual([]);
      });
    });

    describe('command queue', () => {
      it('enqueues for a known device only, as queued, with its spec intact', async () => {
        expect(await store.enqueueCommand('unknown', GET_MOD)).toBeUndefined();
        await store.createDevice(device('q'));
        const spec: CommandSpec = {
          command: 'Atomic',
          commands: [REPLACE, { command: 'Delete', target: './Old' }],
        };
        const cmd = await store.enqueueCommand('q', spec, { expiresAt: clock.now() + 1000 });
        expect(cmd).toMatchObject({
          deviceId: 'q',
          spec,
          state: 'queued',
          status: null,
          childStatuses: null,
          results: [],
          sessionId: null,
          createdAt: clock.now(),
          sentAt: null,
          doneAt: null,
          expiresAt: clock.now() + 1000,
        });
        expect(await store.getCommand('q', cmd!.id)).toEqual(cmd);
        expect(await store.getCommand('other', cmd!.id)).toBeUndefined();
      });

      it('lists history newest first, paged', async () => {
        await store.createDevice(device('h'));
        const ids: number[] = [];
        for (let i = 0; i < 5; i++)
          ids.push((await store.enqueueCommand('h', { command: 'Get', target: `./N${i}` }))!.id);
        const first = await store.listCommands('h', { limit: 3 });
        expect(first.items.map((c) => c.id)).toEqual([ids[4], ids[3], ids[2]]);
        const second = await store.listCommands('h', { limit: 3, cursor: first.nextCursor! });
        expect(second.items.map((c) => c.id)).toEqual([ids[1], ids[0]]);
        expect(second.nextCursor).toBeUndefined();
        expect((await store.listCommands('h', { offset: 4 })).items.map((c) => c.id)).toEqual([ids[0]]);
        const deviceCursor = Buffer.from('{"k":"s"}').toString('base64url');
        await expect(store.listCommands('h', { cursor: deviceCursor })).rejects.toMatchObject({
          field: 'cursor',
        });
      });

      it('cancels a queued command once; sent and final commands are not cancelled', async () => {
        await store.createDevice(device('c'));
        const a = await store.enqueueCommand('c', GET_MOD);
        const b = await store.enqueueCommand('c', GET_MOD);
        expect(await store.cancelCommand('c', a!.id)).toBe('cancelled');
        expect(await store.getCommand('c', a!.id)).toMatchObject({ state: 'cancelled', doneAt: clock.now() });
        expect(await store.cancelCommand('c', a!.id)).toBe('not-queued');
        expect(await store.cancelCommand('c', 99999)).toBe('not-found');
        expect(await store.cancelCommand('other', b!.id)).toBe('not-found');
        await sendInNewSession('c', 's1', [b!.id]);
        expect(await store.cancelCommand('c', b!.id)).toBe('not-queued');
        expect((await store.getCommand('c', b!.id))!.state).toBe('sent');
      });

      it('expires queued commands past their expiry, leaving them out of the pending list', async () => {
        await store.createDevice(device('e'));
        const soon = await store.enqueueCommand('e', GET_MOD, { expiresAt: clock.now() + 1000 });
        const never = await store.enqueueCommand('e', GET_MOD);
        clock.advance(1000);
        expect((await store.loadExchange('e', 's'))!.pending.map((c) => c.id)).toEqual([never!.id]);
        await expect(sendInNewSession('e', 's', [soon!.id])).rejects.toBeInstanceOf(StaleSessionError);
        expect(await store.expireDue()).toBe(1);
        expect(await store.expireDue()).toBe(0);
        expect(await store.getCommand('e', soon!.id)).toMatchObject({
          state: 'expired',
          doneAt: clock.now(),
        });
        expect((await store.getCommand('e', never!.id))!.state).toBe('queued');
      });
    });

    describe('DM exchanges', () => {
      it('idle check-in: one read gives the device, no session and nothing pending; unknown device is undefined', async () => {
        await store.createDevice(device('idle'));
        expect(await store.loadExchange('unknown', '1')).toBeUndefined();
        const exchange = await store.loadExchange('idle', '1');
        expect(exchange).toMatchObject({ device: { deviceId: 'idle' }, session: undefined, pending: [] });
        const result = await store.commitExchange({
          deviceId: 'idle',
          device: { lastSeen: clock.now(), clientNonce: 'bm9uY2U=' },
        });
        expect(result).toEqual({ sessionVersion: 0, completed: [], unanswered: [], alertIds: [] });
        expect(await store.getDevice('idle')).toMatchObject({
          lastSeen: clock.now(),
          clientNonce: 'bm9uY2U=',
        });
      });

      it('the reads of one event-loop turn take one round trip together; each caller gets its own answer', async () => {
        for (const id of ['t0', 't1', 't2', 't3']) await store.createDevice(device(id));
        const a = (await store.enqueueCommand('t1', GET_MOD))!;
        const b = (await store.enqueueCommand('t1', REPLACE))!;
        const c = (await store.enqueueCommand('t3', GET_MOD))!;
        await store.commitExchange({
          deviceId: 't2',
          session: { sessionId: 'S2', expectedVersion: 0, snapshot: { pkg: 2 } },
        });
        const counted = countRoundTrips(store.driver);
        const grouped = new SqlStore(counted.driver, { clock });
        const pairs: [string, string][] = [
          ['t0', 'A'],
          ['t1', 'B'],
          ['t2', 'S2'],
          ['nope', 'X'],
          ['t3', 'C'],
          ['t2', 'other'],
        ];
        const loads = await Promise.all(pairs.map(([id, session]) => grouped.loadExchange(id, session)));
        expect(counted.calls).toEqual({ reads: 1, writes: 0, transactions: 0 });
        expect(loads.map((l) => l?.device.deviceId)).toEqual(['t0', 't1', 't2', undefined, 't3', 't2']);
        expect(loads.map((l) => l?.pending.map((p) => p.id))).toEqual([
          [],
          [a.id, b.id],
          [],
          undefined,
          [c.id],
          [],
        ]);
        expect(loads[2]!.session).toMatchObject({ sessionId: 'S2', version: 1, snapshot: { pkg: 2 } });
        expect(loads.filter((l, i) => i !== 2).every((l) => l?.session === undefined)).toBe(true);
      });

      it('idle fast path: a check-in costs one read round trip and one write; queued commands come in that read', async () => {
        await store.createDevice(device('fast'));
        const counted = countRoundTrips(store.driver);
        const fast = new SqlStore(counted.driver, { clock });
        const load = await fast.loadExchange('fast', 'S');
        expect(load).toMatchObject({ session: undefined, pending: [] });
        expect(counted.calls).toEqual({ reads: 1, writes: 0, transactions: 0 });
        await fast.commitExchange({
          deviceId: 'fast',
          device: { lastSeen: clock.now(), clientNonce: 'bmV4dA==', failedAuthCount: 0, lockedUntil: null },
        });
        expect(counted.calls).toEqual({ reads: 1, writes: 1, transactions: 0 });
        for (let i = 0; i < 3; i++) await store.enqueueCommand('fast', { command: 'Get', target: `./N${i}` });
        counted.reset();
        expect((await fast.loadExchange('fast', 'S'))!.pending).toHaveLength(3);
        expect(counted.calls).toEqual({ reads: 1, writes: 0, transactions: 0 });
        // Logging the exchange's messages adds nothing to its commit: they wait for the message log's group commit.
        counted.reset();
        const message = (n: number) => ({
          sessionId: 'S',
          direction: 'in' as const,
          contentType: 'text/plain',
          body: new Uint8Array([n]),
        });
        await fast.commitExchange({
          deviceId: 'fast',
          device: { lastSeen: clock.now() },
          messages: [message(1)],
        });
        await fast.commitExchange({
          deviceId: 'fast',
          device: { lastSeen: clock.now() },
          messages: [message(2)],
        });
        expect(counted.calls).toEqual({ reads: 0, writes: 2, transactions: 0 });
        // Both exchanges' messages are written in one transaction, before any read of the log.
        expect((await fast.listMessages('fast')).items.map((m) => m.body[0])).toEqual([2, 1]);
        expect(counted.calls).toEqual({ reads: 1, writes: 2, transactions: 1 });
      });

      it('message log: flushed by its timer, on close, and at once when the buffer is full', async () => {
        await store.createDevice(device('log'));
        const second = await harness.openSecond({ clock, messageLog: { flushMs: 20, maxBuffered: 4 } });
        const message = (n: number) => ({
          sessionId: null,
          direction: 'out' as const,
          contentType: 'text/plain',
          body: new Uint8Array([n]),
        });
        const seen = async () =>
          (await store.listMessages('log', { limit: 100 })).items.map((m) => m.body[0]);
        await second.commitExchange({ deviceId: 'log', messages: [message(1)] });
        expect(second.messageLog.buffered).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(second.messageLog.buffered).toBe(0);
        expect(await seen()).toEqual([1]);
        await second.commitExchange({
          deviceId: 'log',
          messages: [message(2), message(3), message(4), message(5)],
        });
        expect(second.messageLog.buffered).toBe(0); // the full buffer's flush has started
        await second.messageLog.flush();
        expect(await seen()).toEqual([5, 4, 3, 2, 1]);
        await second.commitExchange({ deviceId: 'log', messages: [message(6)] });
        // A device deleted before the flush: its entries are skipped, the others in the batch are written.
        await store.createDevice(device('log-gone'));
        await second.commitExchange({ deviceId: 'log-gone', messages: [message(7)] });
        await store.deleteDevice('log-gone');
        await second.close();
        expect(second.messageLog.dropped).toBe(0);
        expect((await seen()).slice(0, 1)).toEqual([6]);
      });

      it('queued → sent → done with status and results; pending comes oldest first in one read', async () => {
        await store.createDevice(device('x'));
        const a = await store.enqueueCommand('x', GET_MOD);
        const b = await store.enqueueCommand('x', REPLACE);
        const load = await store.loadExchange('x', 'S1');
        expect(load!.pending.map((c) => [c.id, c.spec])).toEqual([
          [a!.id, GET_MOD],
          [b!.id, REPLACE],
        ]);
        clock.advance(10);
        const created = await store.commitExchange({
          deviceId: 'x',
          session: { sessionId: 'S1', expectedVersion: 0, snapshot: { pkg: 2 } },
          markSent: [a!.id, b!.id],
        });
        expect(created.sessionVersion).toBe(1);
        expect(await store.getCommand('x', a!.id)).toMatchObject({
          state: 'sent',
          sessionId: 'S1',
          sentAt: clock.now(),
        });
        const again = await store.loadExchange('x', 'S1');
        expect(again!.session).toMatchObject({
          deviceId: 'x',
          sessionId: 'S1',
          snapshot: { pkg: 2 },
          version: 1,
        });
        expect(again!.pending).toEqual([]);
        clock.advance(10);
        const results = [{ target: './DevInfo/Mod', data: 'Model X', format: 'chr', type: 'text/plain' }];
        const advanced = await store.commitExchange({
          deviceId: 'x',
          session: { sessionId: 'S1', expectedVersion: 1, snapshot: { pkg: 4 } },
          outcomes: [
            { id: a!.id, state: 'done', status: 200, results },
            { id: b!.id, state: 'failed', status: 405 },
          ],
        });
        expect(advanced).toMatchObject({ sessionVersion: 2, completed: [a!.id, b!.id] });
        expect(await store.getCommand('x', a!.id)).toMatchObject({
          state: 'done',
          status: 200,
          results,
          doneAt: clock.now(),
        });
        expect(await store.getCommand('x', b!.id)).toMatchObject({
          state: 'failed',
          status: 405,
          results: [],
        });
      });

      it('a command reaches its final state exactly once (a repeated outcome changes nothing)', async () => {
        await store.createDevice(device('once'));
        const a = await store.enqueueCommand('once', GET_MOD);
        await sendInNewSession('once', 'S', [a!.id]);
        await store.commitExchange({
          deviceId: 'once',
          session: { sessionId: 'S', expectedVersion: 1, snapshot: {} },
          outcomes: [{ id: a!.id, state: 'done', status: 200 }],
        });
        const repeat = await store.commitExchange({
          deviceId: 'once',
          session: { sessionId: 'S', expectedVersion: 2, snapshot: {} },
          outcomes: [{ id: a!.id, state: 'failed', status: 500 }],
        });
        expect(repeat.completed).toEqual([]);
        expect(await store.getCommand('once', a!.id)).toMatchObject({ state: 'done', status: 200 });
      });

      it('Atomic outcome keeps the container status and one status per child', async () => {
        await store.createDevice(device('at'));
        const spec: CommandSpec = {
          command: 'Atomic',
          commands: [REPLACE, { command: 'Add', target: './A', data: 'v' }],
        };
        const a = await store.enqueueCommand('at', spec);
        await sendInNewSession('at', 'S', [a!.id]);
        await store.commitExchange({
          deviceId: 'at',
          session: { sessionId: 'S', expectedVersion: 1, snapshot: {} },
          outcomes: [{ id: a!.id, state: 'failed', status: 507, childStatuses: [216, 500] }],
        });
        expect(await store.getCommand('at', a!.id)).toMatchObject({
          state: 'failed',
          status: 507,
          childStatuses: [216, 500],
          spec,
        });
      });

      it('a stale session version is refused and nothing of that commit is written', async () => {
        await store.createDevice(device('st'));
        const a = await store.enqueueCommand('st', GET_MOD);
        await sendInNewSession('st', 'S', [a!.id]);
        const error = await store
          .commitExchange({
            deviceId: 'st',
            session: { sessionId: 'S', expectedVersion: 5, snapshot: { lost: true } },
            device: { lastSeen: 99 },
            outcomes: [{ id: a!.id, state: 'done', status: 200 }],
            treeValues: [{ uri: './X', data: '1', format: null, type: null }],
          })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StaleSessionError);
        expect(error).toMatchObject({ code: 'stale-session', httpStatus: 409 });
        expect((await store.getCommand('st', a!.id))!.state).toBe('sent');
        expect((await store.getDevice('st'))!.lastSeen).toBeNull();
        expect(await store.getTree('st', '.')).toEqual([]);
        expect((await store.loadExchange('st', 'S'))!.session).toMatchObject({
          version: 1,
          snapshot: { step: 1 },
        });
        await expect(
          store.commitExchange({
            deviceId: 'st',
            session: { sessionId: 'S', expectedVersion: 0, snapshot: {} },
          }),
        ).rejects.toBeInstanceOf(StaleSessionError);
      });

      it('markSent of a command cancelled since the read is refused as stale, rolling back the session write', async () => {
        await store.createDevice(device('cr'));
        const a = await store.enqueueCommand('cr', GET_MOD);
        expect((await store.loadExchange('cr', 'S'))!.pending).toHaveLength(1);
        await store.cancelCommand('cr', a!.id);
        await expect(sendInNewSession('cr', 'S', [a!.id])).rejects.toBeInstanceOf(StaleSessionError);
        expect((await store.loadExchange('cr', 'S'))!.session).toBeUndefined();
        expect((await store.getCommand('cr', a!.id))!.state).toBe('cancelled');
      });

      it('markSent needs a saved session; outcomes need a session', async () => {
        await store.createDevice(device('rq'));
        await expect(store.commitExchange({ deviceId: 'rq', markSent: [1] })).rejects.toMatchObject({
          field: 'markSent',
        });
        await expect(
          store.commitExchange({
            deviceId: 'rq',
            session: { sessionId: 'S', expectedVersion: 0, end: true },
            markSent: [1],
          }),
        ).rejects.toMatchObject({ field: 'markSent' });
        await expect(
          store.commitExchange({ deviceId: 'rq', outcomes: [{ id: 1, state: 'done', status: 200 }] }),
        ).rejects.toMatchObject({ field: 'outcomes' });
      });

      it('ending a session puts its unanswered commands back to queued (delivered again next session)', async () => {
        await store.createDevice(device('end'));
        const a = await store.enqueueCommand('end', GET_MOD);
        const b = await store.enqueueCommand('end', REPLACE);
        await sendInNewSession('end', 'S', [a!.id, b!.id]);
        const ended = await store.commitExchange({
          deviceId: 'end',
          session: { sessionId: 'S', expectedVersion: 1, end: true },
          outcomes: [{ id: a!.id, state: 'done', status: 200 }],
        });
        expect(ended).toMatchObject({ sessionVersion: 0, completed: [a!.id] });
        expect(await store.getCommand('end', a!.id)).toMatchObject({ state: 'done' });
        expect(await store.getCommand('end', b!.id)).toMatchObject({
          state: 'queued',
          sessionId: null,
          sentAt: null,
        });
        const next = await store.loadExchange('end', 'T');
        expect(next!.session).toBeUndefined();
        expect(next!.pending.map((c) => c.id)).toEqual([b!.id]);
        await expect(
          store.commitExchange({
            deviceId: 'end',
            session: { sessionId: 'S', expectedVersion: 1, end: true },
          }),
        ).rejects.toBeInstanceOf(StaleSessionError);
      });

      it('a new session of the device takes over commands left sent in its previous (dead) session', async () => {
        await store.createDevice(device('crash'));
        const a = await store.enqueueCommand('crash', GET_MOD);
        await sendInNewSession('crash', 'OLD', [a!.id]);
        // The server died; the device comes back with a new session id.
        const load = await store.loadExchange('crash', 'NEW');
        expect(load!.pending.map((c) => [c.id, c.state])).toEqual([[a!.id, 'sent']]);
        // The same session id again (a later package of OLD) does not see it as pending.
        expect((await store.loadExchange('crash', 'OLD'))!.pending).toEqual([]);
        await sendInNewSession('crash', 'NEW', [a!.id]);
        expect(await store.getCommand('crash', a!.id)).toMatchObject({ state: 'sent', sessionId: 'NEW' });
        expect((await store.loadExchange('crash', 'OLD'))!.session).toBeUndefined();
        await expect(
          store.commitExchange({
            deviceId: 'crash',
            session: { sessionId: 'OLD', expectedVersion: 1, snapshot: {} },
          }),
        ).rejects.toBeInstanceOf(StaleSessionError);
      });

      it('requeueOrphaned: sessions idle past the limit are dropped and their sent commands requeued', async () => {
        await store.createDevice(device('o1'));
        await store.createDevice(device('o2'));
        const a = await store.enqueueCommand('o1', GET_MOD);
        const b = await store.enqueueCommand('o2', GET_MOD);
        await sendInNewSession('o1', 'S', [a!.id]);
        clock.advance(60_000);
        await sendInNewSession('o2', 'S', [b!.id]);
        clock.advance(1_000);
        expect(await store.requeueOrphaned({ idleMs: 30_000 })).toEqual({ requeued: 1, unanswered: [] });
        expect(await store.getCommand('o1', a!.id)).toMatchObject({ state: 'queued', sessionId: null });
        expect(await store.getCommand('o2', b!.id)).toMatchObject({ state: 'sent', sessionId: 'S' });
        expect((await store.loadExchange('o1', 'S'))!.session).toBeUndefined();
        expect((await store.loadExchange('o2', 'S'))!.session).toBeDefined();
        expect(await store.requeueOrphaned({ idleMs: 30_000 })).toEqual({ requeued: 0, unanswered: [] });
      });

      describe('bounded delivery (maxDeliveries, default 3)', () => {
        /** Sends `id` in a new session and ends that session without an answer (a client that never answers). */
        async function deliverUnanswered(deviceId: string, sessionId: string, id: number) {
          const load = await store.loadExchange(deviceId, sessionId);
          expect(load!.pending.map((c) => c.id)).toContain(id);
          await sendInNewSession(deviceId, sessionId, [id]);
          return store.commitExchange({
            deviceId,
            session: { sessionId, expectedVersion: 1, end: true },
          });
        }

        it('counts every markSent as a delivery; the third unanswered one fails the command (status null, reason unanswered), exactly once', async () => {
          await store.createDevice(device('atomic'));
          const a = await store.enqueueCommand('atomic', { command: 'Atomic', commands: [REPLACE] });
          const other = await store.enqueueCommand('atomic', GET_MOD);
          expect(a).toMatchObject({ deliveries: 0, reason: null });
          for (const [n, sessionId] of ['1', '2'].entries()) {
            const ended = await deliverUnanswered('atomic', sessionId, a!.id);
            expect(ended.unanswered).toEqual([]);
            expect(await store.getCommand('atomic', a!.id)).toMatchObject({
              state: 'queued',
              deliveries: n + 1,
              reason: null,
            });
          }
          // The other command is answered in the third session; the Atomic again is not.
          await sendInNewSession('atomic', '3', [a!.id, other!.id]);
          clock.advance(500);
          const third = await store.commitExchange({
            deviceId: 'atomic',
            session: { sessionId: '3', expectedVersion: 1, end: true },
            outcomes: [{ id: other!.id, state: 'done', status: 200 }],
          });
          expect(third).toMatchObject({ completed: [other!.id], unanswered: [a!.id] });
          expect(await store.getCommand('atomic', a!.id)).toMatchObject({
            state: 'failed',
            status: null,
            reason: 'unanswered',
            deliveries: 3,
            sessionId: '3',
            doneAt: clock.now(),
          });
          expect(await store.getCommand('atomic', other!.id)).toMatchObject({ state: 'done', deliveries: 1 });
          // Final: never handed out again, never failed twice.
          expect((await store.loadExchange('atomic', '4'))!.pending).toEqual([]);
          await sendInNewSession('atomic', '4', []);
          const fourth = await store.commitExchange({
            deviceId: 'atomic',
            session: { sessionId: '4', expectedVersion: 1, end: true },
          });
          expect(fourth.unanswered).toEqual([]);
          expect((await store.getCommand('atomic', a!.id))!.doneAt).toBe(clock.now());
        });

        it('a new session replacing a dead one fails its last-delivery commands instead of handing them out again', async () => {
          await store.createDevice(device('dead'));
          const a = await store.enqueueCommand('dead', GET_MOD);
          await deliverUnanswered('dead', '1', a!.id);
          await deliverUnanswered('dead', '2', a!.id);
          // Third delivery; the session dies (no end).
          await sendInNewSession('dead', '3', [a!.id]);
          const load = await store.loadExchange('dead', '4');
          expect(load!.pending).toEqual([]);
          const next = await store.commitExchange({
            deviceId: 'dead',
            session: { sessionId: '4', expectedVersion: 0, snapshot: {} },
            markSent: [],
          });
          expect(next.unanswered).toEqual([a!.id]);
          expect(await store.getCommand('dead', a!.id)).toMatchObject({
            state: 'failed',
            status: null,
            reason: 'unanswered',
            deliveries: 3,
          });
        });

        it('requeueOrphaned counts as a delivery: an abandoned last delivery fails the command and is reported once', async () => {
          await store.createDevice(device('orphan'));
          await store.createDevice(device('orphan2'));
          const a = await store.enqueueCommand('orphan', GET_MOD);
          const b = await store.enqueueCommand('orphan2', GET_MOD);
          // Three sessions abandoned in a row (the server crashed each time): two requeues, then failed.
          for (const sessionId of ['1', '2', '3']) {
            await sendInNewSession('orphan', sessionId, [a!.id]);
            if (sessionId === '3') await sendInNewSession('orphan2', 'X', [b!.id]);
            clock.advance(60_000);
            const sweep = await store.requeueOrphaned({ idleMs: 30_000 });
            expect(sweep).toEqual(
              sessionId === '3'
                ? { requeued: 1, unanswered: [{ deviceId: 'orphan', id: a!.id }] }
                : { requeued: 1, unanswered: [] },
            );
          }
          expect(await store.getCommand('orphan', a!.id)).toMatchObject({
            state: 'failed',
            status: null,
            reason: 'unanswered',
            deliveries: 3,
            doneAt: clock.now(),
          });
          expect(await store.getCommand('orphan2', b!.id)).toMatchObject({ state: 'queued', deliveries: 1 });
          expect(await store.requeueOrphaned({ idleMs: 30_000 })).toEqual({ requeued: 0, unanswered: [] });
        });

        it("maxDeliveries is the store's option: 1 fails a command at the end of its first unanswered session", async () => {
          const once = await harness.openSecond({ clock, maxDeliveries: 1 });
          await once.createDevice(device('once'));
          const a = await once.enqueueCommand('once', GET_MOD);
          await once.commitExchange({
            deviceId: 'once',
            session: { sessionId: 'S', expectedVersion: 0, snapshot: {} },
            markSent: [a!.id],
          });
          const ended = await once.commitExchange({
            deviceId: 'once',
            session: { sessionId: 'S', expectedVersion: 1, end: true },
          });
          expect(ended.unanswered).toEqual([a!.id]);
          expect(await once.getCommand('once', a!.id)).toMatchObject({
            state: 'failed',
            reason: 'unanswered',
          });
        });

        it('an outcome settled by the server keeps its reason (a local 413: too-large)', async () => {
          await store.createDevice(device('big'));
          const a = await store.enqueueCommand('big', GET_MOD);
          await sendInNewSession('big', 'S', [a!.id]);
          await store.commitExchange({
            deviceId: 'big',
            session: { sessionId: 'S', expectedVersion: 1, snapshot: {} },
            outcomes: [{ id: a!.id, state: 'failed', status: 413, reason: 'too-large' }],
          });
          expect(await store.getCommand('big', a!.id)).toMatchObject({
            state: 'failed',
            status: 413,
            reason: 'too-large',
          });
        });
      });

      it('counts authentication failures atomically and locks the device at the limit', async () => {
        await store.createDevice(device('lock'));
        const policy = { maxFailures: 3, lockMs: 60_000 };
        expect(await store.commitExchange({ deviceId: 'lock', authFailure: policy })).toMatchObject({
          failedAuthCount: 1,
          lockedUntil: null,
        });
        await store.commitExchange({
          deviceId: 'lock',
          authFailure: policy,
          device: { clientNonce: 'bmV3' },
        });
        const third = await store.commitExchange({ deviceId: 'lock', authFailure: policy });
        expect(third).toMatchObject({ failedAuthCount: 3, lockedUntil: clock.now() + 60_000 });
        expect(await store.getDevice('lock')).toMatchObject({
          failedAuthCount: 3,
          lockedUntil: clock.now() + 60_000,
          clientNonce: 'bmV3',
        });
        await store.commitExchange({ deviceId: 'lock', device: { failedAuthCount: 0, lockedUntil: null } });
        expect(await store.getDevice('lock')).toMatchObject({ failedAuthCount: 0, lockedUntil: null });
      });

      it('keeps the last known tree values, upserted, read back by subtree', async () => {
        await store.createDevice(device('t'));
        await store.commitExchange({
          deviceId: 't',
          treeValues: [
            { uri: './DevInfo/Mod', data: 'M1', format: 'chr', type: 'text/plain' },
            { uri: 'DevInfo/Man', data: 'Acme', format: 'chr', type: null },
            { uri: './DevInfoX/Y', data: 'no', format: null, type: null },
            { uri: './DevDetail/SwV', data: '1.0', format: 'chr', type: null },
          ],
        });
        clock.advance(5);
        await store.commitExchange({
          deviceId: 't',
          treeValues: [{ uri: './DevInfo/Mod', data: 'M2', format: 'chr', type: null }],
        });
        const devInfo = await store.getTree('t', './DevInfo');
        expect(devInfo.map((v) => [v.uri, v.data])).toEqual([
          ['./DevInfo/Man', 'Acme'],
          ['./DevInfo/Mod', 'M2'],
        ]);
        expect(devInfo[1]).toMatchObject({ type: null, updatedAt: clock.now() });
        expect((await store.getTree('t', './DevInfo/Mod/')).map((v) => v.uri)).toEqual(['./DevInfo/Mod']);
        expect(await store.getTree('t', '.')).toHaveLength(4);
        expect(await store.getTree('other', '.')).toEqual([]);
      });

      it('records generic alerts and lists them newest first', async () => {
        await store.createDevice(device('al'));
        const item = {
          source: './FUMO/Pkg1',
          type: 'org.openmobilealliance.dm.firmwareupdate.download',
          format: 'int',
          mark: 'critical',
          data: '200',
        };
        const first = await store.commitExchange({
          deviceId: 'al',
          alerts: [
            { sessionId: 'S', code: 1226, correlator: 'corr-1', items: [item] },
            { sessionId: null, code: 1224, correlator: null, items: [] },
          ],
        });
        expect(first.alertIds).toHaveLength(2);
        const list = await store.listAlerts('al', { limit: 1 });
        expect(list.items).toEqual([
          {
            id: first.alertIds[1],
            deviceId: 'al',
            sessionId: null,
            code: 1224,
            correlator: null,
            items: [],
            receivedAt: clock.now(),
          },
        ]);
        const next = await store.listAlerts('al', { cursor: list.nextCursor! });
        expect(next.items[0]).toMatchObject({
          id: first.alertIds[0],
          code: 1226,
          correlator: 'corr-1',
          items: [item],
        });
      });

      it('logs messages compressed together, one segment per flush, and gives them back byte for byte', async () => {
        await store.createDevice(device('m'));
        const xml = new TextEncoder().encode(
          `<SyncML>${'<Status><CmdID>1</CmdID></Status>'.repeat(200)}</SyncML>`,
        );
        const wbxml = new Uint8Array([0x02, 0x00, 0x00, 0x6a, 0x00, 0xff, 0x01]);
        await store.commitExchange({
          deviceId: 'm',
          messages: [
            { sessionId: '1', direction: 'in', contentType: 'application/vnd.syncml.dm+xml', body: xml },
            { sessionId: '1', direction: 'out', contentType: 'application/vnd.syncml.dm+wbxml', body: wbxml },
          ],
        });
        const page = await store.listMessages('m');
        expect(page.items.map((m) => [m.direction, m.contentType, m.size])).toEqual([
          ['out', 'application/vnd.syncml.dm+wbxml', wbxml.length],
          ['in', 'application/vnd.syncml.dm+xml', xml.length],
        ]);
        expect(Buffer.from(page.items[0]!.body)).toEqual(Buffer.from(wbxml));
        expect(Buffer.from(page.items[1]!.body)).toEqual(Buffer.from(xml));
        // One segment holds both bodies (compressed); the index rows keep none of their own.
        expect(await segmentStats()).toEqual({
          segments: 1,
          bytes: expect.any(Number),
          rawSize: xml.length + wbxml.length,
        });
        expect((await segmentStats()).bytes).toBeLessThan(xml.length / 10);
        const rows = await store.driver.all(`SELECT body, segment_id FROM messages ORDER BY id`);
        expect(rows.map((r) => (r['body'] as Buffer).length)).toEqual([0, 0]);
        expect(new Set(rows.map((r) => Number(r['segment_id']))).size).toBe(1);
      });

      it('prunes the message log by count in flushes (every flush when maxPerDevice / 4 < 2) and by age and count on demand', async () => {
        await store.createDevice(device('p1'));
        await store.createDevice(device('p2'));
        const msg = (n: number) => ({
          sessionId: null,
          direction: 'in' as const,
          contentType: 'text/plain',
          body: new Uint8Array([n]),
        });
        for (let i = 0; i < 7; i++) await store.commitExchange({ deviceId: 'p1', messages: [msg(i)] });
        // maxPerDevice 5 from the harness options: the two oldest are gone already.
        expect((await store.listMessages('p1', { limit: 100 })).items.map((m) => m.body[0])).toEqual([
          6, 5, 4, 3, 2,
        ]);
        await store.commitExchange({ deviceId: 'p2', messages: [msg(10)] });
        clock.advance(61_000);
        await store.commitExchange({ deviceId: 'p2', messages: [msg(11)] });
        expect(await store.pruneMessages()).toBe(6);
        expect((await store.listMessages('p1')).items).toEqual([]);
        expect((await store.listMessages('p2')).items.map((m) => m.body[0])).toEqual([11]);
        for (let i = 0; i < 3; i++) await store.commitExchange({ deviceId: 'p2', messages: [msg(20 + i)] });
        expect(await store.pruneMessages({ maxPerDevice: 2 })).toBe(2);
        expect((await store.listMessages('p2')).items.map((m) => m.body[0])).toEqual([22, 21]);
      });
    });

    describe('message log segments', () => {
      const text = (deviceId: string, n: number) =>
        new TextEncoder().encode(
          `<SyncML><SyncHdr><SessionID>${n}</SessionID><Source><LocURI>${deviceId}</LocURI></Source></SyncHdr>` +
            `<SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>`,
        );
      const message = (body: Uint8Array, direction: 'in' | 'out' = 'in') => ({
        sessionId: '1',
        direction,
        contentType: 'application/vnd.syncml.dm+xml',
        body,
      });
      /** Every message of a device, newest first, read page by page through the cursors. */
      async function readAll(from: SqlStore, deviceId: string, limit: number) {
        const all = [];
        let cursor: string | undefined;
        do {
          const page = await from.listMessages(
            deviceId,
            cursor === undefined ? { limit } : { limit, cursor },
          );
          all.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor !== undefined);
        return all;
      }
      /** A store whose flushes never reach the count limit (only pruneMessages with a policy prunes). */
      const unbounded = () => harness.openSecond({ clock, retention: { maxPerDevice: 1000 } });

      it('one flush of many devices shares one segment; offset and cursor pages give every body back', async () => {
        const devices = ['sa', 'sb', 'sc'];
        for (const id of devices) await store.createDevice(device(id));
        const sent = new Map<string, Uint8Array[]>(devices.map((id) => [id, []]));
        const log = await unbounded();
        for (let n = 0; n < 12; n++) {
          for (const id of devices) {
            const bodies = [text(id, n), randomBytes(50 + n)];
            sent.get(id)!.push(...bodies);
            await log.commitExchange({
              deviceId: id,
              messages: bodies.map((b, i) => message(b, i === 0 ? 'in' : 'out')),
            });
          }
        }
        await log.messageLog.flush();
        expect((await segmentStats()).segments).toBe(1);
        for (const id of devices) {
          const expected = [...sent.get(id)!].reverse().map((b) => Buffer.from(b));
          const read = await readAll(log, id, 5);
          expect(read.map((m) => Buffer.from(m.body))).toEqual(expected);
          expect(read.map((m) => m.size)).toEqual(expected.map((b) => b.length));
          expect(read.every((m) => m.deviceId === id)).toBe(true);
          const byOffset = await log.listMessages(id, { limit: 4, offset: 6 });
          expect(byOffset.items.map((m) => Buffer.from(m.body))).toEqual(expected.slice(6, 10));
        }
      });

      it('a page spanning many segments (a quiet device beside a busy one) reads every body back', async () => {
        for (const id of ['quiet', 'busy']) await store.createDevice(device(id));
        const log = await unbounded();
        const quiet: Buffer[] = [];
        for (let flush = 0; flush < 9; flush++) {
          const body = Buffer.from(text('quiet', flush));
          quiet.push(body);
          await log.commitExchange({ deviceId: 'quiet', messages: [message(body)] });
          await log.commitExchange({
            deviceId: 'busy',
            messages: [1, 2, 3].map(() => message(randomBytes(300))),
          });
          await log.messageLog.flush();
        }
        expect((await segmentStats()).segments).toBe(9);
        const expected = [...quiet].reverse();
        expect((await readAll(log, 'quiet', 4)).map((m) => Buffer.from(m.body))).toEqual(expected);
        const middle = await log.listMessages('quiet', { limit: 5, offset: 2 });
        expect(middle.items.map((m) => Buffer.from(m.body))).toEqual(expected.slice(2, 7));
        expect(await readAll(log, 'busy', 7)).toHaveLength(27);
      });

      it('segments are bounded: a large flush spans several, a message above the bound has one of its own', async () => {
        await store.createDevice(device('big'));
        const log = await unbounded();
        // Two of `small` fit in a segment, three do not; `large` is above the bound.
        const small = Math.floor(SEGMENT_MAX_INPUT * 0.45);
        const large = SEGMENT_MAX_INPUT + 1000;
        const bodies = [...Array.from({ length: 5 }, () => randomBytes(small)), randomBytes(large)];
        await log.commitExchange({ deviceId: 'big', messages: bodies.map((b) => message(b)) });
        const page = await log.listMessages('big', { limit: 10 });
        // Compared with Buffer.equals: a deep equality of 1 MB byte by byte takes seconds.
        const expected = [...bodies].reverse();
        expect(page.items.map((m, n) => Buffer.from(m.body).equals(expected[n]!))).toEqual(
          bodies.map(() => true),
        );
        const sizes = (await store.driver.all(`SELECT raw_size FROM message_segments ORDER BY id`)).map((r) =>
          Number(r['raw_size']),
        );
        expect(sizes).toEqual([2 * small, 2 * small, small, large]);
      });

      it('a flush prunes a device only when due: never above maxPerDevice + slack − 1; pruneMessages cuts to maxPerDevice', async () => {
        await store.createDevice(device('due'));
        const maxPerDevice = 8;
        const slack = pruneSlack(maxPerDevice);
        expect(slack).toBe(2);
        const log = await harness.openSecond({ clock, retention: { maxPerDevice } });
        const counts: number[] = [];
        for (let n = 0; n < 14; n++) {
          await log.commitExchange({ deviceId: 'due', messages: [message(text('due', n))] });
          counts.push((await log.listMessages('due', { limit: 100 })).items.length);
        }
        // Pruned in the process's first flush of the device, then every `slack` messages: the count reaches
        // maxPerDevice + slack − 1 between prunes and never more.
        expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 8, 9, 8, 9]);
        expect(Math.max(...counts)).toBe(maxPerDevice + slack - 1);
        expect(await log.pruneMessages()).toBe(1);
        expect(
          (await log.listMessages('due', { limit: 100 })).items.map((m) => new TextDecoder().decode(m.body)),
        ).toEqual([13, 12, 11, 10, 9, 8, 7, 6].map((n) => new TextDecoder().decode(text('due', n))));
        // The flush after that is due again (one message since the last prune, one more now); the next one is not.
        const count = async (from: SqlStore) => (await from.listMessages('due', { limit: 100 })).items.length;
        await log.commitExchange({ deviceId: 'due', messages: [message(text('due', 14))] });
        expect(await count(log)).toBe(8);
        await log.commitExchange({ deviceId: 'due', messages: [message(text('due', 15))] });
        expect(await count(log)).toBe(9);
        // Another process prunes the device in its first flush that holds it.
        const other = await harness.openSecond({ clock, retention: { maxPerDevice } });
        await other.commitExchange({ deviceId: 'due', messages: [message(text('due', 16))] });
        expect(await count(other)).toBe(8);
      });

      it('pruneMessages deletes unreferenced segments and compacts sparse ones; ids and bodies survive', async () => {
        const devices = ['ca', 'cb', 'cc', 'cd'];
        for (const id of devices) await store.createDevice(device(id));
        const log = await unbounded();
        const newest = new Map<string, { id: number; body: Buffer }>();
        for (let flush = 0; flush < 2; flush++) {
          for (let n = 0; n < 8; n++) {
            for (const id of devices)
              await log.commitExchange({ deviceId: id, messages: [message(randomBytes(1000))] });
          }
          await log.messageLog.flush();
        }
        const before = await segmentStats();
        expect(before.segments).toBe(2);
        expect(before.bytes).toBeGreaterThan(60_000);
        for (const id of devices) {
          const m = (await log.listMessages(id, { limit: 1 })).items[0]!;
          newest.set(id, { id: m.id, body: Buffer.from(m.body) });
        }
        expect(await log.pruneMessages({ maxPerDevice: 1 })).toBe(60);
        // The first flush's segment had nothing left (deleted); the second kept 4 of 32 (compacted into a new one).
        const after = await segmentStats();
        expect(after).toEqual({ segments: 1, bytes: expect.any(Number), rawSize: 4000 });
        expect(after.bytes).toBeLessThan(before.bytes / 8);
        for (const id of devices) {
          const items = (await log.listMessages(id)).items;
          expect(items.map((m) => ({ id: m.id, body: Buffer.from(m.body) }))).toEqual([newest.get(id)]);
        }
        // A dense segment is left as it is.
        const segmentIds = async () =>
          (await store.driver.all(`SELECT id FROM message_segments ORDER BY id`)).map((r) => Number(r['id']));
        const kept = await segmentIds();
        expect(await log.pruneMessages({ maxPerDevice: 1 })).toBe(0);
        expect(await segmentIds()).toEqual(kept);
      });

      it('deleting devices frees their bytes in shared segments at the next pruneMessages', async () => {
        const devices = ['da', 'db', 'dc', 'dd', 'de'];
        for (const id of devices) await store.createDevice(device(id));
        for (const id of devices) {
          await store.commitExchange({
            deviceId: id,
            messages: [1, 2, 3].map(() => message(randomBytes(2000))),
          });
        }
        const kept = (await store.listMessages('de')).items.map((m) => Buffer.from(m.body));
        expect(await segmentStats()).toEqual({ segments: 1, bytes: expect.any(Number), rawSize: 30_000 });
        const before = await segmentStats();
        for (const id of devices.slice(0, 4)) await store.deleteDevice(id);
        expect(await store.pruneMessages()).toBe(0);
        const after = await segmentStats();
        expect(after).toEqual({ segments: 1, bytes: expect.any(Number), rawSize: 6000 });
        expect(after.bytes).toBeLessThan(before.bytes / 4);
        expect((await store.listMessages('de')).items.map((m) => Buffer.from(m.body))).toEqual(kept);
        await store.deleteDevice('de');
        await store.pruneMessages();
        expect(await segmentStats()).toEqual({ segments: 0, bytes: 0, rawSize: 0 });
      });

      it('budgeted pruneMessages works in slices from where the last run stopped, wrapping around, and yields between chunks', async () => {
        const devices = ['ca', 'cb', 'cc', 'cd', 'ce'];
        for (const id of devices) await store.createDevice(device(id));
        const log = await harness.openSecond({
          clock,
          retention: { maxPerDevice: 1000 },
          retentionChunks: { devices: 2, segments: 1 },
        });
        const sent = new Map<string, Buffer[]>(devices.map((id) => [id, []]));
        // Five flushes, five segments, each holding three messages of every device.
        for (let flush = 0; flush < 5; flush++) {
          for (const id of devices) {
            const bodies = [0, 1, 2].map((n) => Buffer.from(text(id, flush * 3 + n)));
            sent.get(id)!.push(...bodies);
            await log.commitExchange({ deviceId: id, messages: bodies.map((b) => message(b)) });
          }
          await log.messageLog.flush();
        }
        expect((await segmentStats()).segments).toBe(5);
        const counts = async () => {
          const out: Record<string, number> = {};
          for (const id of devices) out[id] = (await log.listMessages(id, { limit: 100 })).items.length;
          return out;
        };
        // A budget of 0 ms: one chunk of devices (two) and one segment per run.
        const slice = () => log.pruneMessages({ maxPerDevice: 3 }, { budgetMs: 0 });
        expect(await slice()).toBe(24);
        expect(await counts()).toEqual({ ca: 3, cb: 3, cc: 15, cd: 15, ce: 15 });
        expect(await slice()).toBe(24);
        expect(await slice()).toBe(12);
        expect(await counts()).toEqual({ ca: 3, cb: 3, cc: 3, cd: 3, ce: 3 });
        // Wrapped around: the devices are at the limit, later runs go on reclaiming segments one at a time.
        for (let run = 0; run < 12; run++) expect(await slice()).toBe(0);
        expect((await segmentStats()).segments).toBe(1);
        for (const id of devices) {
          expect((await log.listMessages(id)).items.map((m) => Buffer.from(m.body))).toEqual(
            sent.get(id)!.slice(-3).reverse(),
          );
        }
        // A full run covers everything in one call, letting the event loop turn between its chunks.
        for (const id of devices) {
          await log.commitExchange({ deviceId: id, messages: [message(Buffer.from(text(id, 99)))] });
        }
        let turns = 0;
        let spinning = true;
        const spin = (): void => {
          turns++;
          if (spinning) setImmediate(spin);
        };
        setImmediate(spin);
        expect(await log.pruneMessages({ maxPerDevice: 3 })).toBe(5);
        spinning = false;
        expect(await counts()).toEqual({ ca: 3, cb: 3, cc: 3, cd: 3, ce: 3 });
        // Five devices in chunks of two: three chunks, two turns between them (none without the yields: SQLite is synchronous).
        expect(turns).toBeGreaterThanOrEqual(2);
      });

      it('a corrupt or missing segment fails that read with a clear error; other reads and pruning go on', async () => {
        for (const id of ['bad', 'good']) await store.createDevice(device(id));
        const log = await unbounded();
        for (let n = 0; n < 8; n++)
          await log.commitExchange({ deviceId: 'bad', messages: [message(text('bad', n))] });
        await log.messageLog.flush();
        await log.commitExchange({ deviceId: 'good', messages: [message(text('good', 0))] });
        await log.messageLog.flush();
        const segmentOf = async (deviceId: string) =>
          Number(
            (await store.driver.all(`SELECT segment_id FROM messages WHERE device_id = ?`, [deviceId]))[0]![
              'segment_id'
            ],
          );
        const bad = await segmentOf('bad');
        await store.driver.run(`UPDATE message_segments SET body = ? WHERE id = ?`, [randomBytes(64), bad]);
        await expect(log.listMessages('bad')).rejects.toThrow(CorruptMessageLogError);
        await expect(log.listMessages('bad')).rejects.toThrow(new RegExp(`segment ${bad} does not inflate`));
        await expect(log.listMessages('bad')).rejects.toMatchObject({ code: 'corrupt-message-log' });
        expect((await log.listMessages('good')).items.map((m) => Buffer.from(m.body))).toEqual([
          Buffer.from(text('good', 0)),
        ]);
        // The corrupt segment is sparse now, but it cannot be re-packed: it is left alone, pruning succeeds.
        expect(await log.pruneMessages({ maxPerDevice: 1 })).toBe(7);
        expect(await segmentOf('bad')).toBe(bad);
        await expect(log.listMessages('bad')).rejects.toThrow(CorruptMessageLogError);
        // A row naming bytes outside its segment, and a row whose segment is gone.
        const good = await segmentOf('good');
        await store.driver.run(`UPDATE messages SET segment_offset = 1000000 WHERE device_id = 'good'`);
        await expect(log.listMessages('good')).rejects.toThrow(/outside segment/);
        await store.driver.run(`DELETE FROM message_segments WHERE id = ?`, [good]);
        await expect(log.listMessages('good')).rejects.toThrow(new RegExp(`segment ${good} is missing`));
        // Once its messages are gone, the corrupt segment goes as unreferenced.
        await log.deleteDevice('bad');
        await log.pruneMessages();
        expect((await store.driver.all(`SELECT id FROM message_segments WHERE id = ?`, [bad])).length).toBe(
          0,
        );
      });
    });

    describe('queue state machine (property)', () => {
      type Op =
        | { kind: 'enqueue'; ttl: boolean }
        | { kind: 'session'; fresh: boolean }
        | { kind: 'answer'; pick: number; ok: boolean }
        | { kind: 'end' }
        | { kind: 'cancel'; pick: number }
        | { kind: 'expire' }
        | { kind: 'orphans' };
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ kind: fc.constant('enqueue' as const), ttl: fc.boolean() }),
        fc.record({ kind: fc.constant('session' as const), fresh: fc.boolean() }),
        fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(7), ok: fc.boolean() }),
        fc.record({ kind: fc.constant('end' as const) }),
        fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(7) }),
        fc.record({ kind: fc.constant('expire' as const) }),
        fc.record({ kind: fc.constant('orphans' as const) }),
      );
      const ALLOWED: Record<string, readonly string[]> = {
        queued: ['queued', 'sent', 'expired', 'cancelled'],
        sent: ['sent', 'queued', 'done', 'failed'],
      };

      it('a command that expired while sent in an interrupted session is not handed to the next one', async () => {
        // fast-check counterexample: enqueue (ttl), session, expire, expire, fresh session → stale-session.
        await store.createDevice(device('exp'));
        const cmd = await store.enqueueCommand('exp', GET_MOD, { expiresAt: clock.now() + 500 });
        const first = await store.loadExchange('exp', 'S1');
        await store.commitExchange({
          deviceId: 'exp',
          session: { sessionId: 'S1', expectedVersion: 0, snapshot: {} },
          markSent: first!.pending.map((c) => c.id),
        });
        clock.advance(600);
        const next = await store.loadExchange('exp', 'S2');
        expect(next!.pending).toEqual([]);
        await store.commitExchange({
          deviceId: 'exp',
          session: { sessionId: 'S2', expectedVersion: 0, snapshot: {} },
        });
        expect(await store.expireDue()).toBe(1);
        expect((await store.getCommand('exp', cmd!.id))!.state).toBe('expired');
      });

      it('every command moves only along queued → sent → done | failed | expired | cancelled, final exactly once', async () => {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
            const deviceId = `prop-${run++}`;
            await store.createDevice(device(deviceId));
            const ids: number[] = [];
            const seen = new Map<number, { state: string; status: number | null; doneAt: number | null }>();
            let session: { id: string; version: number } | undefined;
            let sessions = 0;
            for (const o of ops) {
              switch (o.kind) {
                case 'enqueue': {
                  const cmd = await store.enqueueCommand(
                    deviceId,
                    GET_MOD,
                    o.ttl ? { expiresAt: clock.now() + 500 } : {},
                  );
                  ids.push(cmd!.id);
                  break;
                }
                case 'session': {
                  if (o.fresh || session === undefined) session = { id: `S${++sessions}`, version: 0 };
                  const load = await store.loadExchange(deviceId, session.id);
                  expect(load!.session?.version ?? 0).toBe(session.version);
                  const result = await store.commitExchange({
                    deviceId,
                    session: {
                      sessionId: session.id,
                      expectedVersion: session.version,
                      snapshot: { n: session.version },
                    },
                    markSent: load!.pending.map((c) => c.id),
                  });
                  session.version = result.sessionVersion;
                  break;
                }
                case 'answer': {
                  if (session === undefined || session.version === 0) break;
                  const id = ids[o.pick % Math.max(ids.length, 1)];
                  if (id === undefined) break;
                  const before = await store.getCommand(deviceId, id);
                  const result = await store.commitExchange({
                    deviceId,
                    session: { sessionId: session.id, expectedVersion: session.version, snapshot: {} },
                    outcomes: [{ id, state: o.ok ? 'done' : 'failed', status: o.ok ? 200 : 500 }],
                  });
                  session.version = result.sessionVersion;
                  const wasSentHere = before!.state === 'sent' && before!.sessionId === session.id;
                  expect(result.completed).toEqual(wasSentHere ? [id] : []);
                  break;
                }
                case 'end':
                  if (session !== undefined && session.version > 0) {
                    await store.commitExchange({
                      deviceId,
                      session: { sessionId: session.id, expectedVersion: session.version, end: true },
                    });
                  }
                  session = undefined;
                  break;
                case 'cancel': {
                  const id = ids[o.pick % Math.max(ids.length, 1)];
                  if (id !== undefined) await store.cancelCommand(deviceId, id);
                  break;
                }
                case 'expire':
                  clock.advance(300);
                  await store.expireDue();
                  break;
                case 'orphans':
                  clock.advance(1000);
                  await store.requeueOrphaned({ idleMs: 1000 });
                  if (session !== undefined && session.version > 0) session = undefined;
                  break;
              }
              for (const id of ids) {
                const now = (await store.getCommand(deviceId, id))!;
                const prev = seen.get(id);
                if (prev !== undefined) {
                  const allowed = ALLOWED[prev.state];
                  if (allowed === undefined) {
                    // Final: nothing about it changes again.
                    expect({ state: now.state, status: now.status, doneAt: now.doneAt }).toEqual(prev);
                  } else {
                    expect(allowed).toContain(now.state);
                  }
                }
                if (now.state === 'sent') expect(now.sessionId).not.toBeNull();
                if (now.state === 'queued') expect(now.sentAt).toBeNull();
                seen.set(id, { state: now.state, status: now.status, doneAt: now.doneAt });
              }
            }
          }),
          { numRuns: 25 },
        );
      });
    });

    describe('concurrency (two connections to one database)', () => {
      it('two processes advancing one session version: exactly one wins', async () => {
        const other = await harness.openSecond({ clock });
        await store.createDevice(device('race'));
        const a = await store.enqueueCommand('race', GET_MOD);
        await sendInNewSession('race', 'S', [a!.id]);
        const attempts = await Promise.allSettled(
          [store, other].map((s, i) =>
            s.commitExchange({
              deviceId: 'race',
              session: { sessionId: 'S', expectedVersion: 1, snapshot: { by: i } },
              outcomes: [{ id: a!.id, state: 'done', status: 200 + i }],
            }),
          ),
        );
        expect(attempts.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = attempts.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(rejected).toHaveLength(1);
        expect(rejected[0]!.reason).toBeInstanceOf(StaleSessionError);
        const winner = attempts.findIndex((r) => r.status === 'fulfilled');
        expect((await other.loadExchange('race', 'S'))!.session).toMatchObject({
          version: 2,
          snapshot: { by: winner },
        });
        expect(await store.getCommand('race', a!.id)).toMatchObject({ state: 'done', status: 200 + winner });
      });

      it('two processes creating the same session and sending the same command: exactly one wins', async () => {
        const other = await harness.openSecond({ clock });
        await store.createDevice(device('race2'));
        const a = await store.enqueueCommand('race2', GET_MOD);
        const attempts = await Promise.allSettled(
          [store, other].map((s) =>
            s.commitExchange({
              deviceId: 'race2',
              session: { sessionId: 'S', expectedVersion: 0, snapshot: {} },
              markSent: [a!.id],
            }),
          ),
        );
        expect(attempts.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
        expect(await other.getCommand('race2', a!.id)).toMatchObject({ state: 'sent', sessionId: 'S' });
      });

      it('an operator cancel racing a send: the command ends in exactly one consistent state', async () => {
        const other = await harness.openSecond({ clock });
        await store.createDevice(device('race3'));
        const a = await store.enqueueCommand('race3', GET_MOD);
        const [cancel, send] = await Promise.allSettled([
          other.cancelCommand('race3', a!.id),
          store.commitExchange({
            deviceId: 'race3',
            session: { sessionId: 'S', expectedVersion: 0, snapshot: {} },
            markSent: [a!.id],
          }),
        ]);
        const final = await store.getCommand('race3', a!.id);
        if (cancel.status === 'fulfilled' && cancel.value === 'cancelled') {
          expect(send.status).toBe('rejected');
          expect(final!.state).toBe('cancelled');
        } else {
          expect(send.status).toBe('fulfilled');
          expect(cancel).toMatchObject({ status: 'fulfilled', value: 'not-queued' });
          expect(final!.state).toBe('sent');
        }
      });

      it('concurrent authentication failures are all counted', async () => {
        const other = await harness.openSecond({ clock });
        await store.createDevice(device('af'));
        const policy = { maxFailures: 100, lockMs: 1 };
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? store : other).commitExchange({ deviceId: 'af', authFailure: policy }),
          ),
        );
        expect((await store.getDevice('af'))!.failedAuthCount).toBe(10);
      });
    });

    describe('Package 0 notifications', () => {
      it('notifyOnQueue is false unless asked for, stored on create and changed by a patch', async () => {
        expect(await store.createDevice(device('plain'))).toMatchObject({ notifyOnQueue: false });
        expect(await store.createDevice(device('eager', { notifyOnQueue: true }))).toMatchObject({
          notifyOnQueue: true,
        });
        expect(await store.updateDevice('plain', { notifyOnQueue: true })).toMatchObject({
          notifyOnQueue: true,
        });
        expect(await store.updateDevice('eager', { notifyOnQueue: false })).toMatchObject({
          notifyOnQueue: false,
        });
        expect((await store.listDevices()).items.map((d) => [d.deviceId, d.notifyOnQueue])).toEqual([
          ['eager', false],
          ['plain', true],
        ]);
        expect((await store.loadExchange('plain', 'S'))!.device.notifyOnQueue).toBe(true);
      });

      it('records pending notifications (oldest first); the same session id again re-triggers it', async () => {
        await store.createDevice(device('n'));
        expect(
          await store.recordNotification('unknown', { sessionId: '1', uiMode: 'background' }),
        ).toBeUndefined();
        const first = await store.recordNotification('n', { sessionId: 'A1', uiMode: 'background' });
        expect(first).toEqual({
          deviceId: 'n',
          sessionId: 'A1',
          uiMode: 'background',
          notifiedAt: clock.now(),
        });
        clock.advance(1000);
        await store.recordNotification('n', { sessionId: 'B2', uiMode: 'user-interaction' });
        expect((await store.listPendingNotifications('n')).map((p) => p.sessionId)).toEqual(['A1', 'B2']);
        clock.advance(1000);
        const again = await store.recordNotification('n', { sessionId: 'A1', uiMode: 'informative' });
        expect(again).toMatchObject({ sessionId: 'A1', uiMode: 'informative', notifiedAt: clock.now() });
        expect((await store.listPendingNotifications('n')).map((p) => p.sessionId)).toEqual(['B2', 'A1']);
        expect(await store.listPendingNotifications('unknown')).toEqual([]);
      });

      it('DG-NOT-06: a pending notification is taken exactly once, even by two connections at once', async () => {
        await store.createDevice(device('t'));
        await store.recordNotification('t', { sessionId: '1234', uiMode: 'not-specified' });
        const other = await harness.openSecond({ clock });
        const taken = await Promise.all([
          store.takePendingNotification('t', '1234'),
          other.takePendingNotification('t', '1234'),
        ]);
        expect(taken.filter((t) => t !== undefined)).toEqual([
          { deviceId: 't', sessionId: '1234', uiMode: 'not-specified', notifiedAt: clock.now() },
        ]);
        expect(await store.takePendingNotification('t', '1234')).toBeUndefined();
        expect(await store.takePendingNotification('t', 'FFFF')).toBeUndefined();
        expect(await store.listPendingNotifications('t')).toEqual([]);
      });

      it('forgets notifications older than pendingNotificationMs, and those of a deleted device', async () => {
        const short = await harness.openSecond({ clock, pendingNotificationMs: 5000 });
        await short.createDevice(device('old'));
        await short.recordNotification('old', { sessionId: '1', uiMode: 'background' });
        await short.recordNotification('old', { sessionId: '2', uiMode: 'background' });
        clock.advance(5001);
        expect(await short.listPendingNotifications('old')).toEqual([]);
        expect(await short.takePendingNotification('old', '1')).toBeUndefined();
        await short.recordNotification('old', { sessionId: '3', uiMode: 'background' });
        // Recording a new one deleted the stale row '2' (the store with the default window still sees '3' only).
        expect((await store.listPendingNotifications('old')).map((p) => p.sessionId)).toEqual(['3']);
        expect(await short.deleteDevice('old')).toBe(true);
        expect(await store.listPendingNotifications('old')).toEqual([]);
      });
    });

    describe('nonce resync offers (security.md §8.3)', () => {
      it("an offer is stored, read by loadExchange and taken exactly once with the exchange's writes", async () => {
        expect(await store.createDevice(device('rs'))).toMatchObject({ nonceResyncUntil: null });
        const until = clock.now() + 600_000;
        expect(await store.updateDevice('rs', { nonceResyncUntil: until })).toMatchObject({
          nonceResyncUntil: until,
        });
        expect((await store.loadExchange('rs', '1'))!.device.nonceResyncUntil).toBe(until);
        await store.commitExchange({
          deviceId: 'rs',
          consumeNonceResync: true,
          device: { clientNonce: 'Zmlyc3Q=', serverNonce: 'AAAAAA==' },
        });
        expect(await store.getDevice('rs')).toMatchObject({
          nonceResyncUntil: null,
          clientNonce: 'Zmlyc3Q=',
          serverNonce: 'AAAAAA==',
        });
        // Taken: a second commit taking it fails, and nothing of that commit is written.
        await expect(
          store.commitExchange({
            deviceId: 'rs',
            consumeNonceResync: true,
            device: { clientNonce: 'c2Vjb25k' },
          }),
        ).rejects.toBeInstanceOf(NonceResyncTakenError);
        expect((await store.getDevice('rs'))!.clientNonce).toBe('Zmlyc3Q=');
      });

      it('an expired or withdrawn offer cannot be taken; the commit writes nothing', async () => {
        await store.createDevice(device('late'));
        await store.updateDevice('late', { nonceResyncUntil: clock.now() + 1000 });
        clock.advance(1000);
        await expect(
          store.commitExchange({
            deviceId: 'late',
            consumeNonceResync: true,
            device: { clientNonce: 'bGF0ZQ==' },
            session: { sessionId: '1', expectedVersion: 0, snapshot: {} },
          }),
        ).rejects.toMatchObject({ code: 'nonce-resync-taken', httpStatus: 409 });
        expect(await store.getDevice('late')).toMatchObject({
          clientNonce: null,
          nonceResyncUntil: clock.now(),
        });
        expect((await store.loadExchange('late', '1'))!.session).toBeUndefined();
        await store.updateDevice('late', { nonceResyncUntil: clock.now() + 1000 });
        await store.updateDevice('late', { nonceResyncUntil: null });
        await expect(
          store.commitExchange({ deviceId: 'late', consumeNonceResync: true }),
        ).rejects.toBeInstanceOf(NonceResyncTakenError);
      });

      it('two connections taking one offer at once: exactly one wins', async () => {
        await store.createDevice(device('race'));
        await store.updateDevice('race', { nonceResyncUntil: clock.now() + 60_000 });
        const other = await harness.openSecond({ clock });
        const outcomes = await Promise.allSettled([
          store.commitExchange({
            deviceId: 'race',
            consumeNonceResync: true,
            device: { clientNonce: 'YQ==' },
          }),
          other.commitExchange({
            deviceId: 'race',
            consumeNonceResync: true,
            device: { clientNonce: 'Yg==' },
          }),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const refused = outcomes.find((o) => o.status === 'rejected');
        expect(refused?.reason).toBeInstanceOf(NonceResyncTakenError);
        expect(['YQ==', 'Yg==']).toContain((await store.getDevice('race'))!.clientNonce);
      });

      it('migration 7 adds the offer column to devices registered before it, as no offer', async () => {
        // Back to the schema before migration 7, with a device in it, then migrate again.
        await store.driver.run(`ALTER TABLE devices DROP COLUMN nonce_resync_until`);
        await store.driver.run(`DELETE FROM omadm_migrations WHERE version = 7`);
        await store.driver.run(
          `INSERT INTO devices (device_id, username, client_secret_digest, auth_type, server_password, created_at)
           VALUES ('before', 'u', 'ZGlnZXN0', 'md5', 'pw', ?)`,
          [clock.now()],
        );
        expect(await migrate(store.driver, clock.now())).toEqual([7]);
        expect(await store.getDevice('before')).toMatchObject({ deviceId: 'before', nonceResyncUntil: null });
        await store.updateDevice('before', { nonceResyncUntil: clock.now() + 1 });
        await store.commitExchange({ deviceId: 'before', consumeNonceResync: true });
        expect((await store.getDevice('before'))!.nonceResyncUntil).toBeNull();
      });
    });

    describe('migrations', () => {
      it('re-running migrations on an open database applies nothing and keeps the data', async () => {
        await store.createDevice(device('keep'));
        expect(await migrate(store.driver, clock.now())).toEqual([]);
        const second = await harness.openSecond({ clock });
        expect(await second.getDevice('keep')).toMatchObject({ deviceId: 'keep' });
        const rows = await store.driver.all(`SELECT version, name FROM omadm_migrations ORDER BY version`);
        expect(rows.map((r) => Number(r['version']))).toEqual(MIGRATIONS.map((m) => m.version));
      });

      it('a running process keeps working while a newer one adds columns (rolling upgrade)', async () => {
        await store.createDevice(device('old'));
        const cmd = await store.enqueueCommand('old', GET_MOD);
        const exercise = async () => {
          expect(await store.getDevice('old')).toMatchObject({ deviceId: 'old' });
          expect((await store.listDevices()).items.length).toBeGreaterThan(0);
          expect(await store.getCommand('old', cmd!.id)).toMatchObject({ state: 'queued' });
          expect((await store.listCommands('old')).items).toHaveLength(1);
          expect((await store.loadExchange('old', 'S'))!.pending).toHaveLength(1);
          await store.listAlerts('old');
          await store.listMessages('old');
          await store.getTree('old', '.');
        };
        await exercise();
        const newer = await harness.openSecond({ clock });
        const upgrade = [
          ...MIGRATIONS,
          {
            version: 100,
            name: 'new columns',
            statements: [
              'ALTER TABLE devices ADD COLUMN tag TEXT',
              'ALTER TABLE commands ADD COLUMN priority INTEGER',
              'ALTER TABLE sessions ADD COLUMN note TEXT',
              'ALTER TABLE alerts ADD COLUMN extra TEXT',
              'ALTER TABLE messages ADD COLUMN extra TEXT',
              'ALTER TABLE tree_values ADD COLUMN extra TEXT',
            ],
          },
        ];
        expect(await migrate(newer.driver, clock.now(), upgrade)).toEqual([100]);
        await exercise();
        await store.createDevice(device('after'));
        expect(await store.enqueueCommand('after', GET_MOD)).toMatchObject({ state: 'queued' });
      });

      it('applies a new migration once, in order, recording it', async () => {
        const extra = [
          ...MIGRATIONS,
          { version: 99, name: 'test column', statements: ['ALTER TABLE devices ADD COLUMN note TEXT'] },
        ];
        expect(await migrate(store.driver, clock.now(), extra)).toEqual([99]);
        expect(await migrate(store.driver, clock.now(), extra)).toEqual([]);
        await store.createDevice(device('n'));
        await store.driver.run(`UPDATE devices SET note = 'hi' WHERE device_id = 'n'`);
        expect((await store.driver.all(`SELECT note FROM devices`))[0]).toEqual({ note: 'hi' });
      });
    });
  });
}
