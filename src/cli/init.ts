import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfig, type WarehouseConfig } from '../config/config';
import { InputError, show } from '../core/errors';
import {
  discover,
  updateConfig,
  type CatalogReader,
  type InitReport,
  type UpdateReport,
} from '../protocol/discover';
import type { CatalogDialect } from '../sql/dialect';
import type { InitArgs } from './init-args';
import { textTable } from './render';

/** A warehouse's catalog, open for reading. */
export interface OpenCatalog {
  readonly reader: CatalogReader;
  readonly dialect: CatalogDialect;
  close(): void;
}

/** How `init` reaches a warehouse: the command line opens DuckDB or the Data API; tests may pass their own. */
export type OpenCatalogFn = (source: InitArgs['source'], warehouse: WarehouseConfig) => Promise<OpenCatalog>;

/** Where `init` prints. */
export interface InitIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/**
 * The `warehouse` section of a configuration written from a local warehouse when the command line
 * names none: Redshift Serverless's default workgroup and database, for the user to review.
 */
const LOCAL_WAREHOUSE: WarehouseConfig = {
  type: 'serverless',
  workgroupName: 'default-workgroup',
  database: 'dev',
};

const sameFile = (a: string, b: string) => {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
};

/** Refuses, before anything is read, to overwrite a file nobody asked to overwrite. */
function checkOutput(args: InitArgs): string {
  const output = args.output ?? (args.update as string);
  const updatesInPlace = args.update !== undefined && sameFile(output, args.update);
  if (output !== '-' && !args.force && !updatesInPlace && existsSync(output)) {
    throw new InputError(
      `--config: ${show(output)} exists; allowed: a file that does not exist yet, --force to overwrite it, or - for standard output`,
    );
  }
  return output;
}

function columnsOf(report: InitReport): number {
  return report.tables.reduce((n, t) => n + t.columns, 0);
}

function renderInit(report: InitReport, output: string): string {
  const table = textTable(
    ['table', 'alias', 'columns', 'archived by'],
    report.tables.map((t) => [t.table, t.alias, t.columns, t.archivedBy]),
  );
  return [
    `${output === '-' ? 'wrote to standard output' : `wrote ${output}`}: ${report.tables.length} tables, ${columnsOf(report)} columns`,
    table,
    ...(report.leftOut.length
      ? [
          `left out: ${report.leftOut.length} tables (they stay hot, and so do their descendants)`,
          ...report.leftOut.map((l) => `  ${l.table}: ${l.why}`),
        ]
      : []),
    'review before deploying:',
    ...report.review.map((r) => `  ${r}`),
  ].join('\n');
}

function renderUpdate(report: UpdateReport, output: string): string {
  return [
    report.added.length
      ? `${output === '-' ? 'wrote to standard output' : `wrote ${output}`}: ${report.added
          .map((a) => `${a.table} + ${a.columns.join(', ')}`)
          .join('; ')}`
      : `${output === '-' ? 'wrote to standard output' : `left ${output} as it was`}: no column was appended`,
    ...(report.differences.length
      ? [
          `differences init leaves to you (the schema guard refuses the configuration until they are settled): ${report.differences.length}`,
          ...report.differences.map((d) => `  ${d}`),
        ]
      : ['the configuration matches the warehouse']),
  ].join('\n');
}

/** `--update`: the configuration with the appended columns, and every other difference. */
async function produceUpdate(args: InitArgs, path: string, open: OpenCatalogFn): Promise<Produced> {
  const config = loadConfig(path, '--update');
  const file = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
  const catalog = await open(args.source, args.warehouse ?? config.warehouse);
  try {
    const report = await updateConfig(catalog.reader, catalog.dialect, file, config, '--update');
    return {
      config: report.config,
      text: (output) => renderUpdate(report, output),
      result: { added: report.added, differences: report.differences },
      code: report.differences.length ? 1 : 0,
    };
  } finally {
    catalog.close();
  }
}

/** What `init` prints and writes. */
interface Produced {
  readonly config: Record<string, unknown>;
  readonly text: (output: string) => string;
  readonly result: object;
  readonly code: 0 | 1;
}

/** The report, then the file: nothing is written when `init` fails. */
async function produce(
  args: InitArgs,
  open: OpenCatalogFn,
): Promise<{
  config: Record<string, unknown>;
  text: (output: string) => string;
  result: object;
  code: 0 | 1;
}> {
  if (args.update !== undefined) return produceUpdate(args, args.update, open);
  const warehouse = args.warehouse ?? LOCAL_WAREHOUSE;
  const catalog = await open(args.source, warehouse);
  let report: InitReport;
  try {
    report = await discover(catalog.reader, catalog.dialect, {
      scope: args.scope,
      archiveBy: args.archiveBy,
      parents: args.parents,
      warehouse,
      database: warehouse.database,
    });
  } finally {
    catalog.close();
  }
  if (!report.config) {
    throw new InputError(
      `--schema/--tables: no table they name can be archived; allowed: tables init can take\n${report.leftOut
        .map((l) => `  ${l.table}: ${l.why}`)
        .join('\n')}`,
    );
  }
  const review = args.warehouse
    ? report.review
    : [
        `warehouse: Serverless workgroup ${show(LOCAL_WAREHOUSE.type === 'serverless' ? LOCAL_WAREHOUSE.workgroupName : '')}, ` +
          'database "dev" (Redshift Serverless\'s defaults, as --local names no warehouse): set yours before deploying, ' +
          'or give --cluster or --workgroup and --database with --local',
        ...report.review,
      ];
  return {
    config: report.config,
    text: (output) => renderInit({ ...report, review }, output),
    result: { tables: report.tables, leftOut: report.leftOut, review },
    code: 0,
  };
}

/**
 * `redshift-archive init`: reads the warehouse's catalog, then writes the configuration to
 * `--config` (or standard output) and says what it did; with `--json`, one JSON object on
 * standard output (the configuration in `config`).
 * @returns the exit code: 0 written, 1 written by `--update` with differences left to the user
 * @throws InputError naming the argument, before anything is written
 */
export async function runInit(args: InitArgs, open: OpenCatalogFn, io: InitIo): Promise<number> {
  const output = checkOutput(args);
  const { config, text, result, code } = await produce(args, open);
  const json = `${JSON.stringify(config, null, 2)}\n`;
  if (output !== '-') {
    // Whole or not at all: a file cut short would be read as a configuration with fewer tables.
    const part = `${output}.${process.pid}.part`;
    await writeFile(part, json);
    await rename(part, output);
  }
  if (args.json) io.stdout(JSON.stringify({ written: output, ...result, config }));
  else if (output === '-') {
    io.stdout(json.trimEnd());
    io.stderr(text(output));
  } else io.stdout(text(output));
  return code;
}
