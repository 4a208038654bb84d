import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Row, Warehouse } from '../../protocol/ports';
import { duckdbDialect } from '../../sql/duckdb-dialect';

/**
 * A DuckDB database file playing Redshift. Each warehouse is one connection; several can share
 * an instance, as several sessions share a cluster.
 */
export class DuckDbWarehouse implements Warehouse {
  readonly dialect = duckdbDialect;

  private constructor(readonly connection: DuckDBConnection) {}

  /** Opens (or creates) a database file, read-only if asked; `:memory:` for a throw-away one. */
  static async open(
    path: string,
    readOnly = false,
  ): Promise<{ instance: DuckDBInstance; warehouse: DuckDbWarehouse }> {
    const instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {});
    return { instance, warehouse: await DuckDbWarehouse.connect(instance) };
  }

  /** A new session on an open database. */
  static async connect(instance: DuckDBInstance): Promise<DuckDbWarehouse> {
    const connection = await instance.connect();
    // Casts between TIMESTAMP and TIMESTAMPTZ assume UTC, as in a Redshift session. Row order
    // means nothing to the protocol (every read that needs an order says ORDER BY), and not
    // keeping it lets DuckDB copy, delete and export in parallel with less memory.
    await connection.run(
      "LOAD icu; SET TimeZone = 'UTC'; SET preserve_insertion_order = false; SET checkpoint_threshold = '1MB'",
    );
    return new DuckDbWarehouse(connection);
  }

  async query(sql: string): Promise<Row[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJson().map((row) => {
      const out: Record<string, string | null> = {};
      for (const [key, value] of Object.entries(row)) {
        out[key.toLowerCase()] =
          value === null ? null : typeof value === 'object' ? JSON.stringify(value) : String(value);
      }
      return out;
    });
  }

  async execute(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  async transaction(sqls: readonly string[]): Promise<void> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      for (const sql of sqls) await this.connection.run(sql);
      await this.connection.run('COMMIT');
    } catch (error) {
      await this.connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Closes this session. */
  close(): void {
    this.connection.closeSync();
  }
}
