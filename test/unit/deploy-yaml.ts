// A small YAML reader for what `kustomize build` prints, so the k8s tests can assert on parsed manifests
// without a YAML dependency. kustomize (kyaml) always emits the same narrow dialect: block mappings and
// sequences with two-space indentation, sequences at their key's indentation ("- " compact style), plain,
// single- or double-quoted scalars, literal block scalars (|, |-, |+), and {} / [] for empty collections.
// Anything outside that dialect (anchors, tags, non-empty flow collections, folded scalars) throws, so a
// kustomize upgrade that changes its output fails the test loudly instead of being misread.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string; // without indentation
  no: number; // 1-based, for error messages
}

/** Parses a multi-document stream (documents separated by `---`). Empty documents are dropped. */
export function parseYamlDocuments(source: string): YamlValue[] {
  const docs: string[][] = [[]];
  for (const raw of source.split('\n')) {
    if (/^---\s*$/.test(raw)) docs.push([]);
    else docs[docs.length - 1]!.push(raw);
  }
  let offset = 0;
  const out: YamlValue[] = [];
  for (const doc of docs) {
    const lines = toLines(doc, offset);
    offset += doc.length + 1;
    if (lines.length === 0) continue;
    const reader = new Reader(lines);
    out.push(reader.block(lines[0]!.indent));
    if (!reader.done()) reader.fail('unexpected content after the document');
  }
  return out;
}

function toLines(raw: string[], offset: number): Line[] {
  const lines: Line[] = [];
  raw.forEach((r, i) => {
    const text = r.trimStart();
    // Blank and comment lines stay in the list: the reader skips them between nodes but keeps them
    // inside literal block scalars, where they are data.
    lines.push({ indent: r.length - text.length, text: text.trimEnd(), no: offset + i + 1 });
  });
  return lines;
}

class Reader {
  private i = 0;
  constructor(private readonly lines: Line[]) {
    this.skipBlank();
  }

  done(): boolean {
    this.skipBlank();
    return this.i >= this.lines.length;
  }

  fail(why: string, line: Line | undefined = this.lines[this.i]): never {
    throw new Error(`YAML line ${line?.no ?? 'EOF'}: ${why}${line ? `: ${JSON.stringify(line.text)}` : ''}`);
  }

  private skipBlank(): void {
    while (this.i < this.lines.length && (this.lines[this.i]!.text === '' || this.lines[this.i]!.text.startsWith('#'))) this.i++;
  }

  private peek(): Line | undefined {
    this.skipBlank();
    return this.lines[this.i];
  }

  /** A block node whose lines start at exactly `indent`. */
  block(indent: number): YamlValue {
    const first = this.peek();
    if (!first || first.indent !== indent) this.fail(`expected a block at indentation ${indent}`, first);
    return first.text === '-' || first.text.startsWith('- ') ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.peek(); line && line.indent === indent && (line.text === '-' || line.text.startsWith('- ')); line = this.peek()) {
      const rest = line.text === '-' ? '' : line.text.slice(2);
      if (rest === '') {
        this.i++;
        items.push(this.nested(indent));
      } else if (rest.startsWith('- ')) {
        this.fail('nested "- - " sequences are not supported', line);
      } else if (isMappingEntry(rest)) {
        // "- key: value" opens a mapping whose further keys sit at indent + 2: re-read this line as one.
        this.lines[this.i] = { indent: indent + 2, text: rest, no: line.no };
        items.push(this.mapping(indent + 2));
      } else {
        this.i++;
        items.push(this.scalarOrBlockScalar(rest, indent, line));
      }
    }
    return items;
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {};
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      if (line.text.startsWith('- ')) break; // a sequence at the parent key's indentation ends here
      const entry = splitEntry(line.text) ?? this.fail('expected "key: value"', line);
      if (Object.hasOwn(map, entry.key)) this.fail(`duplicate key ${entry.key}`, line);
      this.i++;
      if (entry.value === '') {
        // The value is the following block: deeper, or a sequence at this same indentation.
        const next = this.peek();
        if (next && next.indent === indent && (next.text === '-' || next.text.startsWith('- '))) map[entry.key] = this.sequence(indent);
        else map[entry.key] = this.nested(indent);
      } else {
        map[entry.key] = this.scalarOrBlockScalar(entry.value, indent, line);
      }
    }
    const stray = this.peek();
    if (stray && stray.indent > indent) this.fail('unexpected indentation', stray);
    return map;
  }

  /** The block after a "key:" or "-" line: more indented than `parent`, or null when there is none. */
  private nested(parent: number): YamlValue {
    const next = this.peek();
    if (!next || next.indent <= parent) return null;
    return this.block(next.indent);
  }

  private scalarOrBlockScalar(text: string, indent: number, line: Line): YamlValue {
    const header = /^\|([+-]?)$/.exec(text);
    if (!header) {
      if (text.startsWith('>')) this.fail('folded block scalars are not supported', line);
      return parseScalar(text, line, (w) => this.fail(w, line));
    }
    // Literal block: every following line indented deeper than the key (or blank) belongs to it.
    const body: string[] = [];
    let bodyIndent = -1;
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.text !== '' && l.indent <= indent) break;
      if (l.text !== '' && bodyIndent < 0) bodyIndent = l.indent;
      body.push(l.text === '' ? '' : ' '.repeat(l.indent - Math.max(bodyIndent, 0)) + l.text);
      this.i++;
    }
    let value = body.join('\n');
    const chomp = header[1];
    if (chomp === '-') value = value.replace(/\n+$/, '');
    else if (chomp === '+') value = value + '\n';
    else value = value.replace(/\n+$/, '') + '\n';
    return value;
  }
}

function isMappingEntry(text: string): boolean {
  return splitEntry(text) !== undefined;
}

/** "key: value" or "key:" with a plain or quoted key. */
function splitEntry(text: string): { key: string; value: string } | undefined {
  let key: string;
  let rest: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = findClosingQuote(text);
    if (end < 0 || text[end + 1] !== ':') return undefined;
    key = String(parseQuoted(text.slice(0, end + 1)));
    rest = text.slice(end + 2);
  } else {
    if (text === '-' || text.startsWith('- ')) return undefined;
    // A plain key ends at the first ": " (or ":" at the end); "-addr=localhost:50053" has no such colon.
    const m = /^([^\s'"#{}[\]&*!|>%@`][^#]*?):(?: |$)/.exec(text);
    if (!m) return undefined;
    key = m[1]!;
    rest = text.slice(key.length + 1);
  }
  if (rest !== '' && !rest.startsWith(' ')) return undefined;
  return { key, value: stripComment(rest.trim()) };
}

function findClosingQuote(text: string): number {
  const q = text[0];
  for (let i = 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') i++;
    else if (text[i] === q) {
      if (q === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

function stripComment(value: string): string {
  if (value.startsWith('"') || value.startsWith("'")) return value;
  const at = value.search(/\s#/);
  return at < 0 ? value : value.slice(0, at).trimEnd();
}

function parseQuoted(text: string): string {
  if (text.startsWith('"')) return JSON.parse(text.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')) as string;
  return text.slice(1, -1).replace(/''/g, "'");
}

function parseScalar(text: string, _line: Line, fail: (why: string) => never): YamlValue {
  const t = stripComment(text);
  if (t.startsWith('"') || t.startsWith("'")) {
    if (findClosingQuote(t) !== t.length - 1) fail('text after a quoted scalar');
    return parseQuoted(t);
  }
  if (t === '{}') return {};
  if (t === '[]') return [];
  if (/^[{[&*!]/.test(t)) fail('flow collections, anchors, aliases and tags are not supported');
  // YAML 1.2 core schema, as kyaml resolves plain scalars.
  if (/^(null|Null|NULL|~)$/.test(t) || t === '') return null;
  if (/^(true|True|TRUE)$/.test(t)) return true;
  if (/^(false|False|FALSE)$/.test(t)) return false;
  if (/^[-+]?[0-9]+$/.test(t)) return Number(t);
  if (/^0o[0-7]+$/.test(t)) return parseInt(t.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(t)) return Number(t);
  return t;
}
