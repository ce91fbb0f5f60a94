// Text from a control socket is the server's word, not ours: a terminal acts on
// escape sequences (retitle, clear, move the cursor, on some even answer back),
// so nothing `corral ctl` prints from a reply reaches it raw.

/** C0 controls (newline and tab included: a reply's text is one field), DEL, C1 controls, and the bidirectional overrides that reorder what is shown. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escape = (char: string) => {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `text` with every control character shown as an escape (\x1b), not acted on. */
export const printable = (text: string): string => text.replace(UNPRINTABLE, escape);

/** A copy of a decoded reply with every string (keys too) made printable, for the human-readable rendering. */
export function printableStrings(value: unknown): unknown {
  if (typeof value === 'string') return printable(value);
  if (Array.isArray(value)) return value.map(printableStrings);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [printable(key), printableStrings(inner)]));
  }
  return value;
}

const UNESCAPED_BY_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON whose data is intact and whose bytes are safe to print: JSON.stringify
 * escapes C0 but passes DEL, C1 and the bidi controls as they are; \uXXXX
 * escapes of them read back as the same string. (They can only be inside
 * strings: the rest of JSON is plain ASCII, its newlines included.)
 */
export const printableJson = (value: unknown, indent?: number): string =>
  JSON.stringify(value, null, indent).replace(UNESCAPED_BY_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
