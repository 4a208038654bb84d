import type { DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveConfig } from '../../config/config';
import type { ArchiveDeps, ProgressEvent } from '../../protocol/archive';
import { DuckDbWarehouse } from './duckdb-warehouse';
import { LocalCatalog } from './local-catalog';
import { LocalLake } from './local-lake';

/** The embedded engine: everything the protocol needs, on a laptop, with no AWS account. */
export interface LocalEngine extends ArchiveDeps {
  readonly instance: DuckDBInstance;
  readonly warehouse: DuckDbWarehouse;
  readonly lake: LocalLake;
  readonly catalog: LocalCatalog;
  /** Closes the session and the database. */
  close(): void;
}

/**
 * Opens the embedded engine on a DuckDB file (the warehouse) and a folder (the bucket).
 * @param instance - share an open database (a second session of the same warehouse)
 */
export async function openLocalEngine(options: {
  config: ArchiveConfig;
  warehousePath: string;
  lakeRoot: string;
  progress?: (event: ProgressEvent) => void;
  instance?: DuckDBInstance;
  /** Open the file read-only: nothing can be written (`plan`, `status`, `audit`, `preflight`). */
  readOnly?: boolean;
  /** The clock that timestamps runs, batches and steps (the system clock when left out). */
  clock?: () => Date;
}): Promise<LocalEngine> {
  const { config } = options;
  const opened = options.instance
    ? { instance: options.instance, warehouse: await DuckDbWarehouse.connect(options.instance) }
    : await DuckDbWarehouse.open(options.warehousePath, options.readOnly);
  const lake = new LocalLake(options.lakeRoot, config.lake.prefix, config.lake.reportsPrefix);
  const catalog = new LocalCatalog(config, LocalCatalog.fileIn(lake.root, config), opened.warehouse);
  return {
    config,
    instance: opened.instance,
    warehouse: opened.warehouse,
    lake,
    catalog,
    // No deploy step: the first run defines the catalog's tables and the union views.
    setUpByFirstRun: true,
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    close() {
      opened.warehouse.close();
      if (!options.instance) opened.instance.closeSync();
    },
  };
}
