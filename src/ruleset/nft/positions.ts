// JSON.parse forgets where things were. nft -j writes one line, but people pretty-print it; problems still
// need a line and column. One pass over the text finds where each element of the top-level "nftables"
// array starts (strings and nesting honoured), so each table, chain, set and rule can be located.

export interface TextPos {
  line: number;
  column: number;
}

/** Start offsets (line/column, 1-based) of the elements of the first array at nesting depth 2. */
export function elementPositions(text: string): TextPos[] {
  const out: TextPos[] = [];
  let depth = 0;
  let inString = false;
  let line = 1;
  let lineStart = 0;
  let inArray = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
      continue;
    }
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c === 123 || c === 91) {
      // { or [
      if (depth === 1 && c === 91 && !inArray && out.length === 0) inArray = true;
      else if (inArray && depth === 2) out.push({ line, column: i - lineStart + 1 });
      depth++;
    } else if (c === 125 || c === 93) {
      depth--;
      if (inArray && depth === 1) return out;
    }
  }
  return out;
}

/** Line and column of a character offset (for JSON syntax errors). */
export function offsetPos(text: string, offset: number): TextPos {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Where JSON text first stops being JSON (V8's messages do not always say). A small recursive-descent
 * scanner that checks syntax only; returns the offset of the first bad character, or -1.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const str = (): void => {
    i++; // opening quote
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= n) fail();
    i++;
  };
  const numb = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 10_000) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else numb();
  };
  try {
    value(0);
    ws();
    return i < n ? i : -1;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, n) : 0;
  }
}
