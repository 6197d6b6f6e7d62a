/**
 * Entity references: the five predefined entities and numeric character references, nothing else.
 * No DTD is ever read, so no other entity can exist and nothing is ever expanded (no billion laughs).
 */

const PREDEFINED: ReadonlyMap<string, string> = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['apos', "'"],
  ['quot', '"'],
]);

/** Why a reference was refused, and the offset of its `&` inside the decoded segment. */
export interface EntityProblem {
  readonly code: 'xml-entity' | 'xml-malformed' | 'xml-illegal-char';
  readonly message: string;
  readonly offset: number;
}

/** XML 1.0 §2.2 Char production. */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** A predefined entity reference: the character it stands for and its own length, `&` to `;`. */
interface Predefined {
  readonly char: string;
  readonly length: number;
}

const LT: Predefined = { char: '<', length: 4 };
const GT: Predefined = { char: '>', length: 4 };
const AMP: Predefined = { char: '&', length: 5 };
const APOS: Predefined = { char: "'", length: 6 };
const QUOT: Predefined = { char: '"', length: 6 };

/**
 * The predefined entity reference at `amp` (`&lt;` `&gt;` `&amp;` `&apos;` `&quot;`, what serializers write), or
 * undefined for any other reference. Read from char codes: no name is sliced or hashed.
 */
function predefinedAt(s: string, amp: number): Predefined | undefined {
  const c1 = s.charCodeAt(amp + 1);
  const c2 = s.charCodeAt(amp + 2);
  const c3 = s.charCodeAt(amp + 3);
  if (c2 === 0x74 /* t */ && c3 === 0x3b /* ; */)
    return c1 === 0x6c /* l */ ? LT : c1 === 0x67 /* g */ ? GT : undefined;
  const c4 = s.charCodeAt(amp + 4);
  if (c1 === 0x61 /* a */) {
    if (c2 === 0x6d /* m */ && c3 === 0x70 /* p */ && c4 === 0x3b) return AMP;
    if (c2 === 0x70 /* p */ && c3 === 0x6f /* o */ && c4 === 0x73 /* s */ && s.charCodeAt(amp + 5) === 0x3b)
      return APOS;
  } else if (c1 === 0x71 /* q */ && c2 === 0x75 /* u */ && c3 === 0x6f /* o */ && c4 === 0x74 /* t */) {
    if (s.charCodeAt(amp + 5) === 0x3b) return QUOT;
  }
  return undefined;
}

/** Replaces references in `s` (which contains at least one `&`). Returns a string or the problem found. */
export function decodeEntities(s: string): string | EntityProblem {
  let out = '';
  let from = 0;
  for (let amp = s.indexOf('&'); amp !== -1; amp = s.indexOf('&', from)) {
    const predefined = predefinedAt(s, amp);
    if (predefined !== undefined) {
      out += s.slice(from, amp) + predefined.char;
      from = amp + predefined.length;
      continue;
    }
    const semi = s.indexOf(';', amp + 1);
    if (semi === -1 || semi - amp > 12) {
      return { code: 'xml-malformed', message: 'bare "&" (write &amp;)', offset: amp };
    }
    const name = s.slice(amp + 1, semi);
    let value: string | undefined;
    if (name.charCodeAt(0) === 0x23 /* # */) {
      const hex = name.charCodeAt(1) === 0x78; /* x */
      const digits = name.slice(hex ? 2 : 1);
      const valid = digits.length > 0 && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits);
      const cp = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
      if (!valid)
        return { code: 'xml-malformed', message: `malformed character reference &${name};`, offset: amp };
      if (!isXmlChar(cp)) {
        return {
          code: 'xml-illegal-char',
          message: `&${name}; is not a character allowed in XML 1.0`,
          offset: amp,
        };
      }
      value = String.fromCodePoint(cp);
    } else {
      value = PREDEFINED.get(name);
      if (value === undefined) {
        return {
          code: 'xml-entity',
          message: `undefined entity &${name}; (only the predefined entities and character references are accepted)`,
          offset: amp,
        };
      }
    }
    out += s.slice(from, amp) + value;
    from = semi + 1;
  }
  return out + s.slice(from);
}
