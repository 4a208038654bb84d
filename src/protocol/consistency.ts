import { ArchiveMismatchError, InputError, show } from '../core/errors';
import { tablePrefix } from '../core/lake-layout';
import type { ArchiveSql } from '../sql/statements';
import { type AuditDeps, filesAt, fileProblems, partitionProblems } from './audit';
import type { BatchRecord, LedgerView } from './ledger';
import type { Partition, Row } from './ports';
import type { LostBatch } from './report';
import type { TableConfig } from '../config/config';

/*
 * The ledger is the truth for what the lake and the catalog hold (docs/design.md §5). Before a
 * command writes anything, these reads compare the union views, the lake and the catalog with the
 * ledger, and refuse to go on from a configuration that reads another ledger or catalog than the
 * views do, or from a lake or a catalog that lacks what the ledger says is archived: going on
 * would redefine the views as if the batches were not there (the defects D2, D3 and D7 of
 * reliability-defects.md). `repair` registers every committed batch again from the ledger.
 */

/** At most this many batches are named in a message; the audit names them all. */
const NAMED = 3;

/** The run ids a view's text names as literals: the committed batches it reads (`viewQuery`). */
const RUN_LITERAL = /'(\d{8}T\d{6}Z)'/g;

const lower = (s: unknown) => String(s ?? '').toLowerCase();

/** Batches in the order a person reads them: year, then the tables' archive order. */
function ordered(sql: ArchiveSql, batches: readonly BatchRecord[]): BatchRecord[] {
  const at = (b: BatchRecord) => sql.tables.findIndex((t) => lower(t.alias) === lower(b.table));
  return [...batches].sort((a, b) => a.year - b.year || at(a) - at(b) || a.runId.localeCompare(b.runId));
}

function named(details: readonly string[]): string {
  const more = details.length > NAMED ? `; and ${details.length - NAMED} more` : '';
  return `${details.slice(0, NAMED).join('; ')}${more}`;
}

/**
 * Refuses a configuration whose ledger, external schema or catalog database is not the one the
 * existing union views were built from: the view text names the runs of the committed batches it
 * reads, and the schema it reads them through. Reads only.
 * @param options.database - also compare the catalog database the external schema reads (not
 *   for `repair`, which moves the catalog to the configured one on the embedded engine)
 * @throws InputError naming both values
 */
export async function checkViews(
  deps: AuditDeps,
  sql: ArchiveSql,
  ledger: LedgerView,
  options: { readonly database: boolean },
): Promise<void> {
  const { config, warehouse } = deps;
  const views = await warehouse.query(sql.viewDefinitionsQuery(), 'check.views');
  for (const table of sql.tables) {
    const view = views.find(
      (v) =>
        lower(v.table_schema) === lower(config.views.schema) &&
        lower(v.table_name) === lower(`${config.views.prefix}${table.alias}`),
    );
    await checkView(deps, sql, ledger, table, view?.definition ?? '');
  }
  if (!ledger.exists) await refuseOtherLedger(deps, sql);
  if (options.database) await checkDatabase(deps, sql);
}

/** One union view's text against the ledger (its runs) and the configuration (its external schema). */
async function checkView(
  deps: AuditDeps,
  sql: ArchiveSql,
  ledger: LedgerView,
  table: TableConfig,
  text: string,
): Promise<void> {
  const { config } = deps;
  const runs = [...new Set([...text.matchAll(RUN_LITERAL)].map((m) => m[1]))];
  if (runs.length === 0) return;
  const foreign = runs.find((r) => !ledger.run(r));
  if (foreign) {
    const holder = (
      await otherLedger(
        deps,
        sql,
        (schema) => deps.warehouse.query(sql.committedRunsIn(schema), 'check.ledgers.rows'),
        (r) => r.run_id === foreign,
      )
    )?.schema;
    throw new InputError(
      `ledger.schema: ${show(config.ledger.schema)} holds no run ${foreign}, whose committed batches the union view ` +
        `${sql.viewName(table)} reads (its text names the run); ` +
        (holder
          ? `the ledger in schema ${show(holder)} holds it; allowed: ${show(holder)}`
          : 'no other ledger of this warehouse holds it either; allowed: the schema of the ledger the views were built from') +
        '; nothing was changed',
    );
  }
  const schemas = schemasNamed(text, table.alias).filter(
    (s) => s !== lower(table.schema) && s !== lower(config.ledger.stageSchema),
  );
  if (schemas.length > 0 && !schemas.includes(lower(config.catalog.externalSchema))) {
    throw new InputError(
      `catalog.externalSchema: ${show(config.catalog.externalSchema)} is not the external schema that the union view ` +
        `${sql.viewName(table)} reads its archived rows through (${show(schemas[0])}, named in its text); ` +
        `allowed: ${show(schemas[0])}; nothing was changed`,
    );
  }
}

/**
 * A first command with a `ledger.schema` that holds no ledger, while another ledger of the
 * warehouse archives a configured hot table (the same schema and name), would start a second
 * archive of the same rows. A table of the same name in another schema is another table: another
 * configuration's archive, left alone. Where the other ledger does not record the schema (a ledger
 * that no command of this version has written to yet), it is taken to be the same table: the safe
 * side, and the message says how to make it known.
 */
async function refuseOtherLedger(deps: AuditDeps, sql: ArchiveSql): Promise<void> {
  const key = (schema: unknown, table: unknown) => `${lower(schema)}.${lower(table)}`;
  const configured = new Set(sql.tables.map((t) => key(t.schema, t.alias)));
  const names = new Set(sql.tables.map((t) => lower(t.alias)));
  const same = (r: Row) =>
    r.table_schema === null || r.table_schema === undefined
      ? names.has(lower(r.table_name))
      : configured.has(key(r.table_schema, r.table_name));
  const found = await otherLedger(
    deps,
    sql,
    async (schema) => {
      const columns = await deps.warehouse.query(sql.batchColumnsIn(schema), 'check.ledgers.shape');
      const recorded = columns.some((c) => lower(c.column_name) === 'table_schema');
      return deps.warehouse.query(sql.archivedTablesIn(schema, recorded), 'check.ledgers.rows');
    },
    same,
  );
  if (!found) return;
  const { schema: other, rows } = found;
  const known = sql.tables.filter((t) =>
    rows.some((r) => r.table_schema && same(r) && lower(r.table_name) === lower(t.alias)),
  );
  const unknown = sql.tables.filter((t) =>
    rows.some((r) => !r.table_schema && lower(r.table_name) === lower(t.alias)),
  );
  throw new InputError(
    `ledger.schema: ${show(deps.config.ledger.schema)} holds no ledger, but the ledger in schema ${show(other)} archives ` +
      (known.length
        ? `${known.map((t) => `${t.schema}.${t.name}`).join(', ')}, the tables of this configuration`
        : `tables named ${unknown.map((t) => t.alias).join(', ')} and does not record their schema (it was last ` +
          'written by an earlier version): if they are not the tables of this configuration, a command that writes with ' +
          "that ledger's own configuration (its next run, `redshift-archive repair`, or a deploy of its stack) records it") +
      `; allowed: ${show(other)}; nothing was changed`,
  );
}

/** The external schema must read the configured catalog database (on Redshift: SVV_EXTERNAL_SCHEMAS). */
async function checkDatabase(deps: AuditDeps, sql: ArchiveSql): Promise<void> {
  const { config } = deps;
  const [mapped] = await deps.warehouse.query(sql.externalDatabaseQuery(), 'check.external-schema');
  const database = mapped?.database;
  if (!database || lower(database) === lower(config.catalog.database)) return;
  throw new InputError(
    `catalog.database: ${show(config.catalog.database)} is not the database that the external schema ` +
      `${config.catalog.externalSchema} reads (${show(database)}), through which the union views read the archived rows; ` +
      `allowed: ${show(database)}. To move the catalog, deploy the stack with the new database (the embedded engine: ` +
      '`redshift-archive repair`), which registers every committed batch there; nothing was changed',
  );
}

/** An identifier as a view's text may hold it: quoted (doubled quotes inside) or not. */
const IDENTIFIER = '(?:"(?:[^"]|"")*"|[^\\s."(]+)';

/**
 * A view's text without its own `CREATE [OR REPLACE] VIEW <name> [(columns)] AS` (DuckDB keeps
 * it; Redshift's late-binding views may too): the view's own name is not a relation it reads, and
 * with `views.prefix` "" it is `<views.schema>.<table>`.
 */
function withoutHeader(text: string): string {
  const header = new RegExp(
    `^\\s*CREATE\\s+(?:OR\\s+REPLACE\\s+)?VIEW\\s+${IDENTIFIER}(?:\\s*\\.\\s*${IDENTIFIER})*\\s*(?:\\([^)]*\\)\\s*)?AS\\s`,
    'i',
  );
  return text.replace(header, '');
}

/** The schemas a view's text reads `table` from (as `schema.table`, quoted or not), in lower case. */
function schemasNamed(text: string, table: string): string[] {
  const name = lower(table).replace(/[$]/g, '\\$');
  const found = withoutHeader(text).matchAll(
    new RegExp(`"?([A-Za-z_][\\w$]*)"?\\s*\\.\\s*"?${name}(?=["/\\s),]|$)`, 'gi'),
  );
  return [...new Set([...found].map((m) => lower(m[1])))];
}

/**
 * Another ledger schema of the warehouse (one that holds commit records) whose rows, read by
 * `read`, include one that `wanted` says is this configuration's; a schema it may not read is
 * passed over.
 */
async function otherLedger(
  deps: AuditDeps,
  sql: ArchiveSql,
  read: (schema: string) => Promise<Row[]>,
  wanted: (row: Row) => boolean,
): Promise<{ schema: string; rows: Row[] } | undefined> {
  const own = lower(deps.config.ledger.schema);
  const schemas = (await deps.warehouse.query(sql.ledgerSchemasQuery(), 'check.ledgers'))
    .map((r) => String(r.table_schema))
    .filter((s) => lower(s) !== own);
  for (const schema of schemas) {
    const rows = await read(schema).catch((): Row[] => []);
    if (rows.some(wanted)) return { schema, rows };
  }
  return undefined;
}

/** Where the ledger recorded a batch's lake: its location up to the configured prefix. */
function lakeOf(location: string, prefix: string): string {
  const at = location.indexOf(`/${prefix}/`);
  return at < 0 ? location : location.slice(0, at);
}

/**
 * Refuses, in this order: a lake that lacks the files of a committed batch (count and bytes, as the
 * light audit compares them; a location outside the lake counts as none), when `lake`; a lake
 * that is not the one the unfinished run writes to; a ledger whose batches lie outside this
 * configuration's `<lake>/<lake.prefix>/<table>/` (another configuration's archive, which this one
 * never adopts: registering its partitions would show its rows in these views); then, when
 * `catalog`, a catalog that does not register a committed batch's partition at its recorded
 * location. Reads only; the place check reads nothing but the ledger.
 * @throws ArchiveMismatchError naming the lake (and where the ledger records it) or the catalog,
 *   the batches, and what to do
 * @throws InputError naming `ledger.schema` and `lake.prefix` for another configuration's ledger
 */
export async function checkArchive(
  deps: AuditDeps,
  sql: ArchiveSql,
  ledger: LedgerView,
  options: { readonly lake: boolean; readonly catalog: boolean },
): Promise<void> {
  const batches = ordered(
    sql,
    ledger.archived().filter((b) => b.location !== null),
  );
  const active = ledger.active;
  const unfinished = active
    ? ordered(
        sql,
        ledger.batchesOf(active.runId).filter((b) => !b.committed && b.location !== null),
      )
    : [];
  if (options.lake && batches.length > 0) await checkLake(deps, batches);
  checkRunLake(deps, unfinished);
  checkPlaces(deps, [...batches, ...unfinished]);
  if (options.catalog && batches.length > 0) await checkCatalog(deps, batches);
}

/**
 * The unfinished run's exported batches are in this lake: a resume, or an abort, would otherwise
 * write (and clear) in one lake what the ledger records in another. Reads only the ledger.
 */
function checkRunLake({ lake, config }: AuditDeps, batches: readonly BatchRecord[]): void {
  const elsewhere = batches.filter((b) => !(b.location as string).startsWith(`${lake.root}/`));
  if (elsewhere.length === 0) return;
  const roots = [...new Set(elsewhere.map((b) => lakeOf(b.location as string, config.lake.prefix)))].join(
    ', ',
  );
  const details = elsewhere.map((b) => `${b.table} ${b.year} at ${b.location}`);
  throw new ArchiveMismatchError(
    'lake',
    (names) =>
      `${names.subject}: ${lake.root} is not the lake of the unfinished run ${elsewhere[0].runId}: ${names.ledger} ` +
      `records ${elsewhere.length} of its exported batches under ${roots}; ${named(details)}; ` +
      `allowed: the lake the archive was written to (${roots}); nothing was changed`,
  );
}

/**
 * Every batch the ledger holds in the lake lies under this configuration's
 * `<lake>/<lake.prefix>/<table>/`, where this configuration writes it. One that lies elsewhere
 * was written by another configuration (whose ledger this one was pointed at), or under a prefix
 * since changed. Reads only the ledger.
 */
function checkPlaces({ lake, config }: AuditDeps, batches: readonly BatchRecord[]): void {
  const home = (b: BatchRecord) => `${lake.root}/${tablePrefix(config.lake.prefix, b.table)}`;
  const elsewhere = batches.filter((b) => !(b.location as string).startsWith(home(b)));
  if (elsewhere.length === 0) return;
  const recorded = [
    ...new Set(
      elsewhere.map((b) => {
        const location = b.location as string;
        const at = location.toLowerCase().lastIndexOf(`/${b.table.toLowerCase()}/`);
        return at < 0 ? location : location.slice(0, at);
      }),
    ),
  ];
  const details = elsewhere.map((b) => `${b.table} ${b.year} (run ${b.runId}) at ${b.location}`);
  throw new InputError(
    `ledger.schema: the ledger in schema ${show(config.ledger.schema)} records ${elsewhere.length} batches outside ` +
      `this configuration's lake ${lake.root}/${config.lake.prefix}/<table>/: ${named(details)}; they are the archive of ` +
      'another configuration (or of an earlier lake.prefix), which a configuration never adopts; allowed: a ledger.schema ' +
      `of this configuration's own, or the lake and lake.prefix they were written under (${recorded.join(', ')}); ` +
      'nothing was changed',
  );
}

/** How to get out of a lake that lacks a committed batch's files, when the files cannot come back. */
const ACCEPT_LOST =
  '`redshift-archive repair --accept-lost` (on AWS: {"action": "repair", "acceptLost": true})';

/** A committed batch whose files in the lake differ from what the ledger recorded (count and bytes). */
interface Damaged {
  readonly batch: BatchRecord;
  /** What the lake holds at the batch's location. */
  readonly files: number;
  readonly bytes: number;
  /** How they differ, in the words of the audit. */
  readonly problem: string;
  /** The ledger records it in another lake (`lakeOf` of its location); undefined when in this one. */
  readonly elsewhere?: string;
}

/** The committed batches whose files in the lake are not what the ledger recorded. Reads only. */
async function damaged({ lake, config }: AuditDeps, batches: readonly BatchRecord[]): Promise<Damaged[]> {
  const found: Damaged[] = [];
  for (const b of batches) {
    const location = b.location as string;
    const listed = await filesAt(lake, location);
    const [files, bytes] = [listed.length, listed.reduce((sum, f) => sum + f.bytes, 0)];
    const [problem] = fileProblems(b, files, bytes);
    if (problem === undefined) continue;
    const elsewhere = location.startsWith(`${lake.root}/`) ? undefined : lakeOf(location, config.lake.prefix);
    found.push({ batch: b, files, bytes, problem, ...(elsewhere === undefined ? {} : { elsewhere }) });
  }
  return found;
}

/** One damaged batch as a refusal names it, with its rows when `rows`. */
function lacking({ batch: b, files, bytes }: Damaged, rows: boolean): string {
  return (
    `${b.table} ${b.year} (run ${b.runId}${rows ? `, ${b.rows ?? 0} rows` : ''}): the ledger recorded ${b.files} files ` +
    `of ${b.bytes} bytes under ${b.location}, the lake holds ${files} files of ${bytes} bytes`
  );
}

/**
 * Every committed batch's files in the lake, as the ledger recorded them (count and bytes): a lake
 * that is not the archive's (the ledger records the batches elsewhere) is refused naming it; a
 * lake that lost files, naming the way back and the way out.
 */
async function checkLake(deps: AuditDeps, batches: readonly BatchRecord[]): Promise<void> {
  const found = await damaged(deps, batches);
  if (found.length > 0) throw lakeRefusal(deps, found, batches.length, false);
}

/**
 * The refusal of a lake that lacks the files of the `found` batches (of `total` committed ones);
 * `every` names each of them with its rows, and what `--accept-lost` would record.
 */
function lakeRefusal(
  { lake }: AuditDeps,
  found: readonly Damaged[],
  total: number,
  every: boolean,
): ArchiveMismatchError {
  const details = found.map((d) => lacking(d, every));
  const roots = [...new Set(found.flatMap((d) => d.elsewhere ?? []))].join(', ');
  const rows = found.reduce((sum, d) => sum + (d.batch.rows ?? 0), 0);
  const wayOut = every
    ? 'put the files back (a versioned bucket keeps their earlier versions), or, where they cannot be, run ' +
      `${ACCEPT_LOST}, which records these ${found.length} batches (${rows} rows) as lost: the views and the ` +
      'catalog stop reading them'
    : 'put the files back (a versioned bucket keeps their earlier versions; `redshift-archive audit` names every ' +
      `damaged batch), or, where they cannot be, record their rows as lost: ${ACCEPT_LOST}`;
  return new ArchiveMismatchError(
    'lake',
    (names) =>
      `${names.subject}: ${lake.root} lacks the files of ${found.length} of ${total} committed batches` +
      (roots ? ` (${names.ledger} records them under ${roots})` : '') +
      (every ? `: ${details.join('; ')}; ` : `; ${named(details)}; `) +
      (roots ? `allowed: the lake the archive was written to (${roots})` : wayOut) +
      '; nothing was changed',
  );
}

/**
 * What `repair` may record as lost: the committed batches whose files this lake no longer holds
 * as the ledger recorded them. Refuses a lake that is not the archive's (a wrong lake never makes
 * a batch lost), and, unless `acceptLost`, any damage, naming every damaged batch and its rows.
 * Reads only.
 */
export async function lostBatches(
  deps: AuditDeps,
  sql: ArchiveSql,
  ledger: LedgerView,
  acceptLost: boolean,
): Promise<LostBatch[]> {
  const batches = ordered(
    sql,
    ledger.archived().filter((b) => b.location !== null),
  );
  const found = await damaged(deps, batches);
  if (found.length === 0) return [];
  if (!acceptLost || found.some((d) => d.elsewhere !== undefined))
    throw lakeRefusal(deps, found, batches.length, true);
  return found.map(({ batch: b, problem }) => ({
    runId: b.runId,
    table: b.table,
    year: b.year,
    rows: b.rows ?? 0,
    reason: `recorded lost by repair --accept-lost: ${problem}`,
  }));
}

/** Every committed batch's partition in the catalog, at the location the ledger recorded. */
async function checkCatalog({ catalog }: AuditDeps, batches: readonly BatchRecord[]): Promise<void> {
  const unregistered: string[] = [];
  const registered = new Map<string, Partition[]>();
  for (const b of batches) {
    const key = lower(b.table);
    if (!registered.has(key)) registered.set(key, await catalog.partitions(b.table));
    const [problem] = partitionProblems(b, registered.get(key) as Partition[]);
    if (problem === undefined) continue;
    const elsewhere = "the catalog's partition points at ";
    const other = problem.startsWith(elsewhere)
      ? ` (the catalog registers it at ${problem.slice(elsewhere.length).split(';')[0]})`
      : '';
    unregistered.push(`${b.table} ${b.year} (run ${b.runId}) at ${b.location}${other}`);
  }
  if (unregistered.length === 0) return;
  throw new ArchiveMismatchError(
    'catalog',
    (names) =>
      `${names.subject}: ${catalog.where} lacks the partitions of ${unregistered.length} of ${batches.length} committed ` +
      `batches: ${named(unregistered)}; run \`redshift-archive repair\`, which registers every committed batch again ` +
      'at the location the ledger records; nothing was changed',
  );
}

/** What a repair did to the ledger and the catalog. */
export interface RepairReport {
  /** The catalog repaired: `the Glue database <name>`, `the catalog file <path>`. */
  readonly catalog: string;
  /** Partitions of committed (or verified, in the unfinished run) batches registered again. */
  readonly registered: number;
  /** Partitions of batches the ledger records as discarded, restored or lost, removed. */
  readonly removed: number;
  /** Batches this repair recorded as lost (`--accept-lost`), each with its rows. */
  readonly lost: readonly LostBatch[];
}

/**
 * Makes the catalog hold what the ledger says, and nothing the ledger says is gone: every
 * committed batch's partition (and those the unfinished run verified) at its recorded location;
 * no partition of a discarded, restored or lost batch. A catalog that cannot be read is set aside and
 * rebuilt. What it does not know the ledger for (another tool's partitions) it leaves alone.
 */
export async function repairCatalog(
  deps: AuditDeps,
  sql: ArchiveSql,
  ledger: LedgerView,
): Promise<RepairReport> {
  const { catalog } = deps;
  const active = ledger.active?.runId;
  let registered = 0;
  let removed = 0;
  for (const table of sql.tables) {
    let partitions: Partition[];
    try {
      partitions = await catalog.partitions(table.alias);
    } catch (error) {
      if (!(error instanceof ArchiveMismatchError) || !catalog.recreate) throw error;
      await catalog.recreate();
      partitions = [];
    }
    await catalog.ensureTable(table.alias);
    const wanted = ledger
      .batchesOf(active ?? '', table.alias)
      .filter((b) => !b.committed && b.state === 'verified' && (b.rows ?? 0) > 0)
      .concat(ledger.archived(table.alias))
      .filter((b) => b.location !== null);
    const trimmed = (location: string) => location.replace(/\/+$/, '');
    for (const b of wanted) {
      const found = partitions.find((p) => p.runId === b.runId && p.year === b.year);
      if (found && trimmed(found.location) === trimmed(b.location as string)) continue;
      if (found) await catalog.removePartitions(table.alias, b.runId, b.year);
      await catalog.addPartition(table.alias, {
        year: b.year,
        runId: b.runId,
        location: b.location as string,
      });
      registered++;
    }
    for (const p of partitions) {
      const b = ledger.batch(p.runId, table.alias, p.year);
      if (b?.state !== 'discarded' && b?.state !== 'restored' && b?.state !== 'lost') continue;
      await catalog.removePartitions(table.alias, p.runId, p.year);
      removed++;
    }
  }
  return { catalog: catalog.where, registered, removed, lost: [] };
}
