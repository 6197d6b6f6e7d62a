/**
 * `npx tsx bench/codec.ts [--rounds 15] [--ms 150]`
 *
 * Encode and decode throughput of the XML and WBXML codecs (bytes ⇄ SyncMLMessage) on one core, for a typical
 * Package 3 (~2 KB of XML) and a large one (~200 KB: a `?list=StructData`-style Results with many items), plus a
 * ~200 KB message that is one big Data value. Every figure is printed beside a baseline measured in the same run:
 * JSON.stringify / JSON.parse of the same model (an equivalent object), as a ratio of MB/s.
 *
 * MB/s counts each format's own bytes (WBXML is smaller, so compare messages/s across formats). Each figure is the
 * median of `rounds` timed rounds of ~`ms` milliseconds, after a warm-up. Target (issue 2): WBXML decode at least
 * as fast as XML decode, and both well over 50 MB/s.
 */
import { parseArgs } from 'node:util';
import type { Command, Item, SyncMLMessage } from '../src/syncml/model.js';
import { decodeWbxml, encodeWbxml, readWbxml, writeWbxml } from '../src/syncml/wbxml/index.js';
import { decodeXml, encodeXml, parseXml } from '../src/syncml/xml/index.js';
import { messageToElement } from '../src/syncml/mapping/index.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, ms: { type: 'string', default: '150' } },
});
const ROUNDS = Number(values.rounds);
const ROUND_MS = Number(values.ms);

// ---------------------------------------------------------------------------------------------- workloads

const header = {
  verDtd: '1.2',
  verProto: 'DM/1.2',
  sessionId: '3A80',
  msgId: 2,
  target: { locUri: 'http://127.0.0.1:8080/dm?s=3A80' },
  source: { locUri: 'IMEI:490154203237518' },
  cred: { meta: { format: 'b64', type: 'syncml:auth-md5' }, data: 'VL/MiqHb4woWCHqgTyb4iQ==' },
  meta: { maxMsgSize: 65536 },
} as const;

function status(cmdId: number, cmdRef: number, cmd: string, code: number, targetRef?: string): Command {
  return {
    kind: 'Status',
    cmdId,
    msgRef: 1,
    cmdRef,
    cmd,
    targetRefs: targetRef === undefined ? [] : [targetRef],
    sourceRefs: [],
    code,
    items: [],
  };
}

function leaf(uri: string, value: string): Item {
  return {
    source: { locUri: uri },
    meta: { format: 'chr', type: 'text/plain' },
    data: { kind: 'text', text: value },
  };
}

/** Package 3: Status for the header and commands, Results for a Get of DevDetail leaves, a Generic Alert. */
function package3(resultItems: number): SyncMLMessage {
  const items: Item[] = [];
  for (let i = 0; i < resultItems; i++)
    items.push(leaf(`./DevDetail/Ext/Acme/Param${i}`, `value-${i}-${(i * 7919) % 10007}`));
  const body: Command[] = [
    {
      ...status(1, 0, 'SyncHdr', 212),
      targetRefs: ['IMEI:490154203237518'],
      sourceRefs: ['http://127.0.0.1:8080/dm'],
    } as Command,
    status(2, 3, 'Replace', 200, './Vendor/Acme/Settings/Proxy'),
    status(3, 4, 'Get', 200, './DevDetail/Ext/Acme'),
    { kind: 'Results', cmdId: 4, msgRef: 1, cmdRef: 4, items },
    {
      kind: 'Alert',
      cmdId: 5,
      code: 1226,
      correlator: 'fumo-0001',
      items: [
        {
          source: { locUri: './FUMO/Pkg1' },
          meta: {
            type: 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate',
            format: 'int',
            mark: 'critical',
          },
          data: { kind: 'text', text: '200' },
        },
      ],
    },
  ];
  return { header, body, final: true };
}

/** One Results item carrying a ~200 KB text value (a log), to show per-byte string throughput. */
function bigValue(): SyncMLMessage {
  const lines: string[] = [];
  for (let i = 0; lines.join('\n').length < 200_000 && i < 10_000; i++) {
    lines.push(
      `2026-12-03T10:00:${String(i % 60).padStart(2, '0')}Z INFO dm.session event ${i} state=${(i * 31) % 1000} <ok & done>`,
    );
  }
  return {
    header,
    body: [
      {
        kind: 'Results',
        cmdId: 1,
        msgRef: 1,
        cmdRef: 2,
        items: [leaf('./Vendor/Acme/Log', lines.join('\n'))],
      },
    ],
    final: true,
  };
}

/** Grows `resultItems` until the XML encoding reaches `targetBytes`. */
function sized(targetBytes: number): SyncMLMessage {
  let n = 1;
  while (encodeXml(package3(n)).length < targetBytes) n = Math.ceil(n * 1.1) + 1;
  return package3(n);
}

// ---------------------------------------------------------------------------------------------- timing

let sink: unknown;

/** Median ops/s of `fn` over ROUNDS rounds of ~ROUND_MS each, after a warm-up of two rounds. */
function opsPerSecond(fn: () => unknown): number {
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) sink = fn();
    if (performance.now() - t0 >= ROUND_MS / 4) break;
    batch *= 2;
  }
  batch = Math.max(1, Math.round(batch * 4));
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS + 2; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) sink = fn();
    const dt = (performance.now() - t0) / 1000;
    if (r >= 2) rates.push(batch / dt);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

interface Row {
  readonly name: string;
  readonly bytes: number;
  readonly ops: number;
  readonly baselineBytes: number;
  readonly baselineOps: number;
}

const rows: Row[] = [];

function measure(
  name: string,
  bytes: number,
  fn: () => unknown,
  baselineBytes: number,
  baseline: () => unknown,
): void {
  const ops = opsPerSecond(fn);
  const baselineOps = opsPerSecond(baseline);
  rows.push({ name, bytes, ops, baselineBytes, baselineOps });
  print(rows[rows.length - 1]!);
}

const mbps = (bytes: number, ops: number): number => (bytes * ops) / 1e6;
const fmt = (n: number, width: number, digits = 1): string => n.toFixed(digits).padStart(width);

function print(r: Row): void {
  const ours = mbps(r.bytes, r.ops);
  const base = mbps(r.baselineBytes, r.baselineOps);
  console.log(
    `${r.name.padEnd(34)} ${fmt(r.bytes / 1024, 7)} KB ${fmt(ours, 8)} MB/s ${fmt(r.ops, 10, 0)} msg/s` +
      ` | JSON ${fmt(base, 7)} MB/s ${fmt(r.baselineOps, 9, 0)} msg/s | ×${(ours / base).toFixed(2)}`,
  );
}

// ---------------------------------------------------------------------------------------------- run

const workloads: [string, SyncMLMessage][] = [
  ['Package 3 ~2 KB', sized(2 * 1024)],
  ['Package 3 ~200 KB, many items', sized(200 * 1024)],
  ['~200 KB, one large value', bigValue()],
];

console.log(
  `node ${process.version}, ${ROUNDS} rounds × ~${ROUND_MS} ms, medians; ratio = our MB/s ÷ JSON MB/s (same run)\n`,
);
for (const [label, message] of workloads) {
  const xml = encodeXml(message);
  const wbxml = encodeWbxml(message);
  const json = JSON.stringify(message);
  const jsonBytes = Buffer.byteLength(json);
  const element = messageToElement(message);
  const withTable = encodeWbxml(message, { stringTable: true }).length;
  const pct = (n: number): string => `${((n / xml.length) * 100).toFixed(0)} %`;
  console.log(
    `${label}: XML ${xml.length} B, WBXML ${wbxml.length} B (${pct(wbxml.length)}; ${withTable} B = ${pct(withTable)} with string table), JSON ${jsonBytes} B`,
  );
  measure(
    '  XML   decode (bytes → model)',
    xml.length,
    () => decodeXml(xml),
    jsonBytes,
    () => JSON.parse(json),
  );
  measure(
    '  WBXML decode (bytes → model)',
    wbxml.length,
    () => decodeWbxml(wbxml),
    jsonBytes,
    () => JSON.parse(json),
  );
  measure(
    '  XML   encode (model → bytes)',
    xml.length,
    () => encodeXml(message),
    jsonBytes,
    () => JSON.stringify(message),
  );
  measure(
    '  WBXML encode (model → bytes)',
    wbxml.length,
    () => encodeWbxml(message),
    jsonBytes,
    () => JSON.stringify(message),
  );
  const shared = encodeWbxml(message, { stringTable: true });
  measure(
    '  WBXML encode, string table',
    shared.length,
    () => encodeWbxml(message, { stringTable: true }),
    jsonBytes,
    () => JSON.stringify(message),
  );
  measure(
    '  WBXML decode, string table',
    shared.length,
    () => decodeWbxml(shared),
    jsonBytes,
    () => JSON.parse(json),
  );
  measure(
    '  XML   parse  (bytes → Element)',
    xml.length,
    () => parseXml(xml),
    jsonBytes,
    () => JSON.parse(json),
  );
  measure(
    '  WBXML read   (bytes → Element)',
    wbxml.length,
    () => readWbxml(wbxml),
    jsonBytes,
    () => JSON.parse(json),
  );
  measure(
    '  WBXML write  (Element → bytes)',
    wbxml.length,
    () => writeWbxml(element),
    jsonBytes,
    () => JSON.stringify(message),
  );
  console.log('');
}

const decodes = rows.filter((r) => r.name.includes('decode (bytes'));
for (let i = 0; i + 1 < decodes.length; i += 2) {
  const [x, w] = [decodes[i]!, decodes[i + 1]!];
  console.log(
    `decode msg/s WBXML ÷ XML: ${(w.ops / x.ops).toFixed(2)}  (XML ${fmt(mbps(x.bytes, x.ops), 0)} MB/s, WBXML ${fmt(mbps(w.bytes, w.ops), 0)} MB/s)`,
  );
}
if (sink === Symbol.for('never')) console.log(sink);
