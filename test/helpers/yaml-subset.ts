// The YAML the example manifests use, and no more, so the tests can read them
// without a YAML library: documents split by `---`, `#` comments, block maps
// (`key: value`, `key:` then an indented block), block lists (`- item`, `- key: value`
// opening a map), and scalars: plain, "double" or 'single' quoted, numbers,
// true/false/null. Anything else (flow collections, anchors, multi-line scalars)
// is refused, so a manifest cannot silently mean something else.
type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

interface Line {
  indent: number;
  text: string;
  number: number;
}

function scalar(raw: string, line: Line): Value {
  const text = raw.trim();
  if (/^".*"$/.test(text)) return JSON.parse(text) as string;
  if (/^'.*'$/.test(text)) return text.slice(1, -1).replace(/''/g, "'");
  if (/^[[{&*!|>]/.test(text)) throw new Error(`line ${line.number}: '${text}' is beyond the YAML this reader takes`);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~' || text === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

const withoutComment = (text: string) => {
  // A # starts a comment at the line's start or after a space, outside quotes.
  let quote: string | undefined;
  for (let at = 0; at < text.length; at += 1) {
    const char = text[at];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '#' && (at === 0 || text[at - 1] === ' ')) return text.slice(0, at);
  }
  return text;
};

/** `key: rest` (rest may be empty), or undefined if the text is not a map entry. */
function entry(text: string): [string, string] | undefined {
  const match = /^([A-Za-z0-9_./-]+|"[^"]*"):(?:\s+(.*))?$/.exec(text);
  return match ? [match[1].replace(/^"|"$/g, ''), match[2] ?? ''] : undefined;
}

function parseBlock(lines: Line[], start: number, indent: number): [Value, number] {
  const first = lines[start];
  if (first.text.startsWith('- ') || first.text === '-') {
    const list: Value[] = [];
    let at = start;
    while (at < lines.length && lines[at].indent === indent && (lines[at].text.startsWith('- ') || lines[at].text === '-')) {
      const rest = lines[at].text.slice(2);
      if (rest.trim() === '') {
        const [value, next] = parseBlock(lines, at + 1, lines[at + 1].indent);
        list.push(value);
        at = next;
      } else if (entry(rest)) {
        // `- key: value` opens a map whose further keys are indented to where `key` begins.
        const inner = [{ ...lines[at], indent: indent + 2, text: rest }, ...lines.slice(at + 1)];
        const [value, next] = parseBlock(inner, 0, indent + 2);
        list.push(value);
        at = at + next;
      } else {
        list.push(scalar(rest, lines[at]));
        at += 1;
      }
    }
    return [list, at];
  }
  const map: { [key: string]: Value } = {};
  let at = start;
  while (at < lines.length && lines[at].indent === indent) {
    const parsed = entry(lines[at].text);
    if (!parsed) throw new Error(`line ${lines[at].number}: expected 'key: value', found '${lines[at].text}'`);
    const [key, rest] = parsed;
    if (Object.hasOwn(map, key)) throw new Error(`line ${lines[at].number}: '${key}' given twice`);
    if (rest.trim() !== '') {
      map[key] = scalar(rest, lines[at]);
      at += 1;
    } else if (at + 1 < lines.length && (lines[at + 1].indent > indent || (lines[at + 1].indent === indent && lines[at + 1].text.startsWith('- ')))) {
      const [value, next] = parseBlock(lines, at + 1, lines[at + 1].indent);
      map[key] = value;
      at = next;
    } else {
      map[key] = null;
      at += 1;
    }
  }
  if (at < lines.length && lines[at].indent > indent) throw new Error(`line ${lines[at].number}: unexpected indentation`);
  return [map, at];
}

/** Every document of a YAML stream, as plain values. */
export function parseYamlDocuments(source: string): Value[] {
  return source
    .split(/^---\s*$/m)
    .map((document, index, all) => {
      const offset = all.slice(0, index).reduce((sum, previous) => sum + previous.split('\n').length, 0);
      const lines: Line[] = document
        .split('\n')
        .map((raw, at) => ({ raw: withoutComment(raw).replace(/\s+$/, ''), number: offset + at + 1 }))
        .filter(({ raw }) => raw.trim() !== '')
        .map(({ raw, number }) => {
          if (/^\s*\t/.test(raw)) throw new Error(`line ${number}: tabs do not indent YAML`);
          return { indent: raw.length - raw.trimStart().length, text: raw.trim(), number };
        });
      if (lines.length === 0) return undefined;
      const [value, end] = parseBlock(lines, 0, lines[0].indent);
      if (end !== lines.length) throw new Error(`line ${lines[end].number}: not part of the document's structure`);
      return value;
    })
    .filter((document): document is Value => document !== undefined);
}
