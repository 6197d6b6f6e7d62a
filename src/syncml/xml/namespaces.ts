/** Namespace prefixes in scope while parsing, and one string instance per namespace URI. */
import { DMDDF_NAMESPACE, METINF_NAMESPACE, SYNCML_NAMESPACE } from '../model.js';

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/**
 * The model's namespace constant equal to `src[start, end)`, or undefined: SyncML messages declare
 * `xmlns="syncml:metinf"` on every MetInf element, and this answers without hashing the value (as a Map would).
 */
export function knownNamespace(src: string, start: number, end: number): string | undefined {
  const length = end - start;
  if (
    length !== METINF_NAMESPACE.length &&
    length !== SYNCML_NAMESPACE.length &&
    length !== DMDDF_NAMESPACE.length
  )
    return undefined;
  const value = src.slice(start, end);
  return value === METINF_NAMESPACE
    ? METINF_NAMESPACE
    : value === SYNCML_NAMESPACE
      ? SYNCML_NAMESPACE
      : value === DMDDF_NAMESPACE
        ? DMDDF_NAMESPACE
        : undefined;
}

/** Both maps are created on first use: most SyncML messages declare no prefix and only well-known URIs. */
export class Namespaces {
  /**
   * Prefix → stack of URIs in scope (innermost last): O(1) lookups however many declarations a hostile
   * document stacks up, where a scope chain would be walked for every prefixed name.
   */
  private bindings: Map<string, string[]> | undefined;
  /** URIs other than the well-known ones, each kept once (see intern). */
  private uris: Map<string, string> | undefined;

  /**
   * One string instance per namespace URI, the well-known ones being the model's constants: namespace checks
   * downstream then compare pointers instead of characters (a message repeats `syncml:metinf` on every MetInf).
   */
  intern(uri: string): string {
    if (uri === METINF_NAMESPACE) return METINF_NAMESPACE;
    if (uri === SYNCML_NAMESPACE) return SYNCML_NAMESPACE;
    if (uri === DMDDF_NAMESPACE) return DMDDF_NAMESPACE;
    if (uri === '') return '';
    if (uri === XML_NS) return XML_NS;
    this.uris ??= new Map();
    const known = this.uris.get(uri);
    if (known !== undefined) return known;
    this.uris.set(uri, uri);
    return uri;
  }

  declare(prefix: string, uri: string): void {
    this.bindings ??= new Map([['xml', [XML_NS]]]);
    const uris = this.bindings.get(prefix);
    if (uris === undefined) this.bindings.set(prefix, [this.intern(uri)]);
    else uris.push(this.intern(uri));
  }

  undeclare(prefixes: readonly string[]): void {
    for (const prefix of prefixes) this.bindings!.get(prefix)!.pop();
  }

  /** The URI `prefix` is bound to, or undefined. */
  lookup(prefix: string): string | undefined {
    if (this.bindings === undefined) return prefix === 'xml' ? XML_NS : undefined;
    const uris = this.bindings.get(prefix);
    return uris?.[uris.length - 1];
  }
}
