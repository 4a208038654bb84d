import { ArchiveMismatchError, InputError, show } from '../core/errors';
import type { ArchiveSql } from '../sql/statements';
import { type AuditDeps, filesAt, fileProblems, partitionProblems } from './audit';
import type { BatchRecord, LedgerView } from './ledger';
import type { Partition, Row } from './ports';
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
    const holder = await otherLedger(
      deps,
      sql,
      (schema) => sql.committedRunsIn(schema),
      (r) => r.run_id === foreign,
    );
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
 * warehouse archives a configured table, would start a second archive of the same rows.
 */
async function refuseOtherLedger(deps: AuditDeps, sql: ArchiveSql): Promise<void> {
  const configured = new Set(sql.tables.map((t) => lower(t.alias)));
  const other = await otherLedger(
    deps,
    sql,
    (schema) => sql.archivedTablesIn(schema),
    (r) => configured.has(lower(r.table_name)),
  );
  if (!other) return;
  throw new InputError(
    `ledger.schema: ${show(deps.config.ledger.schema)} holds no ledger, but the ledger in schema ${show(other)} ` +
      `archives ${sql.tables.map((t) => t.alias).join(', ')}, the tables of this configuration; allowed: ${show(other)}; ` +
      'nothing was changed',
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

/** The schemas a view's text reads `table` from (as `schema.table`, quoted or not), in lower case. */
function schemasNamed(text: string, table: string): string[] {
  const name = lower(table).replace(/[$]/g, '\\$');
  const found = text.matchAll(new RegExp(`"?([A-Za-z_][\\w$]*)"?\\s*\\.\\s*"?${name}(?=["/\\s),]|$)`, 'gi'));
  return [...new Set([...found].map((m) => lower(m[1])))];
}

/**
 * Another ledger schema of the warehouse (one that holds commit records) whose rows, read by
 * `query`, include one that `wanted` says is this configuration's; a schema it may not read is
 * passed over.
 */
async function otherLedger(
  deps: AuditDeps,
  sql: ArchiveSql,
  query: (schema: string) => string,
  wanted: (row: Row) => boolean,
): Promise<string | undefined> {
  const own = lower(deps.config.ledger.schema);
  const schemas = (await deps.warehouse.query(sql.ledgerSchemasQuery(), 'check.ledgers'))
    .map((r) => String(r.table_schema))
    .filter((s) => lower(s) !== own);
  for (const schema of schemas) {
    const rows = await deps.warehouse.query(query(schema), 'check.ledgers.rows').catch((): Row[] => []);
    if (rows.some(wanted)) return schema;
  }
  return undefined;
}

/** Where the ledger recorded a batch's lake: its location up to the configured prefix. */
function lakeOf(location: string, prefix: string): string {
  const at = location.indexOf(`/${prefix}/`);
  return at < 0 ? location : location.slice(0, at);
}

/**
 * Refuses a lake that lacks the files of a committed batch (count and bytes, as the light audit
 * compares them; a location outside the lake counts as none), then a catalog that does not
 * register a committed batch's partition at its recorded location. Reads only.
 * @throws ArchiveMismatchError naming the lake (and where the ledger records it) or the catalog,
 *   the batches, and what to do
 */
export async function checkArchive(
  deps: AuditDeps,
  sql: ArchiveSql,
  ledger: LedgerView,
  options: { readonly catalog: boolean } = { catalog: true },
): Promise<void> {
  const batches = ordered(
    sql,
    ledger.archived().filter((b) => b.location !== null),
  );
  if (batches.length === 0) return;
  await checkLake(deps, batches);
  if (options.catalog) await checkCatalog(deps, batches);
}

/** Every committed batch's files in the lake, as the ledger recorded them (count and bytes). */
async function checkLake({ lake, config }: AuditDeps, batches: readonly BatchRecord[]): Promise<void> {
  const lacking: string[] = [];
  const elsewhere = new Set<string>();
  for (const b of batches) {
    const location = b.location as string;
    const files = await filesAt(lake, location);
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    if (fileProblems(b, files.length, bytes).length === 0) continue;
    lacking.push(
      `${b.table} ${b.year} (run ${b.runId}): the ledger recorded ${b.files} files of ${b.bytes} bytes under ${location}, ` +
        `the lake holds ${files.length} files of ${bytes} bytes`,
    );
    if (!location.startsWith(`${lake.root}/`)) elsewhere.add(lakeOf(location, config.lake.prefix));
  }
  if (lacking.length === 0) return;
  const roots = [...elsewhere].join(', ');
  throw new ArchiveMismatchError(
    'lake',
    (names) =>
      `${names.subject}: ${lake.root} lacks the files of ${lacking.length} of ${batches.length} committed batches` +
      (roots ? ` (${names.ledger} records them under ${roots})` : '') +
      `; ${named(lacking)}; ` +
      (roots
        ? `allowed: the lake the archive was written to (${roots})`
        : 'put the files back (a versioned bucket keeps their earlier versions; `redshift-archive audit` names every damaged batch)') +
      '; nothing was changed',
  );
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

/** What a repair did to the catalog. */
export interface RepairReport {
  /** The catalog repaired: `the Glue database <name>`, `the catalog file <path>`. */
  readonly catalog: string;
  /** Partitions of committed (or verified, in the unfinished run) batches registered again. */
  readonly registered: number;
  /** Partitions of batches the ledger records as discarded or restored, removed. */
  readonly removed: number;
}

/**
 * Makes the catalog hold what the ledger says, and nothing the ledger says is gone: every
 * committed batch's partition (and those the unfinished run verified) at its recorded location;
 * no partition of a discarded or restored batch. A catalog that cannot be read is set aside and
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
      if (b?.state !== 'discarded' && b?.state !== 'restored') continue;
      await catalog.removePartitions(table.alias, p.runId, p.year);
      removed++;
    }
  }
  return { catalog: catalog.where, registered, removed };
}
