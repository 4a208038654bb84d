import type { ArchiveConfig } from '../config/config';
import { glueColumns } from '../core/glue-schema';
import type { ArchiveSql } from '../sql/statements';
import type { Catalog, Warehouse } from './ports';
import { schemaDifferences } from './schema-guard';

/** One read-only check of what the next run will need, and what to change when it fails. */
export interface PreflightCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  /** The exact change that makes the check pass (a GRANT to run, a setting to change). */
  readonly fix?: string;
}

/** The answer to "would the next run work, and if not, what must I change?". */
export interface PreflightReport {
  readonly ok: boolean;
  readonly checks: readonly PreflightCheck[];
}

/** Checks that only a deployment on AWS can make (role association, concurrency, the bucket). */
export type ExtraChecks = () => Promise<PreflightCheck[]>;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

/**
 * Runs every check, read only, and reports each: the configured columns against the warehouse's
 * own catalog; the commit's column guard and the row hash on every table (so an engine that
 * refuses a type or the guard's SQL fails here, not in December); the external tables; what the
 * database identity may do (the dialect's probes: none where the engine has no users); and the
 * engine's own extra checks. Nothing it sends writes.
 */
export async function preflight(
  deps: { readonly config: ArchiveConfig; readonly warehouse: Warehouse; readonly catalog: Catalog },
  sql: ArchiveSql,
  extra?: ExtraChecks,
): Promise<PreflightReport> {
  const { warehouse, catalog } = deps;
  const checks: PreflightCheck[] = [];
  const attempt = async (check: string, detail: string, run: () => Promise<void>, fix: string) => {
    try {
      await run();
      checks.push({ check, ok: true, detail });
    } catch (error) {
      checks.push({ check, ok: false, detail: message(error), fix });
    }
  };

  const differences = await schemaDifferences(deps.config, warehouse, sql);
  checks.push(
    differences.length === 0
      ? { check: 'columns', ok: true, detail: 'every configured table has exactly the configured columns' }
      : {
          check: 'columns',
          ok: false,
          detail: differences.join('; '),
          fix: 'make the configuration list every column of each table, in its order, with its type (or change the table)',
        },
  );
  const missing = new Set(
    differences.filter((d) => d.includes('does not exist')).map((d) => d.split(':')[0]),
  );
  for (const [i, table] of sql.tables.entries()) {
    if (missing.has(`tables[${deps.config.tables.indexOf(table)}]`)) continue;
    const name = `${table.schema}.${table.name}`;
    await attempt(
      `row hash ${name}`,
      'the checksum of every configured type works',
      async () => {
        await warehouse.query(sql.hashProbeQuery(table), `preflight.hash.${i}`);
      },
      'leave out of the configuration a table with a column type the engine cannot hash (and say so in an issue)',
    );
    await attempt(
      `column guard ${name}`,
      "the commit's column guard works",
      async () => {
        await warehouse.query(sql.columnGuard(table), `preflight.guard.${i}`);
      },
      'make the configuration match the table (see the columns check)',
    );
  }
  for (const table of sql.tables) {
    const declared = await catalog.tableColumns(table.name).catch((error: unknown) => message(error));
    const wanted = JSON.stringify(glueColumns(table));
    checks.push(
      typeof declared === 'string' || declared === undefined || JSON.stringify(declared) !== wanted
        ? {
            check: `catalog ${table.name}`,
            ok: false,
            detail:
              typeof declared === 'string'
                ? declared
                : declared === undefined
                  ? `the catalog has no table ${table.name.toLowerCase()}`
                  : `the catalog declares ${declared.map((c) => `${c.name} ${c.type}`).join(', ')}`,
            fix: 'deploy the stack with this configuration (it defines the catalog tables)',
          }
        : { check: `catalog ${table.name}`, ok: true, detail: 'the catalog declares the configured columns' },
    );
    await attempt(
      `external table ${table.name}`,
      'the warehouse reads the external table',
      async () => {
        await warehouse.query(sql.externalProbeQuery(table), `preflight.external.${table.name}`);
      },
      'deploy the stack (it creates the external schema over the catalog), and let the role that Redshift assumes read the catalog',
    );
  }
  const probes = sql.accessProbes();
  // Fixes name the identity as a GRANT would: quoted (an IAM identity reads like "IAMR:role").
  const user =
    probes.length === 0
      ? ''
      : await warehouse
          .query('SELECT current_user AS identity', 'preflight.identity')
          .then(([row]) => `"${String(row?.identity).replace(/"/g, '""')}"`)
          .catch(() => '<the database user>');
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
      checks.push({ check: probe.check, ok: false, detail: message(error), fix });
    }
  }
  if (extra) checks.push(...(await extra()));
  return { ok: checks.every((c) => c.ok), checks };
}
