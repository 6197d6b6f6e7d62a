/**
 * What surrounds the root element: the XML declaration (UTF-8 only), an external-only DOCTYPE (skipped, never
 * fetched), comments and processing instructions. Any internal DTD subset is refused: no entity is ever declared.
 */
import { isSpace } from './chars.js';
import type { Cursor } from './cursor.js';

/** XMLDecl? Misc* (doctypedecl Misc*)? — the declaration only at the very start; leaves pos at the root's `<`. */
export function prolog(cursor: Cursor, src: string): void {
  // XML 1.0 wants the declaration at offset 0; whitespace before it (a server's stray newline) is tolerated.
  cursor.skipSpace();
  if (src.startsWith('<?xml', cursor.pos) && isSpace(src.charCodeAt(cursor.pos + 5)))
    xmlDeclaration(cursor, src);
  let doctypeSeen = false;
  for (;;) {
    cursor.skipSpace();
    if (cursor.pos >= src.length) cursor.fail('xml-malformed', 'no root element');
    if (src.charCodeAt(cursor.pos) !== 0x3c) cursor.fail('xml-malformed', 'text before the root element');
    if (!doctypeSeen && src.startsWith('<!DOCTYPE', cursor.pos)) {
      externalDoctype(cursor, src);
      doctypeSeen = true;
      continue;
    }
    if (!cursor.misc()) return;
  }
}

/** After the root: only whitespace, comments and processing instructions. */
export function epilog(cursor: Cursor, src: string): void {
  for (;;) {
    cursor.skipSpace();
    if (cursor.pos >= src.length) return;
    if (src.charCodeAt(cursor.pos) !== 0x3c || !cursor.misc()) {
      cursor.fail('xml-malformed', 'content after the root element');
    }
  }
}

/** The declaration encodeXml writes and most peers send, accepted at once: the general path below agrees. */
const USUAL_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

function xmlDeclaration(cursor: Cursor, src: string): void {
  if (src.startsWith(USUAL_DECLARATION, cursor.pos)) {
    cursor.pos += USUAL_DECLARATION.length;
    return;
  }
  const start = cursor.pos;
  const end = src.indexOf('?>', start + 5);
  if (end === -1) cursor.fail('xml-malformed', 'unterminated XML declaration');
  cursor.noNul(start, end);
  const decl = src.slice(start + 5, end);
  if (!/^\s+version\s*=\s*(["'])1\.[0-9]+\1/.test(decl))
    cursor.fail('xml-malformed', 'XML declaration without version');
  const enc = /\sencoding\s*=\s*(["'])([^"']*)\1/.exec(decl);
  const name = enc?.[2]?.toLowerCase();
  if (name !== undefined && name !== 'utf-8' && name !== 'utf8' && name !== 'us-ascii' && name !== 'ascii') {
    cursor.fail(
      'xml-encoding',
      `encoding "${enc?.[2] ?? ''}" is not supported: SyncML DM XML must be UTF-8`,
      start,
    );
  }
  cursor.pos = end + 2;
}

/**
 * Real devices (and libwbxml's wbxml2xml) name the SyncML DTD: `<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML
 * 1.2//EN" "http://…">`. Such a DOCTYPE declares nothing, and it is skipped: the DTD is never fetched or read.
 * Anything with an internal subset (`[…]`, where entities would live) is refused.
 */
function externalDoctype(cursor: Cursor, src: string): void {
  const start = cursor.pos;
  let at = start + '<!DOCTYPE'.length;
  while (at < src.length) {
    const c = src.charCodeAt(at);
    if (c === 0x3e /* > */) {
      cursor.noNul(start, at);
      cursor.pos = at + 1;
      return;
    }
    if (c === 0x5b /* [ */)
      cursor.fail('xml-doctype', 'a DOCTYPE with an internal subset is not allowed', start);
    if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
      const close = src.indexOf(String.fromCharCode(c), at + 1);
      if (close === -1) break;
      at = close + 1;
      continue;
    }
    at++;
  }
  cursor.fail('xml-malformed', 'unterminated DOCTYPE', start);
}
