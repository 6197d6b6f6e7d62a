/**
 * `npx tsx bench/message-log.ts [--rounds 6] [--flushes 20] [--batch 512] [--devices 64]`
 *
 * The message log's flush, in one process, before and after segments, alternated round by round on two SQLite files
 * (WAL, as the server runs) at steady state (every device already at its 200-message limit, so pruning deletes):
 *
 * - before: each body gzipped on its own (level 1, 4 KiB window, memLevel 5, as e3c0b4a), rows with their body,
 *   one prune DELETE per device of the flush (the code before migration 5, reproduced here);
 * - after: the store's MessageLog (one deflate per segment, index rows, a prune only for devices that are due).
 *
 * Batches are idle check-ins of `--devices` devices (Package 1 ≈ 1.36 kB and Package 2 ≈ 0.84 kB per check-in,
 * credentials and ids differing per device and session). Prints per-message cost of the whole flush and of its
 * compression alone (CPU time of this process, medians over the rounds), and stored compressed bytes per message.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { migrate } from '../src/server/store/migrations.js';
import { MessageLog } from '../src/server/store/message-log.js';
import { encodeSegments } from '../src/server/store/message-segment.js';
import { SqliteDriver } from '../src/server/store/sqlite-driver.js';
import type { SqlDriver, SqlValue } from '../src/server/store/sql-driver.js';
import type { NewMessage } from '../src/server/store/store.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    flushes: { type: 'string', default: '20' },
    batch: { type: 'string', default: '512' },
    devices: { type: 'string', default: '64' },
  },
});
const ROUNDS = Number(values.rounds);
const FLUSHES = Number(values.flushes);
const BATCH = Number(values.batch);
const DEVICES = Number(values.devices);
const MAX_PER_DEVICE = 200;
const TYPE = 'application/vnd.syncml.dm+xml';

const deviceId = (d: number) => `IMEI:35${String(d).padStart(13, '0')}`;
const meta = (name: string, value: string) => `<${name} xmlns="syncml:metinf">${value}</${name}>`;
function package1(d: number, session: number): string {
  const item = (uri: string, data: string) =>
    `<Item><Source><LocURI>./DevInfo/${uri}</LocURI></Source><Meta>${meta('Format', 'chr')}</Meta><Data>${data}</Data></Item>`;
  return (
    `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${session}</SessionID>` +
    `<MsgID>1</MsgID><Target><LocURI>http://127.0.0.1:8080/dm</LocURI></Target><Source><LocURI>${deviceId(d)}</LocURI>` +
    `<LocName>user-${d}</LocName></Source><Cred><Meta>${meta('Format', 'b64')}${meta('Type', 'syncml:auth-basic')}</Meta>` +
    `<Data>${randomBytes(24).toString('base64')}</Data></Cred><Meta>${meta('MaxMsgSize', '16000')}${meta('MaxObjSize', '524288')}</Meta>` +
    `</SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Replace><CmdID>2</CmdID>` +
    item('DevId', deviceId(d)) +
    item('Man', 'omadm') +
    item('Mod', `sim-${d % 7}`) +
    item('DmV', '1.2') +
    item('Lang', 'en-US') +
    `</Replace><Final/></SyncBody></SyncML>`
  );
}
function package2(d: number, session: number): string {
  const status = (id: number, ref: number, cmd: string, data: number, extra = '') =>
    `<Status><CmdID>${id}</CmdID><MsgRef>1</MsgRef><CmdRef>${ref}</CmdRef><Cmd>${cmd}</Cmd>${extra}<Data>${data}</Data></Status>`;
  return (
    `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${session}</SessionID>` +
    `<MsgID>1</MsgID><Target><LocURI>${deviceId(d)}</LocURI></Target><Source><LocURI>http://127.0.0.1:8080/dm</LocURI></Source>` +
    `<Cred><Meta>${meta('Format', 'b64')}${meta('Type', 'syncml:auth-basic')}</Meta><Data>${randomBytes(18).toString('base64')}</Data></Cred>` +
    `</SyncHdr><SyncBody>` +
    status(
      1,
      0,
      'SyncHdr',
      212,
      `<TargetRef>http://127.0.0.1:8080/dm</TargetRef><SourceRef>${deviceId(d)}</SourceRef>`,
    ) +
    status(2, 1, 'Alert', 200) +
    status(3, 2, 'Replace', 200) +
    `<Final/></SyncBody></SyncML>`
  );
}

interface Entry {
  readonly deviceId: string;
  readonly message: NewMessage;
}
let session = 0;
function batch(): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; entries.length < BATCH; i++) {
    const d = i % DEVICES;
    session++;
    for (const [direction, xml] of [
      ['in', package1(d, session)],
      ['out', package2(d, session)],
    ] as const) {
      const body = new TextEncoder().encode(xml);
      entries.push({
        deviceId: deviceId(d),
        message: { sessionId: String(session), direction, contentType: TYPE, body },
      });
    }
  }
  return entries;
}

// ── before: the flush as it was before segments ─────────────────────────────────────────────────────────────────
const OLD_GZIP = { level: 1, windowBits: 12, memLevel: 5 } as const;
const CHUNK = 64;
function oldInsertSql(rows: number): string {
  const values = Array.from({ length: rows }, (_, i) => `(?, ?, ?, ?, ?, ?, ?, ${i})`).join(', ');
  return `INSERT INTO messages (device_id, session_id, direction, content_type, body, size, created_at)
    SELECT column1, column2, column3, column4, column5, column6, column7 FROM (VALUES ${values}) AS v
    WHERE EXISTS (SELECT 1 FROM devices d WHERE d.device_id = v.column1) ORDER BY column8`;
}
async function oldFlush(driver: SqlDriver, entries: readonly Entry[], now: number): Promise<number> {
  let bytes = 0;
  const rows: SqlValue[][] = entries.map((e) => {
    const body = gzipSync(e.message.body, OLD_GZIP);
    bytes += body.byteLength;
    const m = e.message;
    return [e.deviceId, m.sessionId, m.direction, m.contentType, body, m.body.byteLength, now];
  });
  const devices = [...new Set(entries.map((e) => e.deviceId))];
  await driver.transaction(async (tx) => {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      await tx.run(oldInsertSql(chunk.length), chunk.flat());
    }
    for (const id of devices) {
      await tx.run(
        `DELETE FROM messages WHERE device_id = ? AND id <= (
           SELECT id FROM messages WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        [id, id, MAX_PER_DEVICE],
      );
    }
  });
  return bytes;
}

// ── after: the store's MessageLog ────────────────────────────────────────────────────────────────────────────────
async function newFlush(log: MessageLog, entries: readonly Entry[], now: number): Promise<void> {
  for (const e of entries) log.append(e.deviceId, [e.message], now);
  await log.flush();
}

async function openDb(dir: string, name: string): Promise<SqlDriver> {
  const driver = new SqliteDriver(join(dir, name));
  await migrate(driver, Date.now());
  for (let d = 0; d < DEVICES; d++) {
    await driver.run(
      `INSERT INTO devices (device_id, username, client_secret_digest, auth_type, server_password, created_at)
       VALUES (?, 'u', 'd', 'basic', 's', 0)`,
      [deviceId(d)],
    );
  }
  return driver;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** CPU time of this process (user + system) since `start`: steadier than wall time on a shared machine. */
const micros = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return used.user + used.system;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'omadm-bench-log-'));
  const before = await openDb(dir, 'before.db');
  const after = await openDb(dir, 'after.db');
  const log = new MessageLog(after, {
    flushMs: 3_600_000,
    maxBuffered: Number.MAX_SAFE_INTEGER,
    maxPerDevice: MAX_PER_DEVICE,
  });
  try {
    // Steady state: every device past its limit, so both variants prune what they insert.
    const warm = Math.ceil(((MAX_PER_DEVICE + 60) * DEVICES) / BATCH);
    for (let i = 0; i < warm; i++) {
      const entries = batch();
      await oldFlush(before, entries, Date.now());
      await newFlush(log, entries, Date.now());
    }
    const perMessage = { before: [] as number[], after: [] as number[] };
    const compress = { before: [] as number[], after: [] as number[] };
    const stored = { before: [] as number[], after: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const batches = Array.from({ length: FLUSHES }, () => batch());
      const n = FLUSHES * BATCH;
      const order = round % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const side of order) {
        const start = process.cpuUsage();
        if (side === 'before') {
          let bytes = 0;
          for (const entries of batches) bytes += await oldFlush(before, entries, Date.now());
          stored.before.push(bytes / n);
        } else {
          for (const entries of batches) await newFlush(log, entries, Date.now());
        }
        perMessage[side].push(micros(start) / n);
        // Compression alone, on the same batches.
        const c = process.cpuUsage();
        if (side === 'before')
          for (const entries of batches) for (const e of entries) gzipSync(e.message.body, OLD_GZIP);
        else {
          let bytes = 0;
          for (const entries of batches) {
            for (const s of encodeSegments(entries.map((e) => e.message.body))) bytes += s.body.byteLength;
          }
          stored.after.push(bytes / n);
        }
        compress[side].push(micros(c) / n);
      }
      console.log(
        `round ${round + 1}: flush per message before ${perMessage.before.at(-1)!.toFixed(2)} µs, after ${perMessage.after.at(-1)!.toFixed(2)} µs; ` +
          `compression before ${compress.before.at(-1)!.toFixed(2)} µs, after ${compress.after.at(-1)!.toFixed(2)} µs`,
      );
    }
    const rawPerMessage = batch().reduce((sum, e) => sum + e.message.body.byteLength, 0) / BATCH;
    console.log(
      `\n${DEVICES} devices, flushes of ${BATCH} messages (${rawPerMessage.toFixed(0)} B each on average), ${ROUNDS} rounds of ${FLUSHES} flushes, medians:`,
    );
    console.log(
      `  whole flush per message:   before ${median(perMessage.before).toFixed(2)} µs   after ${median(perMessage.after).toFixed(2)} µs`,
    );
    console.log(
      `  compression per message:   before ${median(compress.before).toFixed(2)} µs   after ${median(compress.after).toFixed(2)} µs`,
    );
    console.log(
      `  stored bytes per message:  before ${median(stored.before).toFixed(0)} B   after ${median(stored.after).toFixed(0)} B`,
    );
    const count = async (driver: SqlDriver, sql: string) => Number((await driver.all(sql))[0]!['n']);
    console.log(
      `  rows: before ${await count(before, 'SELECT COUNT(*) AS n FROM messages')} messages; after ${await count(after, 'SELECT COUNT(*) AS n FROM messages')} messages in ${await count(after, 'SELECT COUNT(*) AS n FROM message_segments')} segments (unreferenced ones wait for pruneMessages)`,
    );
  } finally {
    await before.close();
    await after.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
