import { firstLine } from '../core/errors';
import { startOfDayUtc, yearIn, type CalendarDate } from '../core/cutoff';
import { tablePath, type ArchiveConfig, type TableConfig } from '../config/config';
import { travelType } from '../core/column-types';
import { glueColumns } from '../core/glue-schema';
import { quoteReportedName } from '../sql/identifiers';
import { LEDGER_UPGRADES, type ArchiveSql } from '../sql/statements';
import { inspectLedger, type LedgerShape } from './ledger';
import type { Catalog, Warehouse } from './ports';
import { schemaDifferences } from './schema-guard';

/** One read-only check of what the next run will need, and what to change when it fails. */
export interface PreflightCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  /** The exact change that makes the check pass (a GRANT to run, a setting to change). */
  readonly fix?: string;
  /** The check could not run yet (`detail` says why); it passes, and another check names the cause. */
  readonly skipped?: true;
}

/** The answer to "would the next run work, and if not, what must I change?". */
export interface PreflightReport {
  readonly ok: boolean;
  readonly checks: readonly PreflightCheck[];
}

/** Checks that only a deployment on AWS can make (role association, concurrency, the bucket). */
export type ExtraChecks = () => Promise<PreflightCheck[]>;

/**
 * Runs every check, read only, and reports each: the configured columns against the warehouse's
 * own catalog; the commit's checksum with its column guard on every table (so an engine that
 * refuses a type or the guard's SQL fails here, not in December); the external tables; that the
 * warehouse reads an external table inside a transaction, as restore does; what the database
 * identity may do (the dialect's probes: none where the engine has no users); and the engine's
 * own extra checks. Nothing it sends writes.
 */
export async function preflight(
  deps: PreflightDeps,
  sql: ArchiveSql,
  extra?: ExtraChecks,
): Promise<PreflightReport> {
  const differences = await schemaDifferences(deps.config, deps.warehouse, sql);
  const shape = await inspectLedger(deps.warehouse, sql);
  // The embedded engine's first run sets up what a deploy sets up on AWS: not there yet is fine.
  const fresh = !shape.exists && deps.setUpByFirstRun === true;
  const tables = await tableChecks(deps, sql, differences);
  const catalog = await catalogChecks(deps, sql, fresh);
  const passed = new Set([...tables, ...catalog].filter((c) => c.ok && !c.skipped).map((c) => c.check));
  const readable = sql.tables.find((t) => passed.has(hashCheck(t)) && passed.has(externalCheck(t)));
  const checks = [
    columnsCheck(differences),
    ledgerCheck(deps, sql, shape),
    await timeZoneCheck(deps, sql),
    ...(await textChecks(deps, sql, tables)),
    ...tables,
    ...catalog,
    await restoreReadCheck(deps.warehouse, sql, readable),
    await viewColumnsCheck(deps.warehouse, sql),
    ...(await accessChecks(deps.warehouse, sql)),
    ...(extra ? await extra() : []),
  ];
  return { ok: checks.every((c) => c.ok), checks };
}

const hashCheck = (table: TableConfig) => `row hash ${table.schema}.${table.name}`;
const externalCheck = (table: TableConfig) => `external table ${table.alias}`;

type PreflightDeps = {
  readonly config: ArchiveConfig;
  readonly warehouse: Warehouse;
  /** Preflight only reads what the catalog declares. */
  readonly catalog: Pick<Catalog, 'tableColumns' | 'where'>;
  /** The first run sets up the ledger, the catalog's tables and the views (the embedded engine). */
  readonly setUpByFirstRun?: boolean;
};

/** Whether the ledger is there with this version's columns, or what the first run or the next one adds. */
function ledgerCheck(deps: PreflightDeps, sql: ArchiveSql, shape: LedgerShape): PreflightCheck {
  const schema = deps.config.ledger.schema;
  if (!shape.exists) {
    return deps.setUpByFirstRun
      ? {
          check: 'ledger',
          ok: true,
          detail: `not set up yet; the first run creates schema ${schema} with the ledger tables ${sql.ledgerTables.join(', ')}`,
        }
      : {
          check: 'ledger',
          ok: false,
          detail: `schema ${schema} holds no ledger`,
          fix: 'deploy the stack with this configuration (its setup creates the ledger)',
        };
  }
  const tables = sql.ledgerTables.filter((t) => !shape.hasTable(t));
  const added = LEDGER_UPGRADES.filter((u) => !shape.has(u.table, u.column)).length;
  const adds = [
    tables.length ? `the tables ${tables.join(', ')}` : '',
    added ? `its ${added} new columns` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return {
    check: 'ledger',
    ok: true,
    detail: adds
      ? `the ledger in schema ${schema} is of an earlier version; the next command that writes adds ${adds}`
      : `the ledger in schema ${schema} has this version's tables and columns`,
  };
}

async function attempt(
  check: string,
  detail: string,
  run: () => Promise<unknown>,
  fix: string,
): Promise<PreflightCheck> {
  try {
    await run();
    return { check, ok: true, detail };
  } catch (error) {
    return { check, ok: false, detail: firstLine(error), fix };
  }
}

function columnsCheck(differences: readonly string[]): PreflightCheck {
  return differences.length === 0
    ? { check: 'columns', ok: true, detail: 'every configured table has exactly the configured columns' }
    : {
        check: 'columns',
        ok: false,
        detail: differences.join('; '),
        fix: 'make the configuration list every column of each table, in its order, with its type (or change the table)',
      };
}

/** The commit's checksum, with its column guard, on every table that exists. */
async function tableChecks(
  { warehouse }: PreflightDeps,
  sql: ArchiveSql,
  differences: readonly string[],
): Promise<PreflightCheck[]> {
  const missing = new Set(
    differences.filter((d) => d.includes('does not exist')).map((d) => d.split(':')[0]),
  );
  const checks: PreflightCheck[] = [];
  for (const [i, table] of sql.tables.entries()) {
    if (missing.has(tablePath(table))) continue;
    checks.push(
      await attempt(
        hashCheck(table),
        "the commit's checksum and column guard work on every configured type",
        () => warehouse.query(sql.hashProbeQuery(table), `preflight.hash.${i}`),
        'make the configuration match the table (see the columns check); if it does, leave out of the ' +
          'configuration a table with a column type the engine cannot hash (and say so in an issue)',
      ),
    );
  }
  return checks;
}

/** The catalog declares the configured columns, and the warehouse reads each external table. */
async function catalogChecks(
  { warehouse, catalog, config, setUpByFirstRun }: PreflightDeps,
  sql: ArchiveSql,
  fresh: boolean,
): Promise<PreflightCheck[]> {
  const checks: PreflightCheck[] = [];
  for (const table of sql.tables) {
    const check = `catalog ${table.alias}`;
    const declared = await catalog.tableColumns(table.alias).catch((error: unknown) => firstLine(error));
    const fix = setUpByFirstRun
      ? 'run `redshift-archive repair` (it defines the catalog tables and registers every committed batch from the ledger)'
      : 'deploy the stack with this configuration (it defines the catalog tables)';
    if (fresh && declared === undefined) {
      const external = `${config.catalog.externalSchema}.${table.alias.toLowerCase()}`;
      const view = `${config.views.schema}.${config.views.prefix}${table.alias}`;
      checks.push({
        check,
        ok: true,
        detail: `not set up yet; the first run defines the catalog table ${table.alias.toLowerCase()} in ${catalog.where}, the external table ${external} and the union view ${view}`,
      });
      checks.push({
        check: externalCheck(table),
        ok: true,
        skipped: true,
        detail: 'skipped: not set up yet (see above)',
      });
      continue;
    }
    if (typeof declared === 'string') {
      checks.push({ check, ok: false, detail: declared, fix });
    } else if (declared === undefined) {
      checks.push({ check, ok: false, detail: `the catalog has no table ${table.alias.toLowerCase()}`, fix });
    } else if (JSON.stringify(declared) !== JSON.stringify(glueColumns(table))) {
      const detail = `the catalog declares ${declared.map((c) => `${c.name} ${c.type}`).join(', ')}`;
      checks.push({ check, ok: false, detail, fix });
    } else {
      checks.push({ check, ok: true, detail: 'the catalog declares the configured columns' });
    }
    checks.push(
      await attempt(
        externalCheck(table),
        'the warehouse reads the external table',
        () => warehouse.query(sql.externalProbeQuery(table), `preflight.external.${table.alias}`),
        'deploy the stack (it creates the external schema over the catalog), and let the role that Redshift assumes read the catalog',
      ),
    );
  }
  return checks;
}

/**
 * Redshift takes `retention.timeZone` from its own copy of the IANA database (DG "AT TIME ZONE":
 * `select pg_timezone_names()`), whose version AWS does not state; Node computes every year's
 * bounds from its own. So the warehouse is asked the plan's own expression at this year's new
 * year in the zone, and one second before: an unknown zone fails, and other rules show.
 */
async function timeZoneCheck({ config, warehouse }: PreflightDeps, sql: ArchiveSql): Promise<PreflightCheck> {
  const check = `time zone ${config.retention.timeZone}`;
  const zone = config.retention.timeZone;
  const year = yearIn(new Date(), zone);
  const instant = `${startOfDayUtc(`${year}-01-01` as CalendarDate, zone)} UTC`;
  const fix =
    'choose a zone the warehouse lists (select pg_timezone_names()), or report the difference in an issue';
  try {
    const [row] = await warehouse.query(sql.timeZoneProbeQuery(year), 'preflight.time-zone');
    const found = [row?.at_new_year, row?.before_new_year].map(Number);
    if (found[0] === year && found[1] === year - 1) {
      return {
        check,
        ok: true,
        detail: `the warehouse puts new year ${year} in ${zone} at ${instant}, as the run's bounds do`,
      };
    }
    return {
      check,
      ok: false,
      detail: `the warehouse puts ${instant} in year ${found[0]} and the second before in ${found[1]}: its rules for ${zone} differ from the run's bounds (${year} and ${year - 1})`,
      fix,
    };
  } catch (error) {
    return { check, ok: false, detail: firstLine(error), fix };
  }
}

const TEXT_TYPES = 'types that travel as text';

/**
 * TIME, TIMETZ, VARBYTE and SUPER travel as text (docs/design.md §7, "Column types"): how Redshift
 * writes their text, and whether its cast gives the value back, the documentation does not say in
 * full, so the warehouse is asked with a value of each such type the configuration holds, at the
 * edge of its range. Then each table's largest SUPER text must fit what Spectrum reads whole
 * (it truncates a longer one silently). Both only read.
 */
async function textChecks(
  { warehouse }: PreflightDeps,
  sql: ArchiveSql,
  tables: readonly PreflightCheck[],
): Promise<PreflightCheck[]> {
  const probe = sql.textProbe();
  if (!probe) return [];
  const failed = new Set(tables.filter((c) => !c.ok).map((c) => c.check));
  const sizes: PreflightCheck[] = [];
  for (const table of sql.tables.filter((t) => !failed.has(hashCheck(t)))) {
    const check = await superSizeCheck(warehouse, sql, table);
    if (check) sizes.push(check);
  }
  return [await textRoundTripCheck(warehouse, probe), ...sizes];
}

const TEXT_FIX =
  'report this in an issue with the detail, and leave the table out of the configuration until then';

/** The round trip of each type that travels as text, at the edge of its range. */
async function textRoundTripCheck(
  warehouse: Warehouse,
  probe: NonNullable<ReturnType<ArchiveSql['textProbe']>>,
): Promise<PreflightCheck> {
  try {
    const [row] = await warehouse.query(probe.sql, 'preflight.types');
    const kinds = Object.keys(probe.most);
    const wrong = kinds.filter(
      (k) => row?.[`${k}_back`] !== '1' || !(Number(row?.[`${k}_bytes`]) <= probe.most[k]),
    );
    if (wrong.length === 0) {
      const detail = `${kinds.join(', ')}: the text each travels as casts back to the value, and fits its column`;
      return { check: TEXT_TYPES, ok: true, detail };
    }
    const what = (k: string) =>
      `${k} (${row?.[`${k}_back`] === '1' ? 'casts back' : 'does not cast back'}, ${row?.[`${k}_bytes`]} bytes of at most ${probe.most[k]})`;
    return {
      check: TEXT_TYPES,
      ok: false,
      detail: `${wrong.map(what).join(', ')}: its text does not give the value back, or is longer than its column`,
      fix: TEXT_FIX,
    };
  } catch (error) {
    return { check: TEXT_TYPES, ok: false, detail: firstLine(error), fix: TEXT_FIX };
  }
}

/** A table's largest SUPER text against what Spectrum reads whole; undefined without a SUPER column. */
async function superSizeCheck(
  warehouse: Warehouse,
  sql: ArchiveSql,
  table: TableConfig,
): Promise<PreflightCheck | undefined> {
  const query = sql.textSizeQuery(table);
  if (!query) return undefined;
  const check = `super size ${table.schema}.${table.name}`;
  try {
    const [row] = await warehouse.query(query, `preflight.super.${table.alias}`);
    const over = table.columns.flatMap((c, i) => {
      const bytes = Number(row?.[`c${i}`] ?? 0);
      const most = (travelType(c.type) as { length?: number }).length ?? 0;
      return c.type.kind === 'super' && bytes > most ? [`${c.name} (${bytes} bytes)`] : [];
    });
    return over.length === 0
      ? {
          check,
          ok: true,
          detail: 'the largest SUPER value fits what Spectrum reads whole (65535 bytes of JSON)',
        }
      : {
          check,
          ok: false,
          detail: `${over.join(', ')}: longer than the 65535 bytes of JSON Spectrum reads (it would truncate them silently, and the batch would never pass its check)`,
          fix: `make these values smaller, or leave ${table.schema}.${table.name} and its descendants out of the configuration: they stay hot`,
        };
  } catch (error) {
    return { check, ok: false, detail: firstLine(error), fix: TEXT_FIX };
  }
}

const VIEW_COLUMNS = 'union view columns';

/**
 * How the warehouse's catalog spells the union views' column types is not documented for
 * late-binding views (DG SVV_COLUMNS): preflight reads them, says which spelling it found, and
 * fails if the dialect cannot read one (a deployment would then re-create the view, losing its
 * grants, every time).
 */
async function viewColumnsCheck(warehouse: Warehouse, sql: ArchiveSql): Promise<PreflightCheck> {
  try {
    const rows = await warehouse.query(sql.catalogQuery('views'), 'preflight.views');
    if (rows.length === 0) {
      return { check: VIEW_COLUMNS, ok: true, skipped: true, detail: 'skipped: no union view exists yet' };
    }
    const spelling = (r: (typeof rows)[number]) =>
      [r.data_type, r.char_length ?? r.num_precision].filter((v) => v !== null).join(' ');
    const unread = rows.filter((r) => warehouse.dialect.catalogType(r) === undefined);
    const found = [...new Set(rows.map(spelling))].slice(0, 6).join('; ');
    return unread.length === 0
      ? { check: VIEW_COLUMNS, ok: true, detail: `the catalog spells the views' column types as: ${found}` }
      : {
          check: VIEW_COLUMNS,
          ok: false,
          detail: `the catalog spells ${unread.map((r) => `${r.table_name}.${r.column_name}`).join(', ')} as ${[...new Set(unread.map(spelling))].join('; ')}, which is not read`,
          fix: 'report this spelling in an issue: until it is read, every deployment re-creates these views and grants them again',
        };
  } catch (error) {
    return {
      check: VIEW_COLUMNS,
      ok: false,
      detail: firstLine(error),
      fix: 'deploy the stack (it creates the union views)',
    };
  }
}

const RESTORE_READ = 'restore reads the archive in a transaction';

/**
 * Restore puts rows back with `INSERT INTO <hot> SELECT ... FROM <external table>` inside its ONE
 * transaction ({@link ArchiveSql.restoreTransaction}; on Redshift one BatchExecuteStatement, which
 * runs its statements as a single transaction). AWS documents that INSERT *into* an external table
 * cannot run in a transaction block (Redshift Database Developer Guide, "INSERT (external
 * table)"), and lists what a transaction block or multi-statement request refuses: external-table
 * DDL, GRANT on external resources, VACUUM and others, not a SELECT from an external table (DG,
 * SVL_MULTI_STATEMENT_VIOLATIONS). Neither that page, nor "Amazon Redshift Spectrum limitations",
 * nor "Isolation levels in Amazon Redshift" says whether a transaction may read one: not
 * documented. Users report that reading an external (Spectrum, datashare) table inside
 * `BEGIN READ ONLY` fails with "Failed to incorporate external table ... into local catalog.
 * Error=transaction is read-only", as Redshift records the table in its local catalog when first
 * resolving it (GitHub awslabs/mcp#3342, #1966, #3259): a read-write transaction, as restore's,
 * should be accepted, but that is inferred, not documented. So preflight asks the warehouse: the
 * reads of {@link ArchiveSql.restoreReadProbe} in one transaction, on a table whose hot and
 * external tables were both read above; with none (a fresh install that nothing has set up yet),
 * it says so and passes, as the checks that failed name the cause.
 */
async function restoreReadCheck(
  warehouse: Warehouse,
  sql: ArchiveSql,
  table: TableConfig | undefined,
): Promise<PreflightCheck> {
  if (!table) {
    return {
      check: RESTORE_READ,
      ok: true,
      skipped: true,
      detail:
        'skipped: no table whose hot and external tables can both be read yet (see the checks above); ' +
        'it runs once one can',
    };
  }
  try {
    await warehouse.transaction(sql.restoreReadProbe(table), 'preflight.restore');
    const detail = `the warehouse reads the external table ${table.alias} inside a transaction, as restore does`;
    return { check: RESTORE_READ, ok: true, detail };
  } catch (error) {
    return {
      check: RESTORE_READ,
      ok: false,
      detail: `restore would fail: ${firstLine(error)}`,
      fix:
        'restore needs this (runs and the union views do not): if the error says the transaction is read-only, ' +
        "let the database user's sessions write (Redshift writes its local catalog when a transaction first reads " +
        'an external table); otherwise report it in an issue with this message',
    };
  }
}

/** What the database identity may do: the dialect's probes (none where the engine has no users). */
async function accessChecks(warehouse: Warehouse, sql: ArchiveSql): Promise<PreflightCheck[]> {
  const probes = sql.accessProbes();
  if (probes.length === 0) return [];
  // Fixes name the identity as a GRANT would: quoted (an IAM identity reads like "IAMR:role").
  const user = await warehouse
    .query(sql.identityQuery(), 'preflight.identity')
    .then(([row]) => quoteReportedName(String(row?.identity)))
    .catch(() => '<the database user>');
  const checks: PreflightCheck[] = [];
  for (const probe of probes) {
    const fix = probe.fix.replace(/\{user\}/g, user);
    try {
      const [row] = await warehouse.query(probe.sql, `preflight.${probe.check}`);
      const value = String(Object.values(row ?? {})[0]).toLowerCase();
      checks.push(
        value === probe.expect
          ? { check: probe.check, ok: true, detail: probe.passed }
          : { check: probe.check, ok: false, detail: probe.failed, fix },
      );
    } catch (error) {
      checks.push({ check: probe.check, ok: false, detail: firstLine(error), fix });
    }
  }
  return checks;
}
