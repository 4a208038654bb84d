/**
 * A warehouse of 40 tables as a new user brings one: families with children and grandchildren,
 * 5 to 60 columns of every type the archive takes, a composite key, a key whose parent column is
 * named differently, `payments` in two schemas, a table with two dates, one with none, one with a
 * type that cannot be archived (and its child). No foreign key is declared (DuckDB could not
 * delete a parent and its child in one transaction): `--parent` says every family.
 */

/** A table of the warehouse: its key, its parent, its archive column, its width. */
interface Spec {
  readonly schema: string;
  readonly name: string;
  /** Columns the table starts with, as `name TYPE`. */
  readonly own: readonly string[];
  /** The parent, and the child's key columns `=` the parent's (one row per parent row and `per`). */
  readonly parent?: {
    readonly table: string;
    readonly key: readonly [string, string][];
    readonly per: number;
  };
  /** Columns in all (the rest are padding of every type). */
  readonly width: number;
}

/** Padding columns: every type the archive takes except dates (which would compete as archive columns). */
const PAD: readonly [string, (i: string) => string][] = [
  ['INTEGER', (i) => `${i} * 7`],
  ['VARCHAR', (i) => `'v' || ${i} || CASE WHEN ${i} % 5 = 0 THEN ' Grüße ''q''' ELSE '' END`],
  ['DECIMAL(12,2)', (i) => `${i} * 1.25`],
  ['DOUBLE', (i) => `${i} / 3.0`],
  ['BOOLEAN', (i) => `${i} % 2 = 0`],
  ['BIGINT', (i) => `${i} * 9007199254740`],
  ['TIME', (i) => `TIME '00:00:00' + INTERVAL (${i} % 1440) MINUTE`],
  ['TIMETZ', (i) => `CAST('12:30:00+05:30' AS TIMETZ) + INTERVAL (${i} % 60) SECOND`],
  ['BLOB', (i) => `CAST('\\x00\\xFF' || ${i} AS BLOB)`],
  ['JSON', (i) => `json_object('i', ${i}, 'a', [1, 2])`],
  ['SMALLINT', (i) => `CAST(${i} % 30000 AS SMALLINT)`],
  ['REAL', (i) => `CAST(${i} AS REAL) / 8`],
];

const ROOT_ROWS = 24;
/** Rows of a root over 2025 and 2026 (the run at 2026-01-05 archives 2025: one batch a family); one NULL. */
const rootDate = (i: string) =>
  `CASE WHEN ${i} = 5 THEN NULL ELSE DATE '2025-01-01' + CAST(${i} * 30 AS INTEGER) END`;

function families(): Spec[] {
  const specs: Spec[] = [
    { schema: 'sales', name: 'orders', own: ['id INTEGER', 'created DATE'], width: 20 },
    {
      schema: 'sales',
      name: 'order_items',
      own: ['id INTEGER', 'order_id INTEGER'],
      parent: { table: 'sales.orders', key: [['order_id', 'id']], per: 2 },
      width: 12,
    },
    {
      schema: 'sales',
      name: 'item_notes',
      own: ['id INTEGER', 'item_id INTEGER'],
      parent: { table: 'sales.order_items', key: [['item_id', 'id']], per: 1 },
      width: 5,
    },
    {
      schema: 'sales',
      name: 'order_lines',
      own: ['id INTEGER', 'order_id INTEGER', 'line_no SMALLINT'],
      parent: { table: 'sales.orders', key: [['order_id', 'id']], per: 3 },
      width: 8,
    },
    {
      schema: 'sales',
      name: 'line_discounts',
      own: ['id INTEGER', 'order_id INTEGER', 'line_no SMALLINT'],
      parent: {
        table: 'sales.order_lines',
        key: [
          ['order_id', 'order_id'],
          ['line_no', 'line_no'],
        ],
        per: 1,
      },
      width: 6,
    },
    {
      schema: 'sales',
      name: 'payments',
      own: ['id INTEGER', 'order_id INTEGER'],
      parent: { table: 'sales.orders', key: [['order_id', 'id']], per: 1 },
      width: 7,
    },
    {
      schema: 'sales',
      name: 'events',
      own: ['id INTEGER', 'happened TIMESTAMP', 'logged TIMESTAMPTZ'],
      width: 9,
    },
    { schema: 'sales', name: 'customers', own: ['id INTEGER'], width: 10 },
    { schema: 'billing', name: 'invoices', own: ['id INTEGER', 'issued TIMESTAMPTZ'], width: 15 },
    {
      schema: 'billing',
      name: 'payments',
      own: ['id INTEGER', 'invoice_ref INTEGER'],
      parent: { table: 'billing.invoices', key: [['invoice_ref', 'id']], per: 2 },
      width: 11,
    },
    {
      schema: 'billing',
      name: 'refunds',
      own: ['id INTEGER', 'payment_id INTEGER'],
      parent: { table: 'billing.payments', key: [['payment_id', 'id']], per: 1 },
      width: 6,
    },
    { schema: 'ops', name: 'geo_points', own: ['id INTEGER', 'seen DATE', 'span INTERVAL'], width: 5 },
    {
      schema: 'ops',
      name: 'geo_tags',
      own: ['id INTEGER', 'point_id INTEGER'],
      parent: { table: 'ops.geo_points', key: [['point_id', 'id']], per: 1 },
      width: 5,
    },
    { schema: 'ops', name: 'readings', own: ['id INTEGER', 'taken TIMESTAMP'], width: 30 },
  ];
  const widths = [60, 5, 33, 17, 44, 9, 25, 51];
  widths.forEach((width, k) => {
    const root = `fam${k + 1}`;
    specs.push({ schema: 'ops', name: root, own: ['id INTEGER', 'booked DATE'], width });
    specs.push({
      schema: 'ops',
      name: `${root}_child`,
      own: ['id INTEGER', 'parent_id INTEGER'],
      parent: { table: `ops.${root}`, key: [['parent_id', 'id']], per: 2 },
      width: Math.max(5, 60 - width),
    });
    specs.push({
      schema: 'ops',
      name: `${root}_grand`,
      own: ['id INTEGER', 'child_id INTEGER'],
      parent: { table: `ops.${root}_child`, key: [['child_id', 'id']], per: 1 },
      width: 5 + k,
    });
  });
  specs.push({ schema: 'ops', name: 'audit_log', own: ['id INTEGER', 'logged_at TIMESTAMPTZ'], width: 6 });
  specs.push({ schema: 'ops', name: 'snapshots', own: ['id INTEGER', 'day DATE'], width: 40 });
  return specs;
}

/** The 40 tables. */
export const WAREHOUSE_40 = families();

const padOf = (spec: Spec) =>
  Array.from({ length: spec.width - spec.own.length }, (_, k) => ({
    name: `c${k + 1}`,
    type: PAD[(k + spec.name.length) % PAD.length],
  }));

/** The value of an own column of a root from its row number `i`. */
function rootValue(column: string, i: string): string {
  const [name, type] = column.split(' ');
  if (name === 'id') return i;
  if (type === 'DATE') return rootDate(i);
  if (type === 'TIMESTAMP') return `CAST(${rootDate(i)} AS TIMESTAMP) + INTERVAL (${i}) HOUR`;
  if (type === 'TIMESTAMPTZ') return `CAST(${rootDate(i)} AS TIMESTAMPTZ) + INTERVAL 90 MINUTE`;
  if (type === 'INTERVAL') return `INTERVAL (${i}) DAY`;
  throw new Error(`no value for ${column}`);
}

/** The SQL that creates and fills the warehouse. */
export function warehouse40Sql(): string {
  const sql = ['CREATE SCHEMA sales; CREATE SCHEMA billing; CREATE SCHEMA ops;'];
  for (const spec of WAREHOUSE_40) {
    const pad = padOf(spec);
    const table = `${spec.schema}.${spec.name}`;
    sql.push(
      `CREATE TABLE ${table} (${[...spec.own, ...pad.map((p) => `${p.name} ${p.type[0]}`)].join(', ')});`,
    );
    const pads = (i: string) =>
      pad.map((p, k) => `CASE WHEN (${i} + ${k}) % 9 = 0 THEN NULL ELSE ${p.type[1](i)} END`);
    if (!spec.parent) {
      const values = [...spec.own.map((c) => rootValue(c, 'i')), ...pads('i')];
      sql.push(`INSERT INTO ${table} SELECT ${values.join(', ')} FROM range(1, ${ROOT_ROWS + 1}) r(i);`);
      continue;
    }
    const { key, per } = spec.parent;
    const own = spec.own.map((c) => {
      const name = c.split(' ')[0];
      if (name === 'id') return `p.id * 10 + j`;
      const pair = key.find(([fk]) => fk === name);
      if (pair) return `p.${pair[1]}`;
      return `CAST(j + 1 AS SMALLINT)`; // line_no of an order line
    });
    sql.push(
      `INSERT INTO ${table} SELECT ${[...own, ...pads('(p.id * 10 + j)')].join(', ')} FROM ${spec.parent.table} p, range(${per}) r(j);`,
    );
  }
  return sql.join('\n');
}

/** `--parent` for every child: the families no catalog declares. */
export function parentArguments(): string[] {
  return WAREHOUSE_40.flatMap((spec) => {
    if (!spec.parent) return [];
    const [schema, parent] = spec.parent.table.split('.');
    const fk = spec.parent.key.map(([c]) => c).join(',');
    const pk = spec.parent.key.map(([, p]) => p).join(',');
    const parentName = schema === spec.schema ? parent : spec.parent.table;
    return ['--parent', `${spec.schema}.${spec.name}=${parentName}:${fk}${fk === pk ? '' : `->${pk}`}`];
  });
}
