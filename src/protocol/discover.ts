import { parseConfig, type ArchiveConfig, type WarehouseConfig } from '../config/config';
import {
  columnTypeProblem,
  isTemporal,
  MAX_VARBYTE,
  refusedTypeReason,
  STAYS_HOT,
  typeFamily,
  typeName,
  type ColumnType,
} from '../core/column-types';
import { InputError, show } from '../core/errors';
import { isIdentifier, MAX_IDENTIFIER_BYTES } from '../core/identifiers';
import { PARTITION_KEYS } from '../core/lake-layout';
import { MAX_FAMILY_TABLES } from '../config/config';
import type { CatalogDialect, CatalogScope } from '../sql/dialect';
import { statementSizeProblems } from '../sql/limits';
import type { Row } from './ports';
import { tableDifferences } from './schema-guard';

/**
 * `redshift-archive init`: a configuration written from the warehouse's own catalog (docs/design.md
 * §9). It reads the base tables' columns and the declared foreign keys, and nothing else; the
 * configuration it writes passes the schema guard by construction (the same catalog), and every
 * table it cannot take is named with the reason.
 */

/** A table by schema and name. */
export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** `--parent <schema.child>=<parent>:<fk columns>[-><parent key columns>]`: a family the catalog does not declare. */
export interface ParentChoice {
  readonly child: TableName;
  /** The parent; in the child's schema when no schema is given. */
  readonly parent: { readonly schema?: string; readonly name: string };
  readonly foreignKey: readonly string[];
  /** The parent's key columns; the foreign key's names when left out. */
  readonly parentKey?: readonly string[];
}

/** What `init` is asked. */
export interface InitRequest {
  readonly scope: CatalogScope;
  /** `--archive-by <schema.table>=<column>`: a root's archive column, where the catalog leaves a choice. */
  readonly archiveBy: readonly { readonly table: TableName; readonly column: string }[];
  readonly parents: readonly ParentChoice[];
  /** The file's `warehouse` section: where the configuration is deployed. */
  readonly warehouse: WarehouseConfig;
  /** The database whose name the file's catalog settings take. */
  readonly database: string;
}

/** One table the configuration archives, and why as it is. */
export interface InitTable {
  readonly table: string;
  readonly alias: string;
  readonly columns: number;
  /** `column created (its only date or timestamp column)`, `parent sales.orders by (order_id) (declared foreign key fk1)`. */
  readonly archivedBy: string;
}

/** A table left out, and why. */
export interface LeftOut {
  readonly table: string;
  readonly why: string;
}

/** What `init` found and wrote. */
export interface InitReport {
  /** The configuration, as the file holds it; undefined when no table could be taken. */
  readonly config?: Record<string, unknown>;
  readonly tables: readonly InitTable[];
  readonly leftOut: readonly LeftOut[];
  /** Settings `init` chose that a person should look at before deploying. */
  readonly review: readonly string[];
}

/** Something that answers read-only queries of a warehouse's catalog (the Data API, DuckDB). */
export interface CatalogReader {
  query(sql: string, step: string): Promise<Row[]>;
}

/** A declared (or chosen) foreign key of a child to a parent. */
interface Key {
  readonly parent: TableName;
  readonly foreignKey: readonly string[];
  readonly parentKey: readonly string[];
  /** Where it comes from, for the report. */
  readonly source: string;
}

/** One table of the scope, as the catalog describes it. */
interface Found extends TableName {
  readonly id: string;
  readonly columns: readonly {
    readonly name: string;
    readonly type?: ColumnType;
    readonly spelled: string;
  }[];
  readonly order: number;
}

const lower = (s: unknown) => String(s ?? '').toLowerCase();
const idOf = (t: TableName) => `${lower(t.schema)}.${lower(t.name)}`;
const qualified = (t: TableName) => `${t.schema}.${t.name}`;

/**
 * A warehouse column type as configuration spells it: DuckDB keeps no lengths (its VARCHAR and
 * BLOB take the longest Redshift allows that the archive can carry).
 */
function configuredType(dialect: CatalogDialect, row: Row): ColumnType | undefined {
  const type = dialect.catalogType(row);
  if (type?.kind === 'text') return { kind: 'varchar', length: 65535 };
  if (type?.kind === 'bytes') return { kind: 'varbyte', length: MAX_VARBYTE };
  return type as ColumnType | undefined;
}

/** The scope's base tables, in the order the arguments name them (schemas, then tables), each by name. */
function foundTables(dialect: CatalogDialect, scope: CatalogScope, rows: readonly Row[]): Found[] {
  const byId = new Map<string, Found>();
  const orderOf = (schema: string, name: string) => {
    const t = scope.tables.findIndex((x) => idOf(x) === `${lower(schema)}.${lower(name)}`);
    return t >= 0 ? scope.schemas.length + t : scope.schemas.findIndex((s) => lower(s) === lower(schema));
  };
  for (const r of rows) {
    const [schema, name] = [String(r.table_schema), String(r.table_name)];
    const id = idOf({ schema, name });
    const found = byId.get(id) ?? { schema, name, id, columns: [], order: orderOf(schema, name) };
    const type = configuredType(dialect, r);
    const spelled = [r.data_type, r.char_length ?? r.num_precision].filter((v) => v !== null).join(' ');
    byId.set(id, {
      ...found,
      columns: [...found.columns, { name: String(r.column_name), spelled, ...(type ? { type } : {}) }],
    });
  }
  return [...byId.values()].sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
}

/** Declared foreign keys, one per constraint, its columns in key order. */
function declaredKeys(rows: readonly Row[]): Map<string, Key[]> {
  const constraints = new Map<
    string,
    { child: string; parent: TableName; pairs: [number, string, string][]; name: string }
  >();
  for (const r of rows) {
    const child = idOf({ schema: String(r.fk_schema_name), name: String(r.fk_table_name) });
    const key = `${child}/${String(r.fk_name)}`;
    const entry = constraints.get(key) ?? {
      child,
      name: String(r.fk_name),
      parent: { schema: String(r.pk_schema_name), name: String(r.pk_table_name) },
      pairs: [],
    };
    entry.pairs.push([Number(r.key_seq), String(r.fk_column_name), String(r.pk_column_name)]);
    constraints.set(key, entry);
  }
  const keys = new Map<string, Key[]>();
  for (const c of constraints.values()) {
    const pairs = [...c.pairs].sort((a, b) => a[0] - b[0]);
    keys.set(c.child, [
      ...(keys.get(c.child) ?? []),
      {
        parent: c.parent,
        foreignKey: pairs.map((p) => p[1]),
        parentKey: pairs.map((p) => p[2]),
        source: `declared foreign key ${c.name}`,
      },
    ]);
  }
  return keys;
}

/** Why a table cannot be archived on its own, whatever its family: a column that cannot be. */
function ownProblem(table: Found): string | undefined {
  if (!isIdentifier(table.schema) || !isIdentifier(table.name)) {
    return `its name is not one the archive can carry (letters, digits, _ or $, not starting with a digit, at most ${MAX_IDENTIFIER_BYTES} bytes)`;
  }
  for (const c of table.columns) {
    if (!isIdentifier(c.name)) return `column ${show(c.name)}: its name is not one the archive can carry`;
    const name = lower(c.name);
    if (name === PARTITION_KEYS.year || name === PARTITION_KEYS.run) {
      return `column ${show(c.name)} has the name of a partition key of the archive (${PARTITION_KEYS.year}, ${PARTITION_KEYS.run}): rename it`;
    }
    if (!c.type) {
      const type = c.spelled.split(' ')[0];
      const why = refusedTypeReason(type) ?? columnTypeProblem(c.spelled.replace(/ (\d+)$/, '($1)'));
      if (why)
        return `column ${show(c.name)} is ${c.spelled}: ${why.includes(STAYS_HOT) ? why : `${why}: ${STAYS_HOT}`}`;
      return `column ${show(c.name)} is ${c.spelled}, a type this project cannot archive: ${STAYS_HOT}`;
    }
  }
  return undefined;
}

/** A family's tables, root first, as far as {@link MAX_FAMILY_TABLES} allows. */
function familyOf(root: string, children: ReadonlyMap<string, string[]>): string[] {
  const family = [root];
  for (let i = 0; i < family.length; i++) family.push(...(children.get(family[i]) ?? []));
  return family;
}

/** How each table is archived: by its own column, or with a parent by a key; or why not at all. */
class Plan {
  readonly roles = new Map<string, { column: string; how: string } | { key: Key }>();
  readonly leftOut = new Map<string, string>();

  constructor(
    private readonly tables: readonly Found[],
    private readonly request: InitRequest,
    private readonly declared: ReadonlyMap<string, Key[]>,
  ) {}

  private table(id: string): Found | undefined {
    return this.tables.find((t) => t.id === id);
  }

  /** Each table's own role, before families are looked at. */
  decide(): void {
    for (const t of this.tables) {
      const problem = ownProblem(t);
      if (problem) {
        this.leftOut.set(t.id, problem);
        continue;
      }
      const chosen = this.request.archiveBy.find((a) => idOf(a.table) === t.id);
      if (chosen) {
        this.roles.set(t.id, { column: chosen.column, how: '--archive-by' });
        continue;
      }
      const parent = this.request.parents.find((p) => idOf(p.child) === t.id);
      if (parent) {
        const schema = parent.parent.schema ?? t.schema;
        this.roles.set(t.id, {
          key: {
            parent: { schema, name: parent.parent.name },
            foreignKey: parent.foreignKey,
            parentKey: parent.parentKey ?? parent.foreignKey,
            source: '--parent',
          },
        });
        continue;
      }
      this.decideFromCatalog(t);
    }
  }

  private decideFromCatalog(t: Found): void {
    const keys = (this.declared.get(t.id) ?? []).filter(
      (k) => idOf(k.parent) !== t.id && this.table(idOf(k.parent)),
    );
    if (keys.length === 1) {
      this.roles.set(t.id, { key: keys[0] });
      return;
    }
    if (keys.length > 1) {
      const choices = keys.map(
        (k) =>
          `--parent ${qualified(t)}=${qualified(k.parent)}:${k.foreignKey.join(',')}->${k.parentKey.join(',')}`,
      );
      this.leftOut.set(
        t.id,
        `it declares foreign keys to ${keys.length} tables being archived; choose one: ${choices.join(' or ')}`,
      );
      return;
    }
    const temporal = t.columns.filter((c) => c.type && isTemporal(c.type)).map((c) => c.name);
    if (temporal.length === 1) {
      this.roles.set(t.id, { column: temporal[0], how: 'its only date or timestamp column' });
    } else if (temporal.length === 0) {
      this.leftOut.set(
        t.id,
        'no date, timestamp or timestamptz column to archive it by, and no declared foreign key to a table being archived; ' +
          `--archive-by ${qualified(t)}=<column> or --parent ${qualified(t)}=<parent>:<columns> says how`,
      );
    } else {
      this.leftOut.set(
        t.id,
        `it has ${temporal.length} date or timestamp columns (${temporal.join(', ')}): --archive-by ${qualified(t)}=<one of them> says which`,
      );
    }
  }

  /** Families: a child whose parent is left out, or whose key does not compare, is left out too; so are cycles. */
  resolve(): void {
    for (let changed = true; changed;) {
      changed = false;
      for (const [id, role] of this.roles) {
        if (this.leftOut.has(id) || !('key' in role)) continue;
        const why = this.keyProblem(id, role.key) ?? this.cycle(id);
        if (why) {
          this.leftOut.set(id, why);
          changed = true;
        }
      }
    }
  }

  private keyProblem(id: string, key: Key): string | undefined {
    const child = this.table(id) as Found;
    const parent = this.table(idOf(key.parent));
    if (!parent)
      return `its parent ${qualified(key.parent)} is not a table init reads (add it to --tables or --schema)`;
    const parentOut = this.leftOut.get(parent.id);
    if (parentOut)
      return `its parent ${qualified(parent)} is left out (${parentOut.split(':')[0]}): ${STAYS_HOT}`;
    for (const [i, fkName] of key.foreignKey.entries()) {
      const fk = child.columns.find((c) => lower(c.name) === lower(fkName));
      const pk = parent.columns.find((c) => lower(c.name) === lower(key.parentKey[i]));
      if (!fk?.type || !pk?.type || typeFamily(fk.type) !== typeFamily(pk.type)) {
        return (
          `its key ${fkName} (${fk?.type ? typeName(fk.type) : 'no such column'}) does not compare with ` +
          `${qualified(parent)}.${key.parentKey[i]} (${pk?.type ? typeName(pk.type) : 'no such column'})`
        );
      }
    }
    return undefined;
  }

  private cycle(id: string): string | undefined {
    const chain = [id];
    for (let role = this.roles.get(id); role && 'key' in role;) {
      const next = idOf(role.key.parent);
      if (chain.includes(next)) return `its parents form a cycle (${[...chain, next].join(' -> ')})`;
      chain.push(next);
      role = this.roles.get(next);
    }
    return undefined;
  }

  /** The families that are left, roots in scope order, each parents first; a family's tables past the most a commit holds are left out. */
  families(): string[][] {
    const children = new Map<string, string[]>();
    for (const t of this.tables) {
      const role = this.roles.get(t.id);
      if (!role || this.leftOut.has(t.id) || !('key' in role)) continue;
      const parent = idOf(role.key.parent);
      children.set(parent, [...(children.get(parent) ?? []), t.id]);
    }
    const roots = this.tables.filter(
      (t) => !this.leftOut.has(t.id) && this.roles.has(t.id) && 'column' in (this.roles.get(t.id) as object),
    );
    return roots.map((root) => {
      const family = familyOf(root.id, children);
      for (const id of family.slice(MAX_FAMILY_TABLES)) {
        this.leftOut.set(
          id,
          `the family of ${qualified(root)} would have ${family.length} tables; a family's commit is one Data API batch, ` +
            `which holds at most ${MAX_FAMILY_TABLES}`,
        );
      }
      return family.slice(0, MAX_FAMILY_TABLES);
    });
  }
}

/** Aliases: a table's name, or `<schema>_<name>` where another table has its name. */
function aliases(tables: readonly Found[]): Map<string, string> {
  const taken = new Set<string>();
  const out = new Map<string, string>();
  for (const t of tables) {
    let alias = taken.has(lower(t.name)) ? `${t.schema}_${t.name}` : t.name;
    for (let n = 2; taken.has(lower(alias)); n++) alias = `${t.schema}_${t.name}_${n}`;
    taken.add(lower(alias));
    out.set(t.id, alias);
  }
  return out;
}

/** The file's settings besides the warehouse and the tables, and what a person should check of them. */
function settings(
  request: InitRequest,
  tables: readonly Found[],
): { file: Record<string, unknown>; review: string[] } {
  const database = `${lower(request.database).replace(/[^a-z0-9_]/g, '_')}_archive`;
  const views = { schema: 'archive', prefix: tables.some((t) => lower(t.schema) === 'archive') ? 'v_' : '' };
  const file = {
    lake: { prefix: 'redshift-archive' },
    catalog: { database, externalSchema: `${database}_ext` },
    views,
    retention: { keepYears: 1, timeZone: 'UTC' },
  };
  return {
    file,
    review: [
      `lake.prefix ${show(file.lake.prefix)}, catalog.database ${show(database)} (the Glue database), catalog.externalSchema ` +
        `${show(file.catalog.externalSchema)}, views.schema ${show(views.schema)}: names init chose, free to change before the first deploy`,
      'retention: keepYears 1 in UTC (rows older than this year are archived); views.readers: none (add "group NAME")',
    ],
  };
}

/**
 * Writes a configuration from the warehouse's catalog: the scope's base tables, each archived by
 * its only date or timestamp column, by `--archive-by`, or with its parent by a declared foreign key
 * or `--parent`; every table it cannot take left out, with why. Reads only.
 * @throws InputError naming the argument when it names a table or column the catalog does not have
 */
export async function discover(
  reader: CatalogReader,
  dialect: CatalogDialect,
  request: InitRequest,
): Promise<InitReport> {
  const rows = await reader.query(dialect.tableColumnsQuery(request.scope), 'init.columns');
  const tables = foundTables(dialect, request.scope, rows);
  checkArguments(request, tables);
  const keyRows: Row[] = [];
  for (const [i, sql] of dialect.foreignKeysQueries(tables).entries()) {
    keyRows.push(...(await reader.query(sql, `init.keys.${i}`)));
  }
  const plan = new Plan(tables, request, declaredKeys(keyRows));
  plan.decide();
  plan.resolve();
  return build(plan, tables, request);
}

/** The configuration from the plan; a table whose statements would not fit the Data API is left out too. */
function build(plan: Plan, tables: readonly Found[], request: InitRequest): InitReport {
  for (;;) {
    const families = plan.families();
    const kept = families.flat().map((id) => tables.find((t) => t.id === id) as Found);
    const alias = aliases(kept);
    const { file, review } = settings(request, kept);
    const entries = kept.map((t) => tableEntry(t, plan, alias, tables));
    if (entries.length === 0) return { tables: [], leftOut: leftOutList(plan, tables), review };
    const config = { warehouse: request.warehouse, ...file, tables: entries.map((e) => e.file) };
    const parsed: ArchiveConfig = parseConfig(config, 'init');
    const tooLong = statementSizeProblems(parsed).flatMap((p) => {
      const t = kept.find((k) => p.startsWith(`tables[${JSON.stringify(qualified(k))}]`));
      return t ? [[t, p] as const] : [];
    });
    if (tooLong.length === 0) {
      return { config, tables: entries.map((e) => e.report), leftOut: leftOutList(plan, tables), review };
    }
    for (const [t, problem] of tooLong) plan.leftOut.set(t.id, problem.slice(problem.indexOf(':') + 2));
    plan.resolve();
  }
}

function tableEntry(
  t: Found,
  plan: Plan,
  alias: ReadonlyMap<string, string>,
  tables: readonly Found[],
): { file: Record<string, unknown>; report: InitTable } {
  const role = plan.roles.get(t.id) as { column: string; how: string } | { key: Key };
  const archiveBy =
    'column' in role
      ? { column: t.columns.find((c) => lower(c.name) === lower(role.column))?.name ?? role.column }
      : {
          parent: alias.get(idOf(role.key.parent)) as string,
          foreignKey: role.key.foreignKey.length === 1 ? role.key.foreignKey[0] : role.key.foreignKey,
          parentKey: role.key.parentKey.length === 1 ? role.key.parentKey[0] : role.key.parentKey,
        };
  const name = alias.get(t.id) as string;
  const parent = 'key' in role ? (tables.find((x) => x.id === idOf(role.key.parent)) as Found) : undefined;
  return {
    file: {
      schema: t.schema,
      name: t.name,
      ...(name === t.name ? {} : { alias: name }),
      archiveBy,
      columns: t.columns.map((c) => ({ name: c.name, type: typeName(c.type as ColumnType) })),
    },
    report: {
      table: qualified(t),
      alias: name,
      columns: t.columns.length,
      archivedBy:
        'column' in role
          ? `column ${archiveBy.column as string} (${role.how})`
          : `parent ${qualified(parent as Found)} by (${role.key.foreignKey.join(', ')}) = (${role.key.parentKey.join(', ')}) (${role.key.source})`,
    },
  };
}

function leftOutList(plan: Plan, tables: readonly Found[]): LeftOut[] {
  return tables.flatMap((t) => {
    const why = plan.leftOut.get(t.id);
    return why ? [{ table: qualified(t), why }] : [];
  });
}

/** The arguments must name tables and columns of the scope: a typo is refused, not taken as a table left out. */
function checkArguments(request: InitRequest, tables: readonly Found[]): void {
  const known = tables.map(qualified);
  const listed = known.join(', ') || 'none';
  const find = (t: TableName) => tables.find((x) => x.id === idOf(t));
  for (const t of request.scope.tables) {
    if (!find(t)) {
      throw new InputError(
        `--tables: ${show(qualified(t))} is not allowed; allowed: a base table this user can see (found: ${listed})`,
      );
    }
  }
  for (const s of request.scope.schemas) {
    if (!tables.some((t) => lower(t.schema) === lower(s))) {
      throw new InputError(
        `--schema: ${show(s)} is not allowed; allowed: a schema holding base tables this user can see`,
      );
    }
  }
  for (const a of request.archiveBy) {
    const t = find(a.table);
    const allowed = `allowed: a table of --tables or --schema, = its date or timestamp column`;
    if (!t)
      throw new InputError(
        `--archive-by: ${show(`${qualified(a.table)}=${a.column}`)} is not allowed; ${allowed} (${listed})`,
      );
    const column = t.columns.find((c) => lower(c.name) === lower(a.column));
    if (!column?.type || !isTemporal(column.type)) {
      const temporal = t.columns.filter((c) => c.type && isTemporal(c.type)).map((c) => c.name);
      throw new InputError(
        `--archive-by: ${show(`${qualified(a.table)}=${a.column}`)} is not allowed; allowed: a date, timestamp or timestamptz column of ${qualified(t)} (${temporal.join(', ') || 'it has none'})`,
      );
    }
  }
  for (const p of request.parents) {
    const text = `${qualified(p.child)}=${p.parent.schema ? `${p.parent.schema}.` : ''}${p.parent.name}:${p.foreignKey.join(',')}`;
    const child = find(p.child);
    const parent = find({ schema: p.parent.schema ?? p.child.schema, name: p.parent.name });
    if (!child || !parent) {
      throw new InputError(
        `--parent: ${show(text)} is not allowed; allowed: tables of --tables or --schema (${listed}), the parent in the child's schema unless it names one`,
      );
    }
    const missing = [
      ...p.foreignKey
        .filter((c) => !child.columns.some((x) => lower(x.name) === lower(c)))
        .map((c) => `${qualified(child)}.${c}`),
      ...(p.parentKey ?? p.foreignKey)
        .filter((c) => !parent.columns.some((x) => lower(x.name) === lower(c)))
        .map((c) => `${qualified(parent)}.${c}`),
    ];
    if (missing.length > 0 || (p.parentKey && p.parentKey.length !== p.foreignKey.length)) {
      throw new InputError(
        `--parent: ${show(text)} is not allowed (${missing.length ? `no column ${missing.join(', ')}` : 'the key lists differ in length'}); ` +
          'allowed: columns of the child, and as many of the parent after ->',
      );
    }
  }
}

/** What `init --update` changed, and what it leaves to the user. */
export interface UpdateReport {
  /** The configuration, as the file holds it, with the appended columns. */
  readonly config: Record<string, unknown>;
  /** Columns the warehouse's tables gained at their end since, now in the configuration. */
  readonly added: readonly { readonly table: string; readonly columns: readonly string[] }[];
  /** Every other difference, as the schema guard says it: the user's to settle. */
  readonly differences: readonly string[];
}

/**
 * Brings a configuration up to date with the warehouse's catalog: columns appended to a table
 * (Redshift's ALTER TABLE ADD COLUMN adds them at the end) are added at the end of its list, with
 * their types; every other difference is reported, not changed, and every other setting of the
 * file is kept as written. Reads only.
 * @param file - the configuration file's JSON, as written
 * @param config - the same file, validated
 */
export async function updateConfig(
  reader: CatalogReader,
  dialect: CatalogDialect,
  file: Record<string, unknown>,
  config: ArchiveConfig,
  source: string,
): Promise<UpdateReport> {
  const rows = await reader.query(dialect.catalogColumnsQuery(config.tables), 'init.update.columns');
  const added: { table: string; columns: string[] }[] = [];
  const differences: string[] = [];
  const tables = (file.tables as Record<string, unknown>[]).map((entry) => {
    const table = config.tables.find(
      (t) => idOf(t) === idOf({ schema: String(entry.schema), name: String(entry.name) }),
    ) as ArchiveConfig['tables'][number];
    const real = rows.filter(
      (r) => idOf({ schema: String(r.table_schema), name: String(r.table_name) }) === idOf(table),
    );
    const leading = real.slice(0, table.columns.length).map((r) => lower(r.column_name));
    const appended: { name: string; type: ColumnType }[] = [];
    if (leading.join(',') === table.columns.map((c) => lower(c.name)).join(',')) {
      for (const r of real.slice(table.columns.length)) {
        const type = configuredType(dialect, r);
        if (!type) break;
        appended.push({ name: String(r.column_name), type });
      }
    }
    differences.push(
      ...tableDifferences({ ...table, columns: [...table.columns, ...appended] }, rows, dialect),
    );
    if (appended.length === 0) return entry;
    added.push({ table: qualified(table), columns: appended.map((c) => c.name) });
    return {
      ...entry,
      columns: [
        ...(entry.columns as unknown[]),
        ...appended.map((c) => ({ name: c.name, type: typeName(c.type) })),
      ],
    };
  });
  const updated = { ...file, tables };
  parseConfig(updated, source);
  return { config: updated, added, differences };
}
