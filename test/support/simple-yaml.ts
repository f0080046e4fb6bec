/**
 * A reader for the YAML our compose file is written in, enough to check it in a test without a YAML
 * dependency: block maps and sequences by indentation, plain and quoted scalars, `#` comments and
 * JSON-style flow sequences, and compose's `!override` tag on a key whose block follows (read as that
 * block: it replaces what `extends` would merge). Anything else (anchors, other tags, block scalars,
 * flow maps) throws, so that the test fails loudly instead of reading the file wrong.
 */
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue } | null;

interface Line {
  indent: number;
  text: string;
  number: number;
}

export function parseSimpleYaml(source: string): YamlValue {
  const lines: Line[] = source
    .split('\n')
    .map((raw, index) => ({ indent: raw.length - raw.trimStart().length, text: stripComment(raw).trim(), number: index + 1 }))
    .filter((line) => line.text !== '');
  let position = 0;

  function block(indent: number): YamlValue {
    const first = lines[position];
    if (!first || first.indent < indent) return null;
    return first.text.startsWith('- ') || first.text === '-' ? sequence(first.indent) : map(first.indent);
  }

  function sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    while (position < lines.length && lines[position].indent === indent && lines[position].text.startsWith('- ')) {
      const line = lines[position++];
      const item = line.text.slice(2).trim();
      if (/^[^"'[][^:]*:(\s|$)/.test(item)) throw new Error(`line ${line.number}: maps inside sequences are not supported`);
      items.push(scalar(item, line.number));
    }
    return items;
  }

  function map(indent: number): { [key: string]: YamlValue } {
    const result: { [key: string]: YamlValue } = {};
    while (position < lines.length && lines[position].indent === indent) {
      const line = lines[position++];
      const match = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.text);
      if (!match) throw new Error(`line ${line.number}: expected "key: value", got "${line.text}"`);
      const [, key, written] = match;
      const rest = written === '!override' ? undefined : written;
      if (key in result) throw new Error(`line ${line.number}: duplicate key ${key}`);
      result[key] = rest === undefined ? (position < lines.length && lines[position].indent > indent ? block(lines[position].indent) : null) : scalar(rest, line.number);
    }
    if (position < lines.length && lines[position].indent > indent) throw new Error(`line ${lines[position].number}: unexpected indentation`);
    return result;
  }

  const value = block(0);
  if (position < lines.length) throw new Error(`line ${lines[position].number}: not read`);
  return value;
}

function scalar(text: string, number: number): YamlValue {
  if (/^[&*!|>{]/.test(text)) throw new Error(`line ${number}: "${text}" is YAML this reader does not support`);
  if (text.startsWith('[')) return JSON.parse(text) as YamlValue[];
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) {
    if (!text.endsWith("'")) throw new Error(`line ${number}: unterminated quote`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  return text;
}

/** A `#` that starts a comment: at the start, or after a space, outside quotes. */
function stripComment(raw: string): string {
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]))) {
      return raw.slice(0, i);
    }
  }
  return raw;
}
