/**
 * Redshift's reserved words: "You can use the reserved words with delimited identifiers (double
 * quotation marks)" (Redshift Database Developer Guide, "Reserved words",
 * https://docs.aws.amazon.com/redshift/latest/dg/r_pg_keywords.html, as served in 2026, united
 * with the archived guide's list, awsdocs/amazon-redshift-developer-guide, doc_source/r_pg_keywords.md,
 * which also has LANGUAGE and MOSTLY13). START and CONNECT are not reserved, but the page asks for
 * delimited identifiers or AS when they are table aliases: they are listed too.
 */
export const REDSHIFT_RESERVED = new Set(
  `AES128 AES256 ALL ALLOWOVERWRITE ANALYSE ANALYZE AND ANY ARRAY AS ASC AUTHORIZATION AZ64 BACKUP BETWEEN
  BINARY BLANKSASNULL BOTH BYTEDICT BZIP2 CASE CAST CHECK COLLATE COLUMN CONSTRAINT CREATE CREDENTIALS CROSS
  CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURRENT_USER_ID DEFAULT DEFERRABLE DEFLATE DEFRAG
  DELTA DELTA32K DESC DISABLE DISTINCT DO ELSE EMPTYASNULL ENABLE ENCODE ENCRYPT ENCRYPTION END EXCEPT EXPLICIT
  FALSE FOR FOREIGN FREEZE FROM FULL GLOBALDICT256 GLOBALDICT64K GRANT GROUP GZIP HAVING IDENTITY IGNORE ILIKE
  IN INITIALLY INNER INTERSECT INTERVAL INTO IS ISNULL JOIN LANGUAGE LEADING LEFT LIKE LIMIT LOCALTIME
  LOCALTIMESTAMP LUN LUNS LZO LZOP MINUS MOSTLY13 MOSTLY16 MOSTLY32 MOSTLY8 NATURAL NEW NOT NOTNULL NULL NULLS
  OFF OFFLINE OFFSET OID OLD ON ONLY OPEN OR ORDER OUTER OVERLAPS PARALLEL PARTITION PERCENT PERMISSIONS PIVOT
  PLACING PRIMARY RAW READRATIO RECOVER REFERENCES REJECTLOG RESORT RESPECT RESTORE RIGHT SELECT SESSION_USER
  SIMILAR SNAPSHOT SOME SYSDATE SYSTEM TABLE TAG TDES TEXT255 TEXT32K THEN TIMESTAMP TO TOP TRAILING TRUE
  TRUNCATECOLUMNS UNION UNIQUE UNNEST UNPIVOT USER USING VERBOSE WALLET WHEN WHERE WITH WITHOUT START CONNECT`.split(
    /\s+/,
  ),
);

/** Words that may follow a table reference or a subquery in FROM: not aliases. */
const AFTER_FROM_ITEM = new Set(
  'WHERE ON UNION LEFT RIGHT INNER FULL CROSS JOIN GROUP ORDER LIMIT WITH TO EXCEPT INTERSECT MINUS HAVING USING'.split(
    ' ',
  ),
);

type Token = { kind: 'word' | 'ident' | 'string' | 'dollar' | 'number' | 'punct'; text: string };

function tokens(sql: string): Token[] {
  const out: Token[] = [];
  const re =
    /\s+|--[^\n]*|'(?:[^'\\]|''|\\.)*'|(\$[A-Za-z0-9_]*\$)[\s\S]*?\1|"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*|\d+(?:\.\d+)?|[^\s]/gy;
  for (let m = re.exec(sql); m && m[0] !== ''; m = re.exec(sql)) {
    const t = m[0];
    if (/^\s|^--/.test(t)) continue;
    if (t.startsWith("'")) out.push({ kind: 'string', text: t });
    else if (t.startsWith('$')) out.push({ kind: 'dollar', text: t });
    else if (t.startsWith('"')) out.push({ kind: 'ident', text: t });
    else if (/^[A-Za-z_]/.test(t)) out.push({ kind: 'word', text: t });
    else if (/^\d/.test(t)) out.push({ kind: 'number', text: t });
    else out.push({ kind: 'punct', text: t });
  }
  return out;
}

/** The text of a string literal, as Redshift reads it (quotes and backslashes un-doubled). */
function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/''/g, "'").replace(/\\\\/g, '\\');
}

/**
 * The statements nested in one: the query of an UNLOAD, and each statement a procedure EXECUTEs
 * (recursively).
 */
export function nestedStatements(sql: string): string[] {
  const ts = tokens(sql);
  const nested: string[] = [];
  ts.forEach((t, i) => {
    const before = ts[i - 1]?.text.toUpperCase();
    if (
      t.kind === 'string' &&
      (before === 'EXECUTE' || (before === '(' && ts[i - 2]?.text.toUpperCase() === 'UNLOAD'))
    ) {
      nested.push(unquote(t.text));
    }
    if (t.kind === 'dollar') {
      const body = t.text.replace(/^(\$[A-Za-z0-9_]*\$)([\s\S]*)\1$/, '$2');
      nested.push(...nestedStatements(body));
    }
  });
  return nested.flatMap((s) => [s, ...nestedStatements(s)]);
}

/**
 * The unquoted aliases of a statement (not of its nested ones): each word after AS that is not
 * a CAST's type or UNLOAD's FORMAT AS, each word that names a quoted column without AS in a select
 * list (`"name" q0,`), and each word that names a table or a subquery in FROM.
 */
export function unquotedAliases(sql: string): string[] {
  const ts = tokens(sql);
  const aliases: string[] = [];
  // per open parenthesis: whether it opens a CAST; per level: where a FROM clause stands
  const casts: boolean[] = [];
  type From = 'none' | 'item' | 'name' | 'after';
  const from: From[] = ['none'];
  ts.forEach((t, i) => {
    const upper = t.kind === 'word' ? t.text.toUpperCase() : t.text;
    const prev = ts[i - 1];
    const next = ts[i + 1];
    const level = from.length - 1;
    if (t.text === '(') {
      casts.push(prev?.text.toUpperCase() === 'CAST');
      from.push('none');
      return;
    }
    if (t.text === ')') {
      casts.pop();
      from.pop();
      // a subquery in FROM: what follows may name it
      if (from[from.length - 1] === 'item') from[from.length - 1] = 'after';
      return;
    }
    if (upper === 'AS') {
      const formatAs = prev?.text.toUpperCase() === 'FORMAT';
      if (!casts.at(-1) && !formatAs && next?.kind === 'word' && next.text.toUpperCase() !== 'SELECT') {
        aliases.push(next.text);
      }
      if (from[level] === 'name' || from[level] === 'after') from[level] = 'none';
      return;
    }
    // a select list's column named without AS: a quoted name, a word, then the next item or FROM
    // (not a CASE's END after its ELSE's column: `ELSE "started_at" END, "ended_at" = ...`)
    const listEnd = next?.text === ',' || next?.text.toUpperCase() === 'FROM';
    if (t.kind === 'word' && prev?.kind === 'ident' && listEnd && !['ASC', 'DESC', 'END'].includes(upper)) {
      aliases.push(t.text);
      return;
    }
    if (upper === 'FROM' || upper === 'JOIN') {
      from[level] = 'item';
      return;
    }
    switch (from[level]) {
      case 'item':
        from[level] = t.kind === 'ident' || t.kind === 'word' ? 'name' : 'none';
        return;
      case 'name':
        if (t.text === '.' || prev?.text === '.') return;
        from[level] = 'after';
        break;
      default:
        break;
    }
    if (from[level] === 'after') {
      if (t.text === ',') from[level] = 'item';
      else if (t.kind === 'word' && !AFTER_FROM_ITEM.has(upper)) {
        aliases.push(t.text);
        from[level] = 'none';
      } else from[level] = 'none';
    } else if (t.text === ',' && prev && from[level] === 'none' && aliasedItem(ts, i)) {
      from[level] = 'item';
    }
  });
  return aliases;
}

/** Whether the comma at `i` separates FROM items: the nearest FROM/JOIN/WHERE at its level is a FROM or JOIN. */
function aliasedItem(ts: Token[], i: number): boolean {
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    const t = ts[j].text.toUpperCase();
    if (t === ')') depth++;
    else if (t === '(') {
      if (depth === 0) return false;
      depth--;
    } else if (depth === 0 && (t === 'FROM' || t === 'JOIN')) return true;
    else if (depth === 0 && (t === 'WHERE' || t === 'SELECT' || t === 'ON' || t === 'SET' || t === 'VALUES'))
      return false;
  }
  return false;
}

/** The unquoted aliases of a statement and of those nested in it that are reserved words. */
export function reservedAliases(sql: string): string[] {
  return [sql, ...nestedStatements(sql)].flatMap((s) =>
    unquotedAliases(s).filter((a) => REDSHIFT_RESERVED.has(a.toUpperCase())),
  );
}
