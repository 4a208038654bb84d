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
import type { ArchiveByColumn, ArchiveConfig, ColumnConfig, Reader, TableConfig } from './types';

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

const s3Prefix = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/)
  .max(512);

const tableSchema = strict({
  schema: identifier,
  name: identifier,
  archiveBy: z.union([
    strict({ column: identifier }),
    strict({ parent: identifier, foreignKey: identifier, parentKey: identifier }),
  ]),
  columns: z.array(strict({ name: identifier, type: columnType })).min(1),
});

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

const HUMAN_ALLOWED: Record<string, string> = {
  cluster: 'allowed: a cluster identifier (lower-case letters, digits and single hyphens, at most 63)',
  workgroup: 'allowed: a workgroup name (3 to 64 lower-case letters, digits or hyphens)',
  prefix: 'allowed: an S3 key prefix of letters, digits, . _ - separated by /, no leading or trailing /',
  role: 'allowed: an IAM role ARN (arn:aws:iam::<account>:role/<name>) already associated with the cluster or namespace',
};

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => `${formatPath([...issue.path, key])}: unknown key; ${issue.message}`)
      .join('\n');
  }
  const path = formatPath(issue.path) || '(top level)';
  const value = valueAt(input, issue.path);
  const what = value === undefined ? 'is missing' : `${show(value)} is not allowed`;
  let allowed = issue.message;
  if (!allowed.startsWith('allowed')) {
    const described = schemaDescription(issue);
    allowed = described ?? `allowed: ${allowedFromZod(issue)}`;
  }
  return `${path}: ${what}; ${allowed}`;
}

function schemaDescription(issue: z.core.$ZodIssue): string | undefined {
  const last = issue.path[issue.path.length - 1];
  if (issue.code === 'invalid_format' || issue.code === 'too_big') {
    if (last === 'clusterIdentifier') return HUMAN_ALLOWED.cluster;
    if (last === 'workgroupName') return HUMAN_ALLOWED.workgroup;
    if (last === 'prefix' || last === 'reportsPrefix') return HUMAN_ALLOWED.prefix;
    if (last === 'roleArn') return HUMAN_ALLOWED.role;
  }
  return undefined;
}

function allowedFromZod(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'array'
        ? 'a list'
        : issue.expected === 'int'
          ? 'a whole number'
          : `a ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'array' ? `a list of at least ${issue.minimum}` : `at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `a list of at most ${issue.maximum}` : `at most ${issue.maximum}`;
    case 'invalid_value':
      return issue.values.map((v) => show(v)).join(' or ');
    case 'invalid_format':
      return `a value matching ${'pattern' in issue ? String(issue.pattern) : issue.format}`;
    case 'invalid_union':
      return 'either {"column": ...} or {"parent": ..., "foreignKey": ..., "parentKey": ...}';
    default:
      return issue.message;
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Cross-field rules that a schema of single fields cannot say. */
function crossFieldProblems(config: Parsed): string[] {
  const problems = [
    ...warehouseProblems(config.warehouse),
    ...viewNameProblems(config),
    ...config.tables.flatMap((table, i) => tableProblems(config, table, i)),
  ];
  // Families are only meaningful once every parent reference resolves.
  return problems.length > 0 ? problems : familyProblems(config);
}

function warehouseProblems(w: Parsed['warehouse']): string[] {
  if (w.type === 'provisioned' && (w.dbUser === undefined) === (w.secretArn === undefined)) {
    return [
      `warehouse: ${show({ dbUser: w.dbUser, secretArn: w.secretArn })} is not allowed; allowed: exactly one of dbUser or secretArn`,
    ];
  }
  return [];
}

/** A union view may not take the name of a configured table: replacing it would fail, or worse. */
function viewNameProblems(config: Parsed): string[] {
  const key = (schema: string, name: string) => `${schema}.${name}`.toLowerCase();
  const tables = new Set(config.tables.map((t) => key(t.schema, t.name)));
  if (!config.tables.some((t) => tables.has(key(config.views.schema, `${config.views.prefix}${t.name}`))))
    return [];
  const held = config.tables.filter((t) => t.schema.toLowerCase() === config.views.schema.toLowerCase());
  return [
    `views.prefix: ${show(config.views.prefix)} is not allowed; allowed: a prefix that keeps every union view's name apart from ` +
      `the tables (views.schema ${show(config.views.schema)} holds ${held.map((t) => `${t.schema}.${t.name}`).join(', ')})`,
  ];
}

function tableProblems(config: Parsed, table: Parsed['tables'][number], i: number): string[] {
  const at = `tables[${i}]`;
  const problems: string[] = [];
  const key = table.name.toLowerCase();
  if (config.tables.findIndex((t) => t.name.toLowerCase() === key) < i) {
    problems.push(`${at}.name: ${show(table.name)} is not allowed; allowed: a name no other table has`);
  }
  if (Buffer.byteLength(`${config.views.prefix}${table.name}`) > MAX_IDENTIFIER_BYTES) {
    problems.push(
      `${at}.name: ${show(table.name)} is not allowed; allowed: views.prefix + name at most 127 bytes`,
    );
  }
  const columns = new Map<string, ColumnConfig>();
  table.columns.forEach((column, j) => {
    const name = column.name.toLowerCase();
    if (columns.has(name)) {
      problems.push(
        `${at}.columns[${j}].name: ${show(column.name)} is not allowed; allowed: a name no other column of the table has`,
      );
    }
    if (name === PARTITION_KEYS.year || name === PARTITION_KEYS.run) {
      problems.push(
        `${at}.columns[${j}].name: ${show(column.name)} is not allowed; allowed: any name but the partition keys ` +
          `${PARTITION_KEYS.year} and ${PARTITION_KEYS.run}`,
      );
    }
    columns.set(name, column);
  });
  return [...problems, ...archiveByProblems(config, table, at, columns)];
}

function archiveByProblems(
  config: Parsed,
  table: Parsed['tables'][number],
  at: string,
  columns: ReadonlyMap<string, ColumnConfig>,
): string[] {
  const by = table.archiveBy;
  if ('column' in by) {
    const column = columns.get(by.column.toLowerCase());
    if (column && isTemporal(column.type)) return [];
    const temporal = table.columns.filter((c) => isTemporal(c.type)).map((c) => c.name);
    return [
      `${at}.archiveBy.column: ${show(by.column)} is not allowed; allowed: a date, timestamp or timestamptz ` +
        `column of the table (${temporal.join(', ') || 'it has none'})`,
    ];
  }
  const parent = config.tables.find((t) => t.name.toLowerCase() === by.parent.toLowerCase());
  if (!parent || parent === table) {
    const others = config.tables.filter((t) => t !== table).map((t) => t.name);
    return [
      `${at}.archiveBy.parent: ${show(by.parent)} is not allowed; allowed: another configured table (${others.join(', ') || 'there is none'})`,
    ];
  }
  const problems: string[] = [];
  const fk = columns.get(by.foreignKey.toLowerCase());
  const pk = parent.columns.find((c) => c.name.toLowerCase() === by.parentKey.toLowerCase());
  if (!fk) {
    problems.push(
      `${at}.archiveBy.foreignKey: ${show(by.foreignKey)} is not allowed; allowed: a column of the table ` +
        `(${table.columns.map((c) => c.name).join(', ')})`,
    );
  }
  if (!pk) {
    problems.push(
      `${at}.archiveBy.parentKey: ${show(by.parentKey)} is not allowed; allowed: a column of table ` +
        `${show(parent.name)} (${parent.columns.map((c) => c.name).join(', ')})`,
    );
  }
  if (fk && pk && typeFamily(fk.type) !== typeFamily(pk.type)) {
    problems.push(
      `${at}.archiveBy.foreignKey: ${show(by.foreignKey)} (${typeName(fk.type)}) is not allowed; allowed: a column ` +
        `whose type compares with ${show(parent.name)}.${pk.name} (${typeName(pk.type)})`,
    );
  }
  return problems;
}

function familyProblems(config: Parsed): string[] {
  try {
    return families(config)
      .filter((family) => family.length > MAX_FAMILY_TABLES)
      .map(
        (family) =>
          `tables[${config.tables.indexOf(family[0])}]: ${show(family[0].name)} with ${family.length - 1} descendant tables is not allowed; ` +
          `allowed: at most ${MAX_FAMILY_TABLES} tables per family (a root and its descendants), ` +
          'as its commit is one Data API batch of at most 40 statements',
      );
  } catch (e) {
    return [(e as Error).message];
  }
}

/**
 * Tables in the order they are staged: every parent before its children. Deletes run in the
 * reverse order, children before parents.
 */
export function archiveOrder(config: ArchiveConfig): TableConfig[] {
  const byName = new Map(config.tables.map((t) => [t.name.toLowerCase(), t]));
  const ordered: TableConfig[] = [];
  const state = new Map<TableConfig, 'visiting' | 'done'>();
  const visit = (table: TableConfig, chain: string[]): void => {
    if (state.get(table) === 'done') return;
    if (state.get(table) === 'visiting') {
      const i = config.tables.indexOf(table);
      throw new InputError(
        `tables[${i}].archiveBy.parent: ${show(chain.join(' -> '))} is not allowed; allowed: parents without a cycle`,
      );
    }
    state.set(table, 'visiting');
    if ('parent' in table.archiveBy) {
      const parent = byName.get(table.archiveBy.parent.toLowerCase());
      if (parent) visit(parent, [...chain, parent.name]);
    }
    state.set(table, 'done');
    ordered.push(table);
  };
  config.tables.forEach((t) => visit(t, [t.name]));
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

/** Finds a configured table by name (names are unique, case-insensitively). */
export function tableNamed(config: ArchiveConfig, name: string): TableConfig {
  const table = config.tables.find((t) => t.name.toLowerCase() === name.toLowerCase());
  if (!table) throw new InputError(`no configured table is named ${show(name)}`);
  return table;
}

/** Finds a column of a table by name. */
export function columnNamed(table: TableConfig, name: string): ColumnConfig {
  const column = table.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
  if (!column) throw new InputError(`table ${show(table.name)} has no column ${show(name)}`);
  return column;
}

/**
 * Validates a configuration object.
 * @param source - what to call it in messages (usually the file name)
 * @throws InputError listing every problem, one per line
 */
export function parseConfig(input: unknown, source = 'config'): ArchiveConfig {
  const result = configSchema.safeParse(input);
  const problems = result.success
    ? crossFieldProblems(result.data)
    : result.error.issues.map((issue) => describeIssue(issue, input));
  if (problems.length > 0) {
    throw new InputError(`${source}: invalid configuration\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return (result as { data: ArchiveConfig }).data;
}

/** The JSON form of a validated configuration: what {@link parseConfig} reads back unchanged. */
export function configJson(config: ArchiveConfig): string {
  return JSON.stringify({
    ...config,
    views: { ...config.views, readers: config.views.readers.map((r) => `${r.kind} ${r.name}`) },
    tables: config.tables.map((t) => ({
      ...t,
      columns: t.columns.map((c) => ({ name: c.name, type: typeName(c.type) })),
    })),
  });
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
    views: archiveOrder(config).map((t) => `${config.views.prefix}${t.name}`),
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
    const problems = result.error.issues.map((issue) => describeIssue(issue, input));
    throw new InputError(`${field}: invalid footprint\n${problems.map((p) => `  ${p}`).join('\n')}`);
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
    tables?: { name?: unknown }[];
  };
  const prefix = typeof c.views?.prefix === 'string' ? c.views.prefix : '';
  return parseFootprint(
    {
      warehouse: c.warehouse,
      ledgerSchema: c.ledger?.schema ?? 'archive_meta',
      viewsSchema: c.views?.schema,
      views: Array.isArray(c.tables) ? c.tables.map((t) => `${prefix}${String(t?.name)}`) : undefined,
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
