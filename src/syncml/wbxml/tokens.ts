/** WBXML global tokens (wbxml.md §2): the same on every code page. */
export const Token = {
  SWITCH_PAGE: 0x00,
  END: 0x01,
  ENTITY: 0x02,
  STR_I: 0x03,
  LITERAL: 0x04,
  EXT_I_0: 0x40,
  EXT_I_1: 0x41,
  EXT_I_2: 0x42,
  PI: 0x43,
  LITERAL_C: 0x44,
  EXT_T_0: 0x80,
  EXT_T_1: 0x81,
  EXT_T_2: 0x82,
  STR_T: 0x83,
  LITERAL_A: 0x84,
  EXT_0: 0xc0,
  EXT_1: 0xc1,
  EXT_2: 0xc2,
  OPAQUE: 0xc3,
  LITERAL_AC: 0xc4,
} as const;

/** Tag byte = identity | HAS_CONTENT | HAS_ATTRIBUTES (wbxml.md §2). */
export const TAG_IDENTITY = 0x3f;
export const HAS_CONTENT = 0x40;
export const HAS_ATTRIBUTES = 0x80;
/** Identities 0x00–0x04 are global tokens, so the first tag identity is 0x05. */
export const FIRST_TAG_IDENTITY = 0x05;

/** WBXML version byte: high nibble major - 1, low nibble minor (1.0 = 0x00 … 1.3 = 0x03). */
export const WbxmlVersion = { V1_0: 0x00, V1_1: 0x01, V1_2: 0x02, V1_3: 0x03 } as const;

/** IANA MIBenum charsets a DM peer may declare (wbxml.md §1). */
export const Charset = { UNKNOWN: 0, US_ASCII: 3, UTF_8: 106 } as const;
