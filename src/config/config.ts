import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError, show } from '../core/errors';
import {
  ALLOWED_TYPES,
  columnTypeProblem,
  isTemporal,
  parseColumnType,
  typeFamily,
  typeName,
} from '../core/column-types';
import { IDENTIFIER_RULE, isIdentifier, MAX_IDENTIFIER_BYTES } from '../core/identifiers';
import { PARTITION_KEYS } from '../core/lake-layout';
import { issueProblems, pathText, Problem, problemAt, problemLines } from './problems';
import type {
  ArchiveByColumn,
  ArchiveByParent,
  ArchiveConfig,
  ColumnConfig,
  Reader,
  TableConfig,
} from './types';

export type * from './types';

/**
 * The configuration contract (docs/design.md §1): one JSON file read by the CDK app, the Lambda
 * and the CLI. Every value that later reaches SQL, S3 or Glue is checked here, once, and every
 * error names the field, the bad value and what is allowed.
 */

/**
 * A family's commit is one BatchExecuteStatement of at most 40 statements: for k tables, k checks,
 * k deletes, k views and the views' version, 3k + 1 <= 40.
 */
export const MAX_FAMILY_TABLES = 13;

const TIME_ZONE_RULE =
  'an IANA time zone name as Redshift lists it (select pg_timezone_names()), such as UTC or Europe/Berlin, ' +
  'spelled with its capitals; not an offset such as +01:00 or UTC+1, nor an abbreviation such as CEST';

const READER = /^(user|group) [^ ]+$/;

/**
 * Why a `role` cannot read the union views: the views read the external schema, and Redshift grants
 * USAGE on an external schema (ON SCHEMA) to database users and user groups only ("You can only
 * GRANT or REVOKE USAGE permissions on an external schema to database users and user groups that
 * use the ON SCHEMA syntax", Redshift Database Developer Guide, GRANT, usage notes).
 */
const ROLE_READER =
  'a role cannot be granted USAGE on the external schema the views read (Redshift grants it to users and ' +
  'groups only): put the role\'s users in a group and name the group ("group NAME"), or name each "user NAME"';

const identifier = z.string().refine(isIdentifier, `allowed: ${IDENTIFIER_RULE}`);
const lowerIdentifier = identifier.refine(
  (s) => s === s.toLowerCase(),
  `allowed: lower-case ${IDENTIFIER_RULE} (Glue stores names in lower case)`,
);

function strict<T extends z.ZodRawShape>(shape: T) {
  const keys = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `allowed keys: ${keys}` : `allowed: an object`),
  });
}

/** A list price in US dollars. */
const price = z.number().min(0).max(1_000_000);

const columnType = z.string().transform((text, ctx) => {
  const parsed = parseColumnType(text);
  if (!parsed) {
    const why = columnTypeProblem(text);
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: `allowed: ${ALLOWED_TYPES}${why ? `; ${why}` : ''}`,
    });
    return z.NEVER;
  }
  return parsed;
});

/** An IAM role ARN (it reaches SQL: UNLOAD's and the external schema's IAM_ROLE). */
const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\-/]{1,512}$/);

const provisioned = strict({
  type: z.literal('provisioned'),
  clusterIdentifier: z
    .string()
    .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/)
    .max(63),
  database: identifier,
  dbUser: identifier.optional(),
  secretArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/)
    .optional(),
  roleArn: roleArn.optional(),
});

const serverless = strict({
  type: z.literal('serverless'),
  workgroupName: z.string().regex(/^[a-z0-9-]{3,64}$/),
  database: identifier,
  roleArn: roleArn.optional(),
});

/**
 * Whether `value` may be the warehouse section's `field` (`init` checks its connection arguments
 * with the file's own rules before it writes them).
 */
export function warehouseFieldAllowed(
  type: 'provisioned' | 'serverless',
  field: 'clusterIdentifier' | 'workgroupName' | 'database' | 'dbUser' | 'secretArn',
  value: string,
): boolean {
  const shape: Record<string, z.ZodType> = (type === 'provisioned' ? provisioned : serverless).shape;
  return shape[field]?.safeParse(value).success === true;
}

const s3Prefix = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/)
  .max(512);

/** A key of one column (`"order_id"`) or of several (`["order_id", "line_no"]`), as a list. */
const keyColumns = z
  .union([identifier, z.array(identifier).min(1)], {
    error: () =>
      `allowed: a column name, or a list of column names (a composite key); each ${IDENTIFIER_RULE}`,
  })
  .transform((key) => (typeof key === 'string' ? [key] : key));

/** A parent: its alias (its name unless it sets one), or its `schema.name`. */
const tableReference = z.string().refine((s) => {
  const parts = s.split('.');
  return parts.length <= 2 && parts.every((part) => isIdentifier(part));
}, `allowed: another configured table, by its alias (its name unless it sets one) or as schema.name; ${IDENTIFIER_RULE}`);

const tableSchema = strict({
  schema: identifier,
  name: identifier,
  alias: identifier.optional(),
  archiveBy: z.union([
    strict({ column: identifier }),
    strict({ parent: tableReference, foreignKey: keyColumns, parentKey: keyColumns }),
  ]),
  columns: z.array(strict({ name: identifier, type: columnType })).min(1),
}).transform(({ alias, ...table }) => ({ ...table, alias: alias ?? table.name }));

const configSchema = strict({
  warehouse: z.discriminatedUnion('type', [provisioned, serverless], {
    error: () => 'allowed: {"type": "provisioned", ...} or {"type": "serverless", ...}',
  }),
  lake: strict({
    prefix: s3Prefix,
    reportsPrefix: s3Prefix.default('archive-reports'),
    bucketName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
      .optional(),
  }),
  catalog: strict({
    database: lowerIdentifier,
    externalSchema: identifier,
    athenaWorkgroup: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,128}$/)
      .optional(),
  }),
  views: strict({
    schema: identifier,
    prefix: z
      .string()
      .regex(
        /^([A-Za-z_][A-Za-z0-9_$]*)?$/,
        'allowed: empty, or letters, digits, _ or $, not starting with a digit',
      ),
    readers: z
      .array(
        z
          .string()
          .superRefine((s, ctx) => {
            if (READER.test(s) && isIdentifier(s.split(' ')[1])) return;
            const message = /^role [^ ]+$/.test(s)
              ? `allowed: "user NAME" or "group NAME"; ${ROLE_READER}`
              : `allowed: "user NAME" or "group NAME", NAME ${IDENTIFIER_RULE}`;
            ctx.addIssue({ code: 'custom', message });
          })
          .transform((s): Reader => {
            const [kind, name] = s.split(' ');
            return { kind: kind as Reader['kind'], name };
          }),
      )
      .default([]),
  }),
  retention: strict({
    keepYears: z.number().int().min(1).max(100).default(1),
    timeZone: z.string().refine(isTimeZone, `allowed: ${TIME_ZONE_RULE}`).default('UTC'),
  }).default({ keepYears: 1, timeZone: 'UTC' }),
  maxAttempts: z.number().int().min(1).max(10).default(3),
  ledger: strict({
    schema: identifier.default('archive_meta'),
    stageSchema: identifier.default('archive_stage'),
  }).default({ schema: 'archive_meta', stageSchema: 'archive_stage' }),
  maintenance: strict({ vacuum: z.boolean().default(true) }).default({ vacuum: true }),
  // Left out, the defaults apply where they are used (`pricesOf`): a configuration without the key
  // keeps its digest, so a stack deployed before the key existed still accepts its file.
  prices: strict({
    warehouseGbMonth: price.optional(),
    lakeGbMonth: price.optional(),
    scanPerTb: price.optional(),
    retrievalPerGb: price.optional(),
    source: z.string().min(1).max(200).optional(),
  }).optional(),
  tables: z.array(tableSchema).min(1),
});

type Parsed = z.output<typeof configSchema>;

/**
 * What the schema returns: the same type as the plain {@link ArchiveConfig}, each assignable to the
 * other (`test/unit/config-types.test.ts` checks it at compile time).
 */
export type ConfigSchemaOutput = Parsed;

/** Whether a table is archived by its own date or timestamp column. */
export function isRootTable(table: TableConfig): table is TableConfig & { archiveBy: ArchiveByColumn } {
  return 'column' in table.archiveBy;
}

/**
 * The zone reaches SQL (`AT TIME ZONE`), where Redshift takes a time zone name from its own list,
 * the IANA Time Zone Database, or an abbreviation of a fixed offset, and reads an offset
 * POSIX-style, west of Greenwich positive (DG "AT TIME ZONE", "CONVERT_TIMEZONE" usage notes,
 * "timezone"). Node computes the year bounds with the same IANA names, so only an IANA name, in
 * its IANA spelling (every one starts with a capital), means the same on both sides; Intl, which
 * also takes lower case, offsets and its own aliases, must know it too. Whether the warehouse's
 * copy of the database knows it, and agrees on its rules, preflight asks the warehouse.
 */
function isTimeZone(zone: string): boolean {
  if (!/^[A-Z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A table that passed its own checks, and where the file has it. */
interface Entry {
  readonly table: TableConfig;
  readonly index: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Finds the table `ref` names among `tables`: by `schema.name`, or by its alias (its name unless
 * it sets one), case-insensitively, as a parent reference names a table.
 */
export function findTable<T extends TableConfig>(tables: readonly T[], ref: string): T | undefined {
  const key = ref.toLowerCase();
  return key.includes('.')
    ? tables.find((t) => `${t.schema}.${t.name}`.toLowerCase() === key)
    : tables.find((t) => t.alias.toLowerCase() === key);
}

/** `schema.name` of a table, as messages name it. */
export function qualifiedName(table: Pick<TableConfig, 'schema' | 'name'>): string {
  return `${table.schema}.${table.name}`;
}

/**
 * Where a configured table is, as the file names it (`tables["sales.orders"]`), with the path
 * below it (`.columns["amount"].type`): messages of later checks (the schema guard, plan, synth)
 * name tables and columns as configuration errors do.
 */
export function tablePath(
  table: Pick<TableConfig, 'schema' | 'name'>,
  ...below: (string | number)[]
): string {
  return pathText({ tables: [{ schema: table.schema, name: table.name }] }, ['tables', 0, ...below]);
}

/** A column of a configured table, as the file names it: `tables["sales.orders"].columns["amount"]`. */
export function columnPath(
  table: Pick<TableConfig, 'schema' | 'name'>,
  column: string,
  ...below: string[]
): string {
  return `${tablePath(table)}.columns[${JSON.stringify(column)}]${below.map((b) => `.${b}`).join('')}`;
}

/** The sections of a configuration, each checked on its own, and the tables, each on its own. */
function sectionProblems(input: Record<string, unknown>): {
  sections: Partial<Omit<Parsed, 'tables'>>;
  entries: Entry[];
  problems: Problem[];
} {
  const shape = configSchema.shape;
  const known = Object.keys(shape);
  const problems: Problem[] = [];
  const sections: Record<string, unknown> = {};
  for (const key of known.filter((k) => k !== 'tables') as Exclude<keyof typeof shape, 'tables'>[]) {
    const result = shape[key].safeParse(input[key]);
    if (result.success) sections[key] = result.data;
    else problems.push(...result.error.issues.flatMap((issue) => issueProblems(issue, input, [key])));
  }
  const entries: Entry[] = [];
  const list = z.array(z.unknown()).min(1).safeParse(input.tables);
  if (!list.success) {
    problems.push(...list.error.issues.flatMap((issue) => issueProblems(issue, input, ['tables'])));
  } else {
    list.data.forEach((raw, index) => {
      const result = tableSchema.safeParse(raw);
      if (result.success) entries.push({ table: result.data, index });
      else
        problems.push(
          ...result.error.issues.flatMap((issue) => issueProblems(issue, input, ['tables', index])),
        );
    });
  }
  for (const key of Object.keys(input).filter((k) => !known.includes(k))) {
    problems.push({ at: key, says: 'unknown key', allowed: `allowed keys: ${known.join(', ')}` });
  }
  return { sections: sections as Partial<Omit<Parsed, 'tables'>>, entries, problems };
}

/**
 * Every problem of a configuration in one pass: each section's and each table's own (a value
 * that is not allowed), then the rules across fields, over whatever passed its own checks.
 */
function checkConfig(input: unknown): { config?: ArchiveConfig; problems: Problem[]; tables: TableConfig[] } {
  if (!isRecord(input)) return { problems: [problemAt(input, [], 'allowed: a JSON object')], tables: [] };
  const { sections, entries, problems } = sectionProblems(input);
  problems.push(...crossFieldProblems(input, sections, entries));
  const tables = entries.map((e) => e.table);
  return problems.length > 0
    ? { problems, tables }
    : { config: { ...(sections as Omit<Parsed, 'tables'>), tables }, problems, tables };
}

/** Cross-field rules that a schema of single fields cannot say, over what passed its own checks. */
function crossFieldProblems(
  input: Record<string, unknown>,
  sections: Partial<Omit<Parsed, 'tables'>>,
  entries: readonly Entry[],
): Problem[] {
  const rules = new Rules(input, entries, sections.views);
  const problems = [
    ...(sections.warehouse ? warehouseProblems(sections.warehouse) : []),
    ...rules.viewNames(),
    ...rules.uniqueness(),
    ...entries.flatMap((e) => rules.table(e)),
  ];
  return [...problems, ...rules.families()];
}

function warehouseProblems(w: Parsed['warehouse']): Problem[] {
  if (w.type === 'provisioned' && (w.dbUser === undefined) === (w.secretArn === undefined)) {
    return [
      {
        at: 'warehouse',
        says: `${show({ dbUser: w.dbUser, secretArn: w.secretArn })} is not allowed`,
        allowed: 'allowed: exactly one of dbUser or secretArn',
      },
    ];
  }
  return [];
}

/** The rules between tables, and between a table and the views. */
class Rules {
  private readonly tables: TableConfig[];

  constructor(
    private readonly input: Record<string, unknown>,
    private readonly entries: readonly Entry[],
    private readonly views: Parsed['views'] | undefined,
  ) {
    this.tables = entries.map((e) => e.table);
  }

  private at(entry: Entry, ...path: PropertyKey[]): string {
    return pathText(this.input, ['tables', entry.index, ...path]);
  }

  private problem(entry: Entry, path: PropertyKey[], allowed: string, says?: string): Problem {
    return problemAt(this.input, ['tables', entry.index, ...path], allowed, says);
  }

  /** The raw entry of the file (what the user wrote, before defaults). */
  private raw(entry: Entry): Record<string, unknown> {
    const tables = this.input.tables as unknown[];
    return isRecord(tables[entry.index]) ? (tables[entry.index] as Record<string, unknown>) : {};
  }

  /** A union view may not take the name of a configured table: replacing it would fail, or worse. */
  viewNames(): Problem[] {
    const views = this.views;
    if (!views) return [];
    const key = (schema: string, name: string) => `${schema}.${name}`.toLowerCase();
    const tables = new Set(this.tables.map((t) => key(t.schema, t.name)));
    if (!this.tables.some((t) => tables.has(key(views.schema, `${views.prefix}${t.alias}`)))) return [];
    const held = this.tables.filter((t) => t.schema.toLowerCase() === views.schema.toLowerCase());
    return [
      {
        at: 'views.prefix',
        says: `${show(views.prefix)} is not allowed`,
        allowed:
          "allowed: a prefix that keeps every union view's name apart from the tables " +
          `(views.schema ${show(views.schema)} holds ${held.map(qualifiedName).join(', ')})`,
      },
    ];
  }

  /**
   * A table is configured once; its alias (its name unless it sets one) names its Glue table, its
   * lake folder, its union view and its ledger rows, so no two tables may share one: two schemas'
   * tables of the same name need an alias.
   */
  uniqueness(): Problem[] {
    const problems: Problem[] = [];
    this.entries.forEach((entry, i) => {
      const { table } = entry;
      const twin = this.entries
        .slice(0, i)
        .find((e) => qualifiedName(e.table).toLowerCase() === qualifiedName(table).toLowerCase());
      if (twin) {
        problems.push(
          this.problem(
            entry,
            [],
            `allowed: a table no other entry names (${this.at(twin)} names it)`,
            `${show(qualifiedName(table))} again is not allowed`,
          ),
        );
        return;
      }
      const other = this.entries
        .slice(0, i)
        .find((e) => e.table.alias.toLowerCase() === table.alias.toLowerCase());
      if (!other) return;
      const set = 'alias' in this.raw(entry);
      const suggestion = `${table.schema}_${table.name}`.toLowerCase();
      problems.push(
        this.problem(
          entry,
          set ? ['alias'] : [],
          `allowed: an alias no other table has (it names the table's Glue table, lake folder, union view and ledger rows): ` +
            `set "alias" on one of them, such as ${show(suggestion)}`,
          `${set ? show(table.alias) : `its name ${show(table.name)}, its alias as it sets none,`} is not allowed: ` +
            `${this.at(other)} is archived as ${show(other.table.alias)} too`,
        ),
      );
    });
    return problems;
  }

  /** The rules of one table: its names' lengths, its columns, how it is archived. */
  table(entry: Entry): Problem[] {
    const { table } = entry;
    const problems: Problem[] = [];
    const prefix = this.views?.prefix ?? '';
    if (Buffer.byteLength(`${prefix}${table.alias}`) > MAX_IDENTIFIER_BYTES) {
      const field = 'alias' in this.raw(entry) ? 'alias' : 'name';
      problems.push(this.problem(entry, [field], 'allowed: views.prefix + alias at most 127 bytes'));
    }
    const columns = new Map<string, ColumnConfig>();
    table.columns.forEach((column, j) => {
      const name = column.name.toLowerCase();
      if (columns.has(name)) {
        problems.push(
          this.problem(entry, ['columns', j, 'name'], 'allowed: a name no other column of the table has'),
        );
      }
      if (name === PARTITION_KEYS.year || name === PARTITION_KEYS.run) {
        problems.push(
          this.problem(
            entry,
            ['columns', j, 'name'],
            `allowed: any name but the partition keys ${PARTITION_KEYS.year} and ${PARTITION_KEYS.run}`,
          ),
        );
      }
      columns.set(name, column);
    });
    return [...problems, ...this.archiveBy(entry, columns)];
  }

  private archiveBy(entry: Entry, columns: ReadonlyMap<string, ColumnConfig>): Problem[] {
    const { table } = entry;
    const by = table.archiveBy;
    if ('column' in by) {
      const column = columns.get(by.column.toLowerCase());
      if (column && isTemporal(column.type)) return [];
      const temporal = table.columns.filter((c) => isTemporal(c.type)).map((c) => c.name);
      return [
        this.problem(
          entry,
          ['archiveBy', 'column'],
          `allowed: a date, timestamp or timestamptz column of the table (${temporal.join(', ') || 'it has none'})`,
        ),
      ];
    }
    const parent = this.parentOf(entry);
    if (!('table' in parent)) return parent.problems;
    return this.keyProblems(entry, parent.table, columns);
  }

  /** The parent a child names, or why it names none. */
  private parentOf(entry: Entry): { table: TableConfig } | { problems: Problem[] } {
    const { table } = entry;
    const ref = (table.archiveBy as ArchiveByParent).parent;
    const parent = findTable(this.tables, ref);
    // every other table of the file, also one with problems of its own
    const others = (this.input.tables as unknown[])
      .filter((_, i) => i !== entry.index)
      .flatMap((t) =>
        isRecord(t) && typeof (t.alias ?? t.name) === 'string' ? [String(t.alias ?? t.name)] : [],
      );
    const allowed = () =>
      `allowed: another configured table, by its alias or as schema.name (${others.join(', ') || 'there is none'})`;
    if (!parent) {
      // The parent may be an entry with problems of its own: one that names itself so (or whose
      // name is itself a problem: it cannot be told what it was meant to be) is not this entry's.
      const failed = (this.input.tables as unknown[]).filter(
        (_, i) => !this.entries.some((e) => e.index === i),
      );
      const meant = failed.some(
        (t) =>
          !isRecord(t) ||
          typeof t.name !== 'string' ||
          !isIdentifier(t.name) ||
          [t.alias, t.name, `${String(t.schema)}.${t.name}`].some(
            (n) => String(n).toLowerCase() === ref.toLowerCase(),
          ),
      );
      return { problems: meant ? [] : [this.problem(entry, ['archiveBy', 'parent'], allowed())] };
    }
    if (parent === table) return { problems: [this.problem(entry, ['archiveBy', 'parent'], allowed())] };
    const named = !ref.includes('.')
      ? this.tables.find((t) => t !== parent && t.name.toLowerCase() === ref.toLowerCase())
      : undefined;
    if (named) {
      return {
        problems: [
          this.problem(
            entry,
            ['archiveBy', 'parent'],
            `allowed: a reference to one table: ${show(ref)} is the alias of ${qualifiedName(parent)} and the name of ` +
              `${qualifiedName(named)} (alias ${show(named.alias)}); write ${show(qualifiedName(parent))} or ${show(named.alias)}`,
          ),
        ],
      };
    }
    return { table: parent };
  }

  /** The foreign key's columns against the parent key's: as many, each a column, each comparable. */
  private keyProblems(
    entry: Entry,
    parent: TableConfig,
    columns: ReadonlyMap<string, ColumnConfig>,
  ): Problem[] {
    const { table } = entry;
    const by = table.archiveBy as ArchiveByParent;
    const raw = this.raw(entry).archiveBy as Record<string, unknown>;
    const path = (field: 'foreignKey' | 'parentKey', k: number) =>
      Array.isArray(raw[field]) ? ['archiveBy', field, k] : ['archiveBy', field];
    const problems: Problem[] = [];
    if (by.foreignKey.length !== by.parentKey.length) {
      problems.push(
        this.problem(
          entry,
          ['archiveBy', 'parentKey'],
          `allowed: as many columns as foreignKey (${by.foreignKey.length}), in the same order`,
        ),
      );
    }
    const once = (keys: readonly string[]) =>
      keys.map((k, i) => keys.findIndex((o) => o.toLowerCase() === k.toLowerCase()) !== i);
    by.foreignKey.forEach((name, k) => {
      const fk = columns.get(name.toLowerCase());
      const pkName = by.parentKey[k];
      const pk =
        pkName === undefined
          ? undefined
          : parent.columns.find((c) => c.name.toLowerCase() === pkName.toLowerCase());
      if (!fk || once(by.foreignKey)[k]) {
        problems.push(
          this.problem(
            entry,
            path('foreignKey', k),
            `allowed: a column of the table, once (${table.columns.map((c) => c.name).join(', ')})`,
          ),
        );
      }
      if (pkName !== undefined && (!pk || once(by.parentKey)[k])) {
        problems.push(
          this.problem(
            entry,
            path('parentKey', k),
            `allowed: a column of table ${qualifiedName(parent)}, once (${parent.columns.map((c) => c.name).join(', ')})`,
          ),
        );
      }
      if (fk && pk && typeFamily(fk.type) !== typeFamily(pk.type)) {
        problems.push(
          this.problem(
            entry,
            path('foreignKey', k),
            `allowed: a column whose type compares with ${qualifiedName(parent)}.${pk.name} (${typeName(pk.type)})`,
            `${show(name)} (${typeName(fk.type)}) is not allowed`,
          ),
        );
      }
    });
    return problems;
  }

  /** Parents without a cycle, and families of at most {@link MAX_FAMILY_TABLES} tables. */
  families(): Problem[] {
    const problems: Problem[] = [];
    const rootOfEntry = new Map<Entry, Entry | undefined>();
    for (const entry of this.entries) {
      const chain: Entry[] = [entry];
      let current: Entry | undefined = entry;
      while (current && 'parent' in current.table.archiveBy) {
        const parent: TableConfig | undefined = findTable(this.tables, current.table.archiveBy.parent);
        current = this.entries.find((e) => e.table === parent);
        if (current && chain.includes(current)) {
          // a cycle is said once, at the first of its tables in the file
          if (current === entry && chain.every((e) => e.index >= entry.index)) {
            const names = [...chain, entry].map((e) => e.table.alias);
            problems.push(
              this.problem(
                entry,
                ['archiveBy', 'parent'],
                'allowed: parents without a cycle',
                `${show(names.join(' -> '))} is not allowed`,
              ),
            );
          }
          current = undefined;
          break;
        }
        if (current) chain.push(current);
      }
      rootOfEntry.set(entry, current);
    }
    for (const root of this.entries.filter((e) => 'column' in e.table.archiveBy)) {
      const size = this.entries.filter((e) => rootOfEntry.get(e) === root).length;
      if (size > MAX_FAMILY_TABLES) {
        problems.push(
          this.problem(
            root,
            [],
            `allowed: at most ${MAX_FAMILY_TABLES} tables per family (a root and its descendants), as its commit is one ` +
              'Data API batch of at most 40 statements',
            `${show(root.table.name)} with ${size - 1} descendant tables is not allowed`,
          ),
        );
      }
    }
    return problems;
  }
}

/**
 * Tables in the order they are staged: every parent before its children. Deletes run in the
 * reverse order, children before parents.
 */
export function archiveOrder(config: ArchiveConfig): TableConfig[] {
  const ordered: TableConfig[] = [];
  const state = new Map<TableConfig, 'visiting' | 'done'>();
  const visit = (table: TableConfig, chain: string[]): void => {
    if (state.get(table) === 'done') return;
    if (state.get(table) === 'visiting') {
      throw new InputError(
        `${tablePath(table, 'archiveBy', 'parent')}: ${show(chain.join(' -> '))} is not allowed; allowed: parents without a cycle`,
      );
    }
    state.set(table, 'visiting');
    if ('parent' in table.archiveBy) {
      const parent = findTable(config.tables, table.archiveBy.parent);
      if (parent) visit(parent, [...chain, parent.alias]);
    }
    state.set(table, 'done');
    ordered.push(table);
  };
  config.tables.forEach((t) => visit(t, [t.alias]));
  return ordered;
}

/** The root table of `table`'s family: the ancestor archived by its own date column. */
export function rootOf(config: ArchiveConfig, table: TableConfig): TableConfig {
  let current = table;
  while ('parent' in current.archiveBy) current = tableNamed(config, current.archiveBy.parent);
  return current;
}

/**
 * The families of the configuration, each a root table and its descendants, parents before
 * children; in the order of their roots in the configuration. A family is archived, one year at
 * a time, as one batch.
 */
export function families(config: ArchiveConfig): TableConfig[][] {
  const ordered = archiveOrder(config);
  return ordered.filter(isRootTable).map((root) => ordered.filter((t) => rootOf(config, t) === root));
}

/**
 * Finds a configured table by its alias (how the ledger, the lake and the catalog name it; its
 * name unless it sets one) or its `schema.name`.
 */
export function tableNamed(config: ArchiveConfig, name: string): TableConfig {
  const table = findTable(config.tables, name);
  if (!table) throw new InputError(`no configured table is named ${show(name)}`);
  return table;
}

/** Finds a column of a table by name. */
export function columnNamed(table: TableConfig, name: string): ColumnConfig {
  const column = table.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
  if (!column) throw new InputError(`table ${show(qualifiedName(table))} has no column ${show(name)}`);
  return column;
}

/**
 * A configuration that is not valid: every problem found in one pass, and the tables that passed
 * their own checks (the command line compares those with the warehouse's catalog in the same
 * pass).
 */
export class ConfigError extends InputError {
  constructor(
    readonly source: string,
    readonly problems: readonly Problem[],
    readonly tables: readonly TableConfig[],
  ) {
    super(configErrorText(source, problems));
  }

  /** The same error with what the warehouse's catalog says of the tables that passed. */
  withCatalog(lines: readonly string[]): InputError {
    if (lines.length === 0) return this;
    return new InputError(
      `${this.message}\n  and the warehouse's catalog says, of the tables above that passed:\n${lines.map((l) => `    ${l}`).join('\n')}`,
    );
  }
}

function configErrorText(source: string, problems: readonly Problem[]): string {
  return `${source}: invalid configuration\n${problemLines(problems)
    .map((p) => `  ${p}`)
    .join('\n')}`;
}

/**
 * Validates a configuration object.
 * @param source - what to call it in messages (usually the file name)
 * @throws ConfigError (an InputError) listing every problem, one per line
 */
export function parseConfig(input: unknown, source = 'config'): ArchiveConfig {
  const { config, problems, tables } = checkConfig(input);
  if (!config) throw new ConfigError(source, problems, tables);
  return config;
}

/** The JSON form of a validated configuration: what {@link parseConfig} reads back unchanged. */
export function configJson(config: ArchiveConfig): string {
  return JSON.stringify({
    ...config,
    views: { ...config.views, readers: config.views.readers.map((r) => `${r.kind} ${r.name}`) },
    // An alias equal to the name, and a key of one column, are written as a file without them
    // says it: the JSON (and the digest) of a configuration from before either existed is unchanged.
    tables: config.tables.map(({ alias, archiveBy, columns, ...t }) => ({
      ...t,
      ...(alias === t.name ? {} : { alias }),
      archiveBy:
        'column' in archiveBy
          ? archiveBy
          : {
              parent: archiveBy.parent,
              foreignKey: oneOrMany(archiveBy.foreignKey),
              parentKey: oneOrMany(archiveBy.parentKey),
            },
      columns: columns.map((c) => ({ name: c.name, type: typeName(c.type) })),
    })),
  });
}

function oneOrMany(key: readonly string[]): string | readonly string[] {
  return key.length === 1 ? key[0] : key;
}

/**
 * A digest of what a configuration means (SHA-256 of {@link configJson}, so a file that spells
 * out a default and one that leaves it out agree): the stack publishes the digest of the
 * configuration it deployed, and the command line refuses to drive the stack with another.
 */
export function configDigest(config: ArchiveConfig): string {
  return createHash('sha256').update(configJson(config)).digest('hex');
}

/**
 * What one deployment's custom resources own in the warehouse, and what an update or a delete must
 * know of the configuration it replaces: the warehouse, the ledger schema (where a long
 * transaction's procedures live), the union views, their readers, the external schema and its
 * Glue database. It travels as a custom-resource property instead of the whole configuration,
 * whose size grows with every column (the handler reads the configuration bundled with its code).
 */
export interface Footprint {
  readonly warehouse: ArchiveConfig['warehouse'];
  readonly ledgerSchema: string;
  readonly viewsSchema: string;
  /** The union views' names in {@link viewsSchema}. */
  readonly views: readonly string[];
  readonly readers: readonly Reader[];
  readonly externalSchema: string;
  readonly glueDatabase: string;
}

const footprintSchema = strict({
  warehouse: configSchema.shape.warehouse,
  ledgerSchema: identifier,
  viewsSchema: identifier,
  views: z.array(identifier),
  // a footprint of an earlier version may name a role reader: only to revoke what it was granted
  readers: z.array(
    z
      .string()
      .refine(
        (s) => /^(user|group|role) [^ ]+$/.test(s) && isIdentifier(s.split(' ')[1]),
        `allowed: "user NAME", "group NAME" or "role NAME", NAME ${IDENTIFIER_RULE}`,
      ),
  ),
  externalSchema: identifier,
  glueDatabase: lowerIdentifier,
});

/** The footprint of a configuration, as JSON (what the stack passes to its custom resources). */
export function footprintJson(config: ArchiveConfig): string {
  return JSON.stringify({
    warehouse: config.warehouse,
    ledgerSchema: config.ledger.schema,
    viewsSchema: config.views.schema,
    views: archiveOrder(config).map((t) => `${config.views.prefix}${t.alias}`),
    readers: config.views.readers.map((r) => `${r.kind} ${r.name}`),
    externalSchema: config.catalog.externalSchema,
    glueDatabase: config.catalog.database,
  });
}

/**
 * Validates a footprint (its names reach SQL); `field` names where it came from.
 * @throws InputError naming each bad value
 */
export function parseFootprint(input: unknown, field: string): Footprint {
  const result = footprintSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => issueProblems(issue, input));
    throw new InputError(
      `${field}: invalid footprint\n${problemLines(problems)
        .map((p) => `  ${p}`)
        .join('\n')}`,
    );
  }
  const { readers, ...rest } = result.data;
  return {
    ...rest,
    readers: readers.map((r) => {
      const [kind, name] = r.split(' ');
      return { kind: kind as Reader['kind'], name };
    }),
  };
}

/**
 * The footprint of a configuration as earlier versions passed it (the whole configuration, as
 * {@link configJson} wrote it), read without today's rules (it may name a role reader).
 */
export function footprintOfConfigJson(json: unknown, field: string): Footprint {
  const c = (json ?? {}) as {
    warehouse?: unknown;
    ledger?: { schema?: unknown };
    views?: { schema?: unknown; prefix?: unknown; readers?: unknown };
    catalog?: { externalSchema?: unknown; database?: unknown };
    tables?: { name?: unknown; alias?: unknown }[];
  };
  const prefix = typeof c.views?.prefix === 'string' ? c.views.prefix : '';
  return parseFootprint(
    {
      warehouse: c.warehouse,
      ledgerSchema: c.ledger?.schema ?? 'archive_meta',
      viewsSchema: c.views?.schema,
      views: Array.isArray(c.tables)
        ? c.tables.map((t) => `${prefix}${String(t?.alias ?? t?.name)}`)
        : undefined,
      readers: c.views?.readers ?? [],
      externalSchema: c.catalog?.externalSchema,
      glueDatabase: c.catalog?.database,
    },
    field,
  );
}

/**
 * Reads and validates a configuration file; `field` names where the path came from (the CLI's
 * `--config`, the CDK context's `config`).
 */
export function loadConfig(file: string, field = 'configuration file'): ArchiveConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(
      `${field}: cannot read ${show(file)} (${(e as NodeJS.ErrnoException).code ?? 'error'}); allowed: a readable JSON file`,
    );
  }
  let json: unknown;
  try {
    // A byte order mark (some editors write one) is no part of the JSON.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseConfig(json, file);
}
