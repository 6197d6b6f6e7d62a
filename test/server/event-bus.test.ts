import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessEventBus, PostgresEventBus } from '../../src/server/events/index.js';
import type { EventBus, ServerEvent } from '../../src/server/events/index.js';

const PG_URL = process.env['OMADM_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Resolves with the next `count` events a bus delivers to a subscription, or rejects after a timeout. */
function collect(
  bus: EventBus,
  count: number,
  filter?: Parameters<EventBus['subscribe']>[1],
): Promise<ServerEvent[]> {
  return new Promise((resolve, reject) => {
    const got: ServerEvent[] = [];
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`got ${got.length} of ${count} events: ${JSON.stringify(got)}`));
    }, 3000);
    const stop = bus.subscribe((event) => {
      got.push(event);
      if (got.length === count) {
        clearTimeout(timer);
        stop();
        resolve(got);
      }
    }, filter);
  });
}

const started = (deviceId: string, sessionId = '1'): ServerEvent => ({
  type: 'session.started',
  deviceId,
  sessionId,
  at: 1,
});
const alert: ServerEvent = {
  type: 'generic-alert',
  deviceId: 'd2',
  alertId: 7,
  code: 1226,
  correlator: null,
  types: ['org.openmobilealliance.dm.firmwareupdate.download'],
  at: 2,
};

const buses: EventBus[] = [];
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
});

const implementations: [string, () => Promise<EventBus>][] = [
  ['in-process', async () => new InProcessEventBus()],
  [
    'PostgreSQL',
    async () =>
      PostgresEventBus.connect({ connection: PG_URL, channel: `omadm_t_${randomBytes(5).toString('hex')}` }),
  ],
];

describe.each(implementations)('EventBus contract (%s)', (_name, make) => {
  async function bus(): Promise<EventBus> {
    const b = await make();
    buses.push(b);
    return b;
  }

  it('delivers published events to every subscriber, in publish order', async () => {
    const b = await bus();
    const first = collect(b, 2);
    const second = collect(b, 2);
    await b.publish(started('d1'));
    await b.publish(alert);
    expect(await first).toEqual([started('d1'), alert]);
    expect(await second).toEqual([started('d1'), alert]);
  });

  it('keeps publish order when the publisher does not wait between events', async () => {
    const b = await bus();
    const events = Array.from({ length: 300 }, (_, i) => started(`d${i % 7}`, String(i)));
    const got = collect(b, events.length);
    const published = events.map((event) => b.publish(event));
    await Promise.all(published);
    expect(await got).toEqual(events);
  });

  it('filters by device and by type', async () => {
    const b = await bus();
    const onlyD2 = collect(b, 1, { deviceId: 'd2' });
    const onlyStarted = collect(b, 2, { types: ['session.started'] });
    await b.publish(started('d1'));
    await b.publish(alert);
    await b.publish(started('d3'));
    expect(await onlyD2).toEqual([alert]);
    expect(await onlyStarted).toEqual([started('d1'), started('d3')]);
  });

  it('isolates a throwing listener and stops delivering after unsubscribe', async () => {
    const b = await bus();
    const seenByUnsubscribed: ServerEvent[] = [];
    const stop = b.subscribe((e) => seenByUnsubscribed.push(e));
    stop();
    b.subscribe(() => {
      throw new Error('listener bug');
    });
    const healthy = collect(b, 1);
    await b.publish(started('d1'));
    expect(await healthy).toEqual([started('d1')]);
    expect(seenByUnsubscribed).toEqual([]);
  });

  it('refuses to publish after close', async () => {
    const b = await make();
    await b.close();
    await expect(b.publish(started('d1'))).rejects.toMatchObject({ code: 'event-bus-closed' });
  });
});

describe('PostgresEventBus across processes', () => {
  it('an event published by one bus instance reaches the subscribers of another (LISTEN/NOTIFY)', async () => {
    const channel = `omadm_t_${randomBytes(5).toString('hex')}`;
    const a = await PostgresEventBus.connect({ connection: PG_URL, channel });
    const b = await PostgresEventBus.connect({ connection: PG_URL, channel });
    buses.push(a, b);
    const atA = collect(a, 2);
    const atB = collect(b, 2, { deviceId: 'd1' });
    await a.publish(started('d1', 'from-a'));
    await b.publish(started('d1', 'from-b'));
    expect(await atB).toEqual([started('d1', 'from-a'), started('d1', 'from-b')]);
    expect(await atA).toEqual([started('d1', 'from-a'), started('d1', 'from-b')]);
  });

  it('sends the events published together in one NOTIFY statement, and what was published before close', async () => {
    const channel = `omadm_t_${randomBytes(5).toString('hex')}`;
    const a = await PostgresEventBus.connect({ connection: PG_URL, channel });
    const b = await PostgresEventBus.connect({ connection: PG_URL, channel });
    buses.push(b);
    const events = Array.from({ length: 40 }, (_, i) => started('d1', `s${i}`));
    const atB = collect(b, events.length);
    for (const event of events) void a.publish(event);
    // Published, not awaited, then closed: close sends them first.
    await a.close();
    expect(await atB).toEqual(events);
    expect(a.stats).toEqual({ statements: 1, events: 40 });
    await expect(a.publish(started('d1'))).rejects.toThrow(/closed/);
  });

  it('buses on different channels do not see each other', async () => {
    const a = await PostgresEventBus.connect({
      connection: PG_URL,
      channel: `omadm_t_${randomBytes(5).toString('hex')}`,
    });
    const b = await PostgresEventBus.connect({
      connection: PG_URL,
      channel: `omadm_t_${randomBytes(5).toString('hex')}`,
    });
    buses.push(a, b);
    const seenByB: ServerEvent[] = [];
    b.subscribe((e) => seenByB.push(e));
    const atA = collect(a, 2);
    await a.publish(started('d1'));
    await b.publish(started('marker'));
    await a.publish(started('d9'));
    await atA;
    // PostgreSQL delivers notifications to a listener in commit order: once b has its second marker, anything of
    // a's (committed before it) would have reached b already.
    const atB = collect(b, 1);
    await b.publish(started('marker-2'));
    await atB;
    expect(seenByB).toEqual([started('marker'), started('marker-2')]);
  });

  it('refuses an event over the NOTIFY payload limit', async () => {
    const a = await PostgresEventBus.connect({
      connection: PG_URL,
      channel: `omadm_t_${randomBytes(5).toString('hex')}`,
    });
    buses.push(a);
    await expect(
      a.publish({ type: 'auth.failure', deviceId: 'd', reason: 'x'.repeat(9000), at: 1 }),
    ).rejects.toMatchObject({ code: 'event-too-large' });
  });

  it('reconnects its listening connection after the database drops it', async () => {
    const channel = `omadm_t_${randomBytes(5).toString('hex')}`;
    const bus = await PostgresEventBus.connect({ connection: PG_URL, channel, maxReconnectDelayMs: 200 });
    buses.push(bus);
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
        [`LISTEN "${channel}"`],
      );
      expect(killed.rows).toEqual([{ killed: true }]);
      const deadline = Date.now() + 5000;
      let dropped = false;
      while (Date.now() < deadline && !dropped) {
        await new Promise((r) => setTimeout(r, 5));
        dropped = !bus.listening;
      }
      expect(dropped).toBe(true);
      while (Date.now() < deadline && !bus.listening) await new Promise((r) => setTimeout(r, 50));
      expect(bus.listening).toBe(true);
      const next = collect(bus, 1);
      await bus.publish(started('back'));
      expect(await next).toEqual([started('back')]);
    } finally {
      await admin.end();
    }
  });
});
