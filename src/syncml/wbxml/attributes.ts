/**
 * WBXML attribute lists and processing instructions (wbxml.md §1–§2). SyncML defines no attribute code pages, so
 * only attributes named in the string table (LITERAL) are kept; coded ones are skipped with their values.
 */
import type { WbxmlCursor } from './cursor.js';
import { hex } from './cursor.js';
import { Token } from './tokens.js';

const { SWITCH_PAGE, END, ENTITY, STR_I, STR_T, LITERAL, OPAQUE, PI, LITERAL_C, LITERAL_A, LITERAL_AC } =
  Token;
const { EXT_I_0, EXT_I_1, EXT_I_2, EXT_T_0, EXT_T_1, EXT_T_2, EXT_0, EXT_1, EXT_2 } = Token;

/**
 * An attribute list (after a tag with 0x80) or a PI (`discard`), read up to its END. `at` is the offset of the
 * tag or PI token. Namespace declarations are dropped: in WBXML the code page is the namespace.
 */
export function readAttributes(
  cursor: WbxmlCursor,
  at: number,
  discard: boolean,
): Record<string, string> | undefined {
  const bytes = cursor.bytes;
  let attrs: Record<string, string> | undefined;
  let name: string | undefined;
  let value = '';
  let open = false;
  const flush = (): void => {
    if (open && name !== undefined && !discard && name !== 'xmlns' && !name.startsWith('xmlns:')) {
      attrs ??= {};
      attrs[name] = value;
    }
  };
  while (true) {
    if (cursor.pos >= bytes.length)
      cursor.fail('wbxml-truncated', 'WBXML input ends inside an attribute list', at);
    const tokenAt = cursor.pos;
    const b = bytes[cursor.pos++]!;
    switch (b) {
      case SWITCH_PAGE:
        cursor.u8('attribute code page'); // attribute pages are separate from tag pages; none is defined here
        continue;
      case END:
        flush();
        return attrs;
      case LITERAL:
        flush();
        name = cursor.tableRef();
        value = '';
        open = true;
        continue;
      case STR_I:
      case STR_T:
      case ENTITY: {
        const text = b === STR_I ? cursor.inlineString() : b === STR_T ? cursor.tableRef() : cursor.entity();
        if (!open)
          cursor.fail('wbxml-unexpected-content', 'attribute value without an attribute name', tokenAt);
        value += text;
        continue;
      }
      case OPAQUE: {
        const n = cursor.mbInt();
        if (n > bytes.length - cursor.pos)
          cursor.fail('wbxml-truncated', 'OPAQUE attribute value runs past the end', tokenAt);
        cursor.pos += n;
        continue;
      }
      case EXT_I_0:
      case EXT_I_1:
      case EXT_I_2:
      case EXT_T_0:
      case EXT_T_1:
      case EXT_T_2:
      case EXT_0:
      case EXT_1:
      case EXT_2:
      case PI:
      case LITERAL_C:
      case LITERAL_A:
      case LITERAL_AC:
        cursor.fail('wbxml-unknown-token', `token 0x${hex(b)} is not allowed in an attribute list`, tokenAt);
    }
    if (b < 0x80) {
      // ATTRSTART from a table we do not have: skip the attribute and the values that follow it.
      flush();
      name = undefined;
      value = '';
      open = true;
    }
    // ATTRVALUE (≥ 0x80) from a table we do not have: skipped.
  }
}
