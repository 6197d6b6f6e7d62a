/**
 * fast-check arbitraries for SyncMLMessage, shared by the XML and WBXML property tests.
 *
 * They generate *canonical* models, the form a decoder returns, so `decode(encode(m))` can deep-equal `m`:
 * - identifiers, references and meta values are trimmed (decoders trim them), Data text is kept exactly;
 * - optional flags (`noResp`, `moreData`) are `true` or absent; `emi` is absent or non-empty;
 * - every string holds only characters XML 1.0 can carry (no C0 controls but TAB/LF/CR, no U+FFFE/U+FFFF);
 * - embedded XML follows the decoder's rules: `namespace` only where it changes, no empty or adjacent text
 *   nodes, no whitespace-only text beside elements;
 * - binary Data (only with `binary: true`) always holds bytes that are not UTF-8, since UTF-8 OPAQUE decodes as text.
 */
import fc from 'fast-check';
import type {
  Alert,
  Atomic,
  AtomicChild,
  Exec,
  Sequence,
  Chal,
  Command,
  Cred,
  Data,
  Item,
  LocRef,
  MetInf,
  Results,
  Status,
  SyncHdr,
  SyncMLMessage,
  XmlContent,
  XmlElement,
} from '../../src/syncml/model.js';
import { TNDS_XML_TYPE } from '../../src/syncml/constants.js';
import { DMDDF_NAMESPACE } from '../../src/syncml/model.js';

export interface MessageArbitraryOptions {
  /** Generate `{kind:'binary'}` Data (WBXML only: XML refuses it). Default false. */
  readonly binary?: boolean;
  /** Generate `{kind:'xml'}` Data (embedded documents). Default true. */
  readonly embeddedXml?: boolean;
  /**
   * Restrict embedded documents to TNDS-shaped `MgmtTree` in `syncml:dmddf1.2` (what WBXML code page 2 carries),
   * with Meta Type `application/vnd.syncml.dmtnds+xml` on their Item. Random Types never name TNDS otherwise.
   */
  readonly tndsOnly?: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One character XML 1.0 can carry, biased towards printable ASCII and markup-significant characters. */
export const xmlCharArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '&',
      '<',
      '>',
      '"',
      "'",
      ']]>',
      '\t',
      '\n',
      '\r',
      '\r\n',
      ' ',
      '&amp;',
      '<![CDATA[',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('é', '€', '中', '𝄞', '\u00a0', 'ß', '😀') },
  { weight: 1, arbitrary: fc.integer({ min: 0xa0, max: 0xd7ff }).map((c) => String.fromCharCode(c)) },
);

export function xmlTextArb(maxLength = 24): fc.Arbitrary<string> {
  return fc.array(xmlCharArb, { maxLength }).map((parts) => parts.join(''));
}

/** Text as decoders return trimmed values. */
export function trimmedTextArb(maxLength = 24): fc.Arbitrary<string> {
  return xmlTextArb(maxLength).map((s) => s.trim());
}

const uriArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    './DevInfo/DevId',
    './DevDetail/SwV',
    '.',
    './Vendor/MSFT/x',
    'http://127.0.0.1:8080/dm',
    'IMEI:35',
  ),
  fc
    .array(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 4 })
    .map((segments) => `./${segments.join('/')}`),
  trimmedTextArb(),
);

const idArb = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const natArb = fc.integer({ min: 0, max: 2 ** 40 });

/** Adds `key: value` only when the generated option is present (exactOptionalPropertyTypes). */
function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 2 });
}

/** The generated record with its absent options removed (`undefined` → no key), typed as the model. */
function compact<T extends object>(value: { readonly [K in keyof T]-?: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as T;
}

export const locRefArb: fc.Arbitrary<LocRef> = fc
  .record({ locUri: uriArb, locName: optional(trimmedTextArb()) })
  .map((r) => compact<LocRef>(r));

export const metInfArb: fc.Arbitrary<MetInf> = fc
  .record({
    format: optional(
      fc.oneof(fc.constantFrom('chr', 'int', 'b64', 'bin', 'bool', 'node', 'null', 'xml'), trimmedTextArb()),
    ),
    type: optional(
      fc.oneof(
        fc.constantFrom('text/plain', 'syncml:auth-md5', 'application/octet-stream'),
        trimmedTextArb(),
      ),
    ),
    mark: optional(fc.constantFrom('critical', 'major', 'informational')),
    size: optional(natArb),
    nextNonce: optional(fc.base64String({ maxLength: 24 })),
    version: optional(trimmedTextArb(6)),
    maxMsgSize: optional(natArb),
    maxObjSize: optional(natArb),
    emi: optional(fc.array(trimmedTextArb(), { minLength: 1, maxLength: 2 })),
  })
  .map((m) => compact<MetInf>(m));

export const credArb: fc.Arbitrary<Cred> = fc
  .record({ meta: optional(metInfArb), data: fc.base64String({ maxLength: 32 }) })
  .map((c) => compact<Cred>(c));

export const chalArb: fc.Arbitrary<Chal> = metInfArb.map((meta) => ({ meta }));

const xmlNameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,10}$/);
const DDF_NAMES = [
  'MgmtTree',
  'VerDTD',
  'Node',
  'NodeName',
  'Path',
  'RTProperties',
  'Format',
  'chr',
  'Type',
  'MIME',
  'Value',
];

/** Embedded documents in decoder-canonical form. `tnds` keeps every element in `syncml:dmddf1.2` with DDF names. */
export function xmlElementArb(tnds: boolean): fc.Arbitrary<XmlElement> {
  const nameArb = tnds ? fc.constantFrom(...DDF_NAMES) : xmlNameArb;
  const attributesArb = tnds
    ? fc.constant(undefined)
    : optional(
        fc.dictionary(
          xmlNameArb.filter((n) => n !== 'xmlns'),
          xmlTextArb(8),
          { minKeys: 1, maxKeys: 2 },
        ),
      );
  const nsArb = tnds
    ? fc.constant(undefined)
    : optional(fc.constantFrom('urn:example:a', 'urn:example:b', ''));
  const { element } = fc.letrec<{ element: XmlElement; leaf: XmlElement }>((tie) => ({
    leaf: fc
      .record({
        name: nameArb,
        namespace: nsArb,
        attributes: attributesArb,
        text: optional(xmlTextArb(12).filter((s) => s !== '')),
      })
      .map(({ text, ...rest }) =>
        compact<XmlElement>({ ...rest, children: text === undefined ? [] : [text] }),
      ),
    element: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tie('leaf'),
      fc
        .record({
          name: nameArb,
          namespace: nsArb,
          attributes: attributesArb,
          children: fc.array(
            fc.tuple(tie('element'), optional(xmlTextArb(8).filter((s) => s.trim() !== ''))),
            { minLength: 1, maxLength: 3 },
          ),
        })
        .map(({ children, ...rest }) =>
          compact<XmlElement>({
            ...rest,
            children: children.flatMap(([el, text]): XmlContent[] =>
              text === undefined ? [el] : [el, text],
            ),
          }),
        ),
    ),
  }));
  return element.map((root) =>
    canonicalNamespaces(tnds ? { ...root, name: 'MgmtTree', namespace: DMDDF_NAMESPACE } : root, ''),
  );
}

/** Drops `namespace` where it equals the inherited one (the decoder sets it only where it changes). */
function canonicalNamespaces(el: XmlElement, inherited: string): XmlElement {
  const effective = el.namespace ?? inherited;
  const children = el.children.map((c) => (typeof c === 'string' ? c : canonicalNamespaces(c, effective)));
  const { namespace: _drop, ...rest } = el;
  return effective === inherited ? { ...rest, children } : { ...rest, namespace: effective, children };
}

/** Bytes that are not valid UTF-8 (a 0xFF byte never occurs in UTF-8). */
const binaryBytesArb = fc
  .tuple(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 }))
  .map(([a, b]) => Uint8Array.from([...a, 0xff, ...b]));

export function dataArb(options: MessageArbitraryOptions = {}): fc.Arbitrary<Data> {
  const choices: fc.Arbitrary<Data>[] = [xmlTextArb(40).map((text): Data => ({ kind: 'text', text }))];
  if (options.embeddedXml !== false) {
    choices.push(xmlElementArb(options.tndsOnly === true).map((element): Data => ({ kind: 'xml', element })));
  }
  if (options.binary === true) choices.push(binaryBytesArb.map((bytes): Data => ({ kind: 'binary', bytes })));
  return fc.oneof(...choices);
}

export function itemArb(options: MessageArbitraryOptions = {}): fc.Arbitrary<Item> {
  return fc
    .record({
      target: optional(locRefArb),
      source: optional(locRefArb),
      meta: optional(metInfArb),
      data: optional(dataArb(options)),
      moreData: optional(fc.constant(true)),
    })
    .map((i) => compact<Item>(i))
    .map((item) =>
      // WBXML carries an embedded document only under a TNDS Type (wbxml.md §8), as libwbxml does.
      options.tndsOnly === true && item.data?.kind === 'xml'
        ? { ...item, meta: { ...item.meta, type: TNDS_XML_TYPE } }
        : item,
    );
}

const flagArb = optional(fc.constant(true as const));

export function commandArb(options: MessageArbitraryOptions = {}): fc.Arbitrary<Command> {
  const items = fc.array(itemArb(options), { maxLength: 3 });
  const itemCommand = fc
    .record({
      kind: fc.constantFrom('Add', 'Copy', 'Delete', 'Get', 'Replace', 'Exec'),
      cmdId: idArb,
      noResp: flagArb,
      cred: optional(credArb),
      meta: optional(metInfArb),
      correlator: optional(trimmedTextArb(8)),
      items,
    })
    .map(({ correlator, ...c }) =>
      c.kind === 'Exec'
        ? compact<Exec>({ ...c, kind: 'Exec', correlator })
        : compact<Exclude<AtomicChild, Exec | Alert | Atomic | Sequence>>({ ...c, kind: c.kind }),
    );
  const alert: fc.Arbitrary<Alert> = fc
    .record({
      kind: fc.constant('Alert' as const),
      cmdId: idArb,
      noResp: flagArb,
      cred: optional(credArb),
      code: optional(fc.constantFrom(1100, 1101, 1200, 1201, 1222, 1223, 1226)),
      correlator: optional(trimmedTextArb(8)),
      items,
    })
    .map((a) => compact<Alert>(a));
  const { child } = fc.letrec<{ child: AtomicChild }>((tie) => ({
    child: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      itemCommand,
      alert,
      fc
        .record({
          kind: fc.constantFrom('Atomic' as const, 'Sequence' as const),
          cmdId: idArb,
          noResp: flagArb,
          meta: optional(metInfArb),
          commands: fc.array(tie('child'), { maxLength: 3 }),
        })
        .map((c) => compact(c) as AtomicChild),
    ),
  }));
  const status: fc.Arbitrary<Status> = fc
    .record({
      kind: fc.constant('Status' as const),
      cmdId: idArb,
      msgRef: optional(natArb),
      cmdRef: natArb,
      cmd: fc.constantFrom('SyncHdr', 'Alert', 'Add', 'Replace', 'Get', 'Exec', 'Atomic', 'Sequence'),
      targetRefs: fc.array(uriArb, { maxLength: 2 }),
      sourceRefs: fc.array(uriArb, { maxLength: 2 }),
      cred: optional(credArb),
      chal: optional(chalArb),
      code: fc.constantFrom(200, 212, 213, 401, 404, 407, 500),
      items,
    })
    .map((s) => compact<Status>(s));
  const results: fc.Arbitrary<Results> = fc
    .record({
      kind: fc.constant('Results' as const),
      cmdId: idArb,
      msgRef: optional(natArb),
      cmdRef: natArb,
      meta: optional(metInfArb),
      targetRef: optional(uriArb),
      sourceRef: optional(uriArb),
      items,
    })
    .map((r) => compact<Results>(r));
  return fc.oneof(child, status, results);
}

export const syncHdrArb: fc.Arbitrary<SyncHdr> = fc
  .record({
    verDtd: fc.constant('1.2'),
    verProto: fc.constantFrom('DM/1.2', 'DM/1.1'),
    sessionId: fc.oneof(fc.constantFrom('1', 'AB', '1234'), trimmedTextArb(8)),
    msgId: idArb,
    target: locRefArb,
    source: locRefArb,
    respUri: optional(uriArb),
    noResp: flagArb,
    cred: optional(credArb),
    meta: optional(metInfArb),
  })
  .map((h) => compact<SyncHdr>(h));

export function messageArb(options: MessageArbitraryOptions = {}): fc.Arbitrary<SyncMLMessage> {
  return fc
    .record({
      header: syncHdrArb,
      body: fc.array(commandArb(options), { maxLength: 5 }),
      final: fc.boolean(),
    })
    .map((m): Mutable<SyncMLMessage> => m);
}
