// Splits an iptables-save line into arguments the way iptables-restore does (xshared.c add_param_to_argv):
// blanks separate, double quotes group, and inside quotes a backslash makes the next character literal.
// Tokens live in reused parallel arrays (value, start, end) because a 100k-rule file has millions of them.

export class TokenLine {
  /** Argument values, quotes and escapes removed. */
  v: string[] = [];
  /** 0-based start offset of each token in the line (its raw text is line.slice(start, end)). */
  start: number[] = [];
  end: number[] = [];
  n = 0;
  /** 0-based offset of an unterminated quote, or -1. */
  openQuote = -1;
  line = '';

  raw(i: number): string {
    return this.line.slice(this.start[i], this.end[i]);
  }

  /** 1-based column of token i (or of the line end when i is past the last token). */
  col(i: number): number {
    return (i < this.n ? this.start[i] : this.line.length) + 1;
  }
}

function push(t: TokenLine, v: string, s: number, e: number): void {
  const i = t.n++;
  t.v[i] = v;
  t.start[i] = s;
  t.end[i] = e;
}

/** Tokenizes `line` into `t` (which is reset). `singleQuotes`: also group '...' as a shell would. */
export function tokenize(line: string, t: TokenLine, singleQuotes = false): void {
  t.n = 0;
  t.openQuote = -1;
  t.line = line;
  const len = line.length;
  // Fast path: no quotes and no tabs, the common case of generated rulesets.
  if (line.indexOf('"') < 0 && line.indexOf('\t') < 0 && (!singleQuotes || line.indexOf("'") < 0)) {
    let i = 0;
    while (i < len) {
      while (i < len && line.charCodeAt(i) === 32) i++;
      if (i >= len) break;
      let j = line.indexOf(' ', i);
      if (j < 0) j = len;
      push(t, line.slice(i, j), i, j);
      i = j;
    }
    return;
  }
  let i = 0;
  while (i < len) {
    let c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    const s = i;
    let v = '';
    let quote = 0; // 34 (") or 39 (') while inside quotes
    for (; i < len; i++) {
      c = line.charCodeAt(i);
      if (quote !== 0) {
        if (quote === 34 && c === 92 && i + 1 < len) {
          v += line[++i];
        } else if (c === quote) {
          quote = 0;
        } else {
          v += line[i];
        }
      } else if (c === 34 || (singleQuotes && c === 39)) {
        quote = c;
        t.openQuote = i;
      } else if (c === 32 || c === 9 || c === 13) {
        break;
      } else {
        v += line[i];
      }
    }
    if (quote === 0) t.openQuote = -1;
    push(t, v, s, i);
  }
}

/** The quoting iptables-save applies to free-text values (xtables_save_string). */
export function saveString(value: string): string {
  if (value.length > 0 && /^[A-Za-z0-9_-]+$/.test(value)) return value;
  return '"' + value.replace(/["\\']/g, (m) => '\\' + m) + '"';
}
