/**
 * Element → compact, deterministic XML text: no pretty-printing, default-namespace declarations only where the
 * namespace changes (so MetInf children each carry `xmlns="syncml:metinf"` and embedded documents their own),
 * `& < >` escaped in text and `& < "` in attributes. What XML 1.0 cannot carry is refused with an EncodeError.
 */
import { EncodeError } from '../../errors.js';
import type { Element, Node } from '../element.js';
import { isElement } from '../element.js';

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** Text needing escapes: markup characters, CR (would be normalized away), and non-characters. */
// eslint-disable-next-line no-control-regex -- matching the characters XML 1.0 forbids is the point
const TEXT_SPECIAL = /[&<>\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex -- matching the characters XML 1.0 forbids is the point
const ATTR_SPECIAL = /[&<>"\t\n\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex -- matching the characters XML 1.0 forbids is the point
const ILLEGAL = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const TEXT_ESCAPES = /[&<>\r]/g;
const ATTR_ESCAPES = /[&<>"\t\n\r]/g;
const ESCAPE: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
const NAME = /^[A-Za-z_\u00C0-\uFFFD][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFD]*$/;

export interface SerializeOptions {
  /** Prepend `<?xml version="1.0" encoding="UTF-8"?>` (default false). */
  readonly declaration?: boolean;
}

/** Serializes an Element tree. Namespace URIs are emitted as default-namespace declarations, never prefixes. */
export function serializeXml(root: Element, options: SerializeOptions = {}): string {
  return (options.declaration === true ? XML_DECLARATION : '') + serializeXmlIn(root, '');
}

/** Serializes `element` as the child of an element whose namespace is `inScopeNs` (no declaration). */
export function serializeXmlIn(element: Element, inScopeNs: string): string {
  const out = new Writer();
  out.element(element, inScopeNs);
  return out.text;
}

type WellFormedString = string & { isWellFormed?: () => boolean };

function checkCharacters(s: string, where: string): void {
  const lone = (s as WellFormedString).isWellFormed?.() === false;
  const bad = ILLEGAL.exec(s);
  if (bad === null && !lone) return;
  const what =
    bad === null
      ? 'an unpaired surrogate'
      : `character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  throw new EncodeError(
    'xml-unrepresentable',
    `${where} holds ${what}, which XML 1.0 cannot carry: send the value as b64 (Meta Format b64) or over WBXML`,
  );
}

export function escapeText(s: string, where: string): string {
  if (!TEXT_SPECIAL.test(s)) {
    // Only unpaired surrogates can still be wrong here; the regex covers every other illegal character.
    if ((s as WellFormedString).isWellFormed?.() === false) checkCharacters(s, where);
    return s;
  }
  checkCharacters(s, where);
  return s.replace(TEXT_ESCAPES, (c) => ESCAPE[c]!);
}

function escapeAttribute(s: string, where: string): string {
  checkCharacters(s, where);
  return ATTR_SPECIAL.test(s) ? s.replace(ATTR_ESCAPES, (c) => ESCAPE[c]!) : s;
}

const validNames = new Set<string>();

function checkName(name: string, what: string): void {
  if (validNames.has(name)) return;
  if (!NAME.test(name))
    throw new EncodeError('xml-invalid-name', `${JSON.stringify(name)} is not a valid XML ${what} name`);
  if (validNames.size < 4096) validNames.add(name);
}

class Writer {
  text = '';

  element(el: Element, inScopeNs: string): void {
    const name = el.name;
    checkName(name, 'element');
    let s = '<' + name;
    if (el.ns !== inScopeNs) s += ' xmlns="' + escapeAttribute(el.ns, `<${name}> namespace`) + '"';
    const attributes = el.attributes;
    if (attributes !== undefined) {
      for (const key of Object.keys(attributes)) {
        if (key === 'xmlns' || key.startsWith('xmlns:')) {
          throw new EncodeError(
            'xml-invalid-name',
            `<${name}> attribute ${key}: namespaces come from Element.ns`,
          );
        }
        const colon = key.indexOf(':');
        checkName(colon === -1 ? key : key.slice(colon + 1), 'attribute');
        s += ' ' + key + '="' + escapeAttribute(attributes[key]!, `<${name}> attribute ${key}`) + '"';
      }
    }
    const children = el.children;
    if (children.length === 0) {
      this.text += s + '/>';
      return;
    }
    this.text += s + '>';
    for (const child of children) this.node(child, el);
    this.text += '</' + name + '>';
  }

  private node(node: Node, parent: Element): void {
    if (typeof node === 'string') this.text += escapeText(node, `<${parent.name}>`);
    else if (isElement(node)) this.element(node, parent.ns);
    else {
      throw new EncodeError(
        'xml-binary-data',
        `<${parent.name}> holds binary data, which XML cannot carry: send it as b64 text (Meta Format b64) or over WBXML`,
      );
    }
  }
}
