/**
 * Two `omadm server` processes on one PostgreSQL schema (a fresh schema per test) behind an imaginary load
 * balancer: the packages of each session alternate between the two ports; events from either process reach a
 * subscriber of the other (LISTEN/NOTIFY); two processes answering the same message cannot both advance the session.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ClientSession } from '../../src/session/index.js';
import { cryptoRandom } from '../../src/platform/random.js';
import { systemClock } from '../../src/platform/clock.js';
import { decodeMessage, encodeMessage } from '../../src/syncml/codec.js';
import { devInfoItems } from '../../src/tree/index.js';
import { createTestDevice, runSession } from './support/device.js';
import { spawnServer, type ChildServer } from './support/child-server.js';
import { Api } from './support/server.js';

const PG_URL = process.env['OMADM_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const TOKEN = 'cluster-token';
const schemas: string[] = [];
const children: ChildServer[] = [];

async function cluster(): Promise<[ChildServer, ChildServer]> {
  const schema = `omadm_e2e_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  const db = `${PG_URL}?schema=${schema}`;
  const servers = await Promise.all(
    [0, 1].map(() => spawnServer(['--port', '0', '--db', db, '--admin-token', TOKEN])),
  );
  children.push(...servers);
  return [servers[0]!, servers[1]!];
}

afterAll(async () => {
  for (const c of children) {
    if (c.child.exitCode === null && c.child.signalCode === null) {
      c.child.kill('SIGTERM');
      await c.exited;
    }
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

/** Reads a Server-Sent Events stream until `until` returns true for the events seen so far. */
async function readEvents(
  url: string,
  until: (types: string[]) => boolean,
  signal: AbortSignal,
): Promise<string[]> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` }, signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const types: string[] = [];
  let buffer = '';
  while (!until(types)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const blocks = buffer.split('\n\n');
    buffer = blocks.pop() ?? '';
    for (const block of blocks) {
      const type = /^event: (\S+)$/m.exec(block)?.[1];
      if (type !== undefined) types.push(type);
    }
  }
  await reader.cancel();
  return types;
}

describe('two server processes on PostgreSQL', () => {
  it('each session alternates its packages between the two processes and completes; every process sees every event', async () => {
    const [a, b] = await cluster();
    const device = await createTestDevice({ auth: 'md5' });
    await new Api(a.url, TOKEN).register(device);
    const ids = [
      await new Api(a.url, TOKEN).enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Mod' }),
      await new Api(b.url, TOKEN).enqueue(device.deviceId, {
        command: 'Add',
        target: './Vendor/Site',
        data: 'north',
        format: 'chr',
      }),
      await new Api(a.url, TOKEN).enqueue(device.deviceId, {
        command: 'Sequence',
        commands: [
          { command: 'Replace', target: './Vendor/Site', data: 'south', format: 'chr' },
          { command: 'Get', target: './Vendor/Site' },
        ],
      }),
    ];
    const abort = new AbortController();
    // A subscriber on process B, filtered to this device.
    const seenOnB = readEvents(
      `${b.url}/api/v1/events?deviceId=${encodeURIComponent(device.deviceId)}`,
      (t) => t.includes('session.ended') && t.filter((x) => x === 'command.done').length === 3,
      abort.signal,
    );
    await new Promise((r) => setTimeout(r, 200));
    const used: string[] = [];
    const run = await runSession(device, {
      url: (i) => {
        const target = i % 2 === 0 ? a.dm : b.dm;
        used.push(target);
        return target;
      },
    });
    expect(run.ended?.reason).toBe('completed');
    expect(run.sent).toBeGreaterThanOrEqual(3);
    expect(new Set(used).size).toBe(2);
    const api = new Api(b.url, TOKEN);
    expect(await api.command(device.deviceId, ids[0]!)).toMatchObject({
      state: 'done',
      status: 200,
      results: [{ data: 'R100' }],
    });
    expect(await api.command(device.deviceId, ids[1]!)).toMatchObject({ state: 'done', status: 200 });
    expect(await api.command(device.deviceId, ids[2]!)).toMatchObject({
      state: 'done',
      childStatuses: [200, 200],
      results: [{ data: 'south' }],
    });
    const types = await Promise.race([
      seenOnB,
      new Promise<string[]>((_, reject) => setTimeout(() => reject(new Error('no events on B')), 5000)),
    ]);
    abort.abort();
    // Published by whichever process handled each message, delivered to B's subscriber through LISTEN/NOTIFY
    // (each process publishes in order; across processes NOTIFY gives no order, so only the counts are checked).
    expect([...types].sort()).toEqual([
      'command.done',
      'command.done',
      'command.done',
      'session.ended',
      'session.started',
    ]);
    // A second session on the other process first: no challenge, nonces came through the shared database.
    const again = await runSession(device, { url: b.dm });
    expect(again.ended?.reason).toBe('completed');
    expect(again.sent).toBe(1);
  });

  it('two processes answering the same message cannot both advance the session: one 200, one 409', async () => {
    const [a, b] = await cluster();
    const device = await createTestDevice({ auth: 'md5' });
    const api = new Api(a.url, TOKEN);
    await api.register(device);
    await runSession(device, { url: a.dm }); // gets a nonce
    const id = await api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Lang' });
    const type = 'application/vnd.syncml.dm+xml';
    const client = new ClientSession({
      serverUri: a.dm,
      serverId: 'omadm',
      deviceId: device.deviceId,
      sessionId: 'RACE',
      devInfo: await devInfoItems(device.tree),
      credentials: { auth: 'md5', username: device.username, password: device.password },
      executor: device.executor,
      nonces: device.nonces,
      random: cryptoRandom,
      clock: systemClock,
    });
    const p1 = encodeMessage((await client.start()).outgoing!.message, type);
    const p2 = await fetch(a.dm, { method: 'POST', headers: { 'content-type': type }, body: p1 });
    const p2bytes = new Uint8Array(await p2.arrayBuffer());
    const step = await client.receive(decodeMessage(p2bytes, type), { body: p2bytes });
    const p3 = encodeMessage(step.outgoing!.message, type);
    // Keeps the session going after Package 3 (it is taken into Package 4), so both answers would advance it.
    await api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/DmV' });
    const answers = await Promise.all(
      [a.dm, b.dm].map((url) => fetch(url, { method: 'POST', headers: { 'content-type': type }, body: p3 })),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    const conflict = answers.find((r) => r.status === 409)!;
    // Either both read the same version (the second write is stale) or one read after the other's write (a replay).
    expect(await conflict.json()).toMatchObject({
      code: expect.stringMatching(/^(stale-session|duplicate-message)$/),
    });
    expect(await new Api(b.url, TOKEN).command(device.deviceId, id)).toMatchObject({
      state: 'done',
      status: 200,
      results: [{ data: 'en-US' }],
    });
  });
});
