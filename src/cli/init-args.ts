import { warehouseFieldAllowed, type WarehouseConfig } from '../config/config';
import { InputError, show } from '../core/errors';
import { IDENTIFIER_RULE, isIdentifier } from '../core/identifiers';
import type { CatalogScope } from '../sql/dialect';
import type { ParentChoice, TableName } from '../protocol/discover';

/** The options only `init` takes (node:util parseArgs' form). */
export const INIT_OPTIONS = {
  tables: { type: 'string', multiple: true },
  schema: { type: 'string', multiple: true },
  'archive-by': { type: 'string', multiple: true },
  parent: { type: 'string', multiple: true },
  update: { type: 'string' },
  force: { type: 'boolean', default: false },
  cluster: { type: 'string' },
  workgroup: { type: 'string' },
  database: { type: 'string' },
  'db-user': { type: 'string' },
  'secret-arn': { type: 'string' },
} as const;

const CONNECTION =
  '(--cluster <id> (--db-user <user> | --secret-arn <arn>) | --workgroup <name>) --database <db>';
const SCOPE = '(--schema <schema> | --tables <schema.table>[,...])...';
const CHOICES =
  '[--archive-by <schema.table>=<column>]... [--parent <schema.child>=<parent>:<columns>[-><parent columns>]]...';

/** `init`'s usage. */
export const INIT_USAGE = [
  `usage: redshift-archive init --config <file|-> --local <warehouse.duckdb> ${SCOPE} ${CHOICES} [${CONNECTION}] [--force] [--json]`,
  `       redshift-archive init --config <file|-> ${CONNECTION} [--region R] ${SCOPE} ${CHOICES} [--force] [--json]`,
  '       redshift-archive init --update <config> [--config <file|->] (--local <warehouse.duckdb> | [--region R]) [--json]',
  "  write a configuration from the warehouse's own catalog (read-only; on Redshift through the Data API with your",
  '  credentials): each root by its only date or timestamp column or --archive-by, children by declared foreign keys',
  '  or --parent, every table left out said with why; --update adds the columns appended since and reports every other',
  '  difference, keeping your settings. With --local, the connection options only fill the file\'s "warehouse" section',
].join('\n');

/** Where `init` reads the catalog. */
export type InitSource =
  | { readonly kind: 'local'; readonly warehouse: string }
  | { readonly kind: 'redshift'; readonly region?: string };

/** `init`'s command line, validated. */
export interface InitArgs {
  readonly command: 'init';
  /** The file to write; `-` for standard output; undefined with `--update`: the configuration updated. */
  readonly output?: string;
  readonly force: boolean;
  readonly json: boolean;
  readonly source: InitSource;
  /** The file's `warehouse` section, when the command line gives it. */
  readonly warehouse?: WarehouseConfig;
  readonly scope: CatalogScope;
  readonly archiveBy: readonly { readonly table: TableName; readonly column: string }[];
  readonly parents: readonly ParentChoice[];
  /** `--update <config>`: the configuration to bring up to date. */
  readonly update?: string;
}

/** The values of the command line that `init` reads. */
export interface InitValues {
  readonly config?: string;
  readonly local?: string;
  readonly region?: string;
  readonly json?: boolean;
  readonly tables?: string[];
  readonly schema?: string[];
  readonly 'archive-by'?: string[];
  readonly parent?: string[];
  readonly update?: string;
  readonly force?: boolean;
  readonly cluster?: string;
  readonly workgroup?: string;
  readonly database?: string;
  readonly 'db-user'?: string;
  readonly 'secret-arn'?: string;
}

const refuse = (option: string, value: string, allowed: string) =>
  new InputError(`--${option}: ${show(value)} is not allowed; allowed: ${allowed}`);

function identifierOf(option: string, value: string, name: string): string {
  if (!isIdentifier(name)) throw refuse(option, value, `${IDENTIFIER_RULE} (in ${show(name)})`);
  return name;
}

/** `schema.table`, each an identifier. */
function tableOf(option: string, value: string, text: string): TableName {
  const parts = text.split('.');
  if (parts.length !== 2) throw refuse(option, value, 'a table as schema.table');
  return { schema: identifierOf(option, value, parts[0]), name: identifierOf(option, value, parts[1]) };
}

const columnsOf = (option: string, value: string, text: string) =>
  text.split(',').map((c) => identifierOf(option, value, c.trim()));

/** `--parent <schema.child>=<parent>:<fk columns>[-><parent key columns>]`. */
function parentOf(value: string): ParentChoice {
  const match = /^([^=]+)=([^:]+):(.+?)(?:->(.+))?$/.exec(value);
  const form =
    '<schema.child>=<parent or schema.parent>:<columns>[-><parent columns>], columns separated by commas';
  if (!match) throw refuse('parent', value, form);
  const [, child, parent, fk, pk] = match;
  const parentParts = parent.split('.');
  if (parentParts.length > 2) throw refuse('parent', value, form);
  const foreignKey = columnsOf('parent', value, fk);
  const parentKey = pk === undefined ? undefined : columnsOf('parent', value, pk);
  if (parentKey && parentKey.length !== foreignKey.length) {
    throw refuse(
      'parent',
      value,
      `as many parent columns after -> as columns before it (${foreignKey.length})`,
    );
  }
  const parentName = identifierOf('parent', value, parentParts[parentParts.length - 1]);
  return {
    child: tableOf('parent', value, child),
    parent:
      parentParts.length === 2
        ? { schema: identifierOf('parent', value, parentParts[0]), name: parentName }
        : { name: parentName },
    foreignKey,
    ...(parentKey ? { parentKey } : {}),
  };
}

/** `--archive-by <schema.table>=<column>`. */
function archiveByOf(value: string): { table: TableName; column: string } {
  const at = value.indexOf('=');
  if (at < 0) throw refuse('archive-by', value, '<schema.table>=<column>');
  return {
    table: tableOf('archive-by', value, value.slice(0, at)),
    column: identifierOf('archive-by', value, value.slice(at + 1)),
  };
}

/** The same table named twice: the later would silently win. */
function once<T>(
  option: string,
  items: readonly T[],
  key: (item: T) => string,
  text: (item: T) => string,
): void {
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item).toLowerCase();
    if (seen.has(k)) throw refuse(option, text(item), `each table once (${k} is named twice)`);
    seen.add(k);
  }
}

function check(option: string, value: string | undefined, ok: (v: string) => boolean, allowed: string) {
  if (value !== undefined && !ok(value)) throw refuse(option, value, allowed);
}

/** `--cluster`: a provisioned cluster, reached with a database user or a secret. */
function provisionedOf(
  cluster: string,
  database: string,
  dbUser: string | undefined,
  secretArn: string | undefined,
): WarehouseConfig {
  if ((dbUser === undefined) === (secretArn === undefined)) {
    throw new InputError(
      `--db-user: ${dbUser === undefined ? 'is missing' : 'not allowed with --secret-arn'}; allowed with --cluster: exactly one of --db-user or --secret-arn`,
    );
  }
  check(
    'cluster',
    cluster,
    (v) => warehouseFieldAllowed('provisioned', 'clusterIdentifier', v),
    'a cluster identifier: lower-case letters, digits and single hyphens, starting with a letter, at most 63 characters',
  );
  check('database', database, (v) => warehouseFieldAllowed('provisioned', 'database', v), IDENTIFIER_RULE);
  check('db-user', dbUser, (v) => warehouseFieldAllowed('provisioned', 'dbUser', v), IDENTIFIER_RULE);
  check(
    'secret-arn',
    secretArn,
    (v) => warehouseFieldAllowed('provisioned', 'secretArn', v),
    'a Secrets Manager secret ARN',
  );
  return {
    type: 'provisioned',
    clusterIdentifier: cluster,
    database,
    ...(dbUser === undefined ? {} : { dbUser }),
    ...(secretArn === undefined ? {} : { secretArn }),
  };
}

/** Refuses the first of `options` that was given, saying `why`. */
function refuseGiven(options: Record<string, string | undefined>, why: string): void {
  const given = Object.entries(options).find(([, value]) => value !== undefined);
  if (given) throw new InputError(`--${given[0]}: ${why}`);
}

/** The `warehouse` section the connection options give, if they give one. */
function warehouseOf(values: InitValues): WarehouseConfig | undefined {
  const { cluster, workgroup, database } = values;
  const dbUser = values['db-user'];
  const secretArn = values['secret-arn'];
  if (cluster !== undefined && workgroup !== undefined) {
    throw new InputError(
      '--workgroup: not allowed with --cluster; allowed: one warehouse, a cluster or a workgroup',
    );
  }
  if (cluster === undefined && workgroup === undefined) {
    refuseGiven(
      { database, 'db-user': dbUser, 'secret-arn': secretArn },
      'not allowed without --cluster or --workgroup',
    );
    return undefined;
  }
  if (database === undefined)
    throw new InputError('--database: is missing; allowed: the database of the tables');
  if (workgroup !== undefined) {
    refuseGiven(
      { 'db-user': dbUser, 'secret-arn': secretArn },
      'not allowed with --workgroup; allowed with: --cluster (a workgroup is reached as your IAM identity)',
    );
    check(
      'workgroup',
      workgroup,
      (v) => warehouseFieldAllowed('serverless', 'workgroupName', v),
      'a workgroup name: 3 to 64 of a-z, 0-9 and -',
    );
    check('database', database, (v) => warehouseFieldAllowed('serverless', 'database', v), IDENTIFIER_RULE);
    return { type: 'serverless', workgroupName: workgroup, database };
  }
  return provisionedOf(cluster as string, database, dbUser, secretArn);
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The scope and the choices: the tables to read, and how to archive those the catalog leaves open. */
function choicesOf(values: InitValues) {
  const tables = (values.tables ?? []).flatMap((v) =>
    v.split(',').map((t) => tableOf('tables', v, t.trim())),
  );
  const schemas = (values.schema ?? []).map((s) => identifierOf('schema', s, s));
  const archiveBy = (values['archive-by'] ?? []).map(archiveByOf);
  const parents = (values.parent ?? []).map(parentOf);
  once(
    'archive-by',
    archiveBy,
    (a) => `${a.table.schema}.${a.table.name}`,
    (a) => `${a.table.schema}.${a.table.name}=${a.column}`,
  );
  once(
    'parent',
    parents,
    (p) => `${p.child.schema}.${p.child.name}`,
    (p) => `${p.child.schema}.${p.child.name}`,
  );
  for (const p of parents) {
    const child = `${p.child.schema}.${p.child.name}`.toLowerCase();
    const both = archiveBy.find((a) => `${a.table.schema}.${a.table.name}`.toLowerCase() === child);
    if (both)
      throw refuse(
        'parent',
        child,
        `a table archived by a parent or by a column, not both (--archive-by ${child}=${both.column})`,
      );
  }
  if (values.update !== undefined) {
    for (const [option, given] of [
      ['tables', tables.length],
      ['schema', schemas.length],
      ['archive-by', archiveBy.length],
      ['parent', parents.length],
    ] as const) {
      if (given)
        throw new InputError(
          `--${option}: not allowed with --update; allowed: --update reads the tables its configuration names`,
        );
    }
  } else if (tables.length === 0 && schemas.length === 0) {
    throw new InputError(
      '--schema: is missing; allowed: --schema <schema> or --tables <schema.table>[,...], each repeatable',
    );
  }
  return { tables, schemas, archiveBy, parents };
}

/**
 * Reads `init`'s command line.
 * @throws InputError naming the argument, the bad value and what is allowed
 */
export function parseInit(values: InitValues): InitArgs {
  const warehouse = warehouseOf(values);
  const update = values.update;
  if (update === undefined && !values.config) {
    throw new InputError('--config: is missing; allowed: the file to write, or - for standard output');
  }
  if (values.local === '') throw new InputError('--local: is empty; allowed: the path of a DuckDB warehouse');
  if (values.local === undefined && warehouse === undefined && update === undefined) {
    throw new InputError(
      `--local: is missing; allowed: --local <warehouse.duckdb>, or ${CONNECTION} for Redshift`,
    );
  }
  check('region', values.region, (v) => REGION.test(v), 'a Region such as eu-west-1');
  if (values.region !== undefined && values.local !== undefined) {
    throw new InputError(
      '--region: not allowed with --local; allowed with: Redshift (--cluster, --workgroup or --update)',
    );
  }
  const { tables, schemas, archiveBy, parents } = choicesOf(values);
  return {
    command: 'init',
    ...(values.config === undefined ? {} : { output: values.config }),
    force: values.force ?? false,
    json: values.json ?? false,
    source:
      values.local !== undefined
        ? { kind: 'local', warehouse: values.local }
        : { kind: 'redshift', ...(values.region ? { region: values.region } : {}) },
    ...(warehouse ? { warehouse } : {}),
    scope: { schemas, tables },
    archiveBy,
    parents,
    ...(update === undefined ? {} : { update }),
  };
}
